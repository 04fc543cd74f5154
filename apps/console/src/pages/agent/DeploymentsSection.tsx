import type { Agent, Deployment } from "@agentex/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "../../api.ts";
import { ActionButton } from "../../components/ActionButton.tsx";
import { ConfirmDialog } from "../../components/ConfirmDialog.tsx";
import { ErrorNote } from "../../components/ErrorNote.tsx";
import { Flash } from "../../components/Flash.tsx";
import { StatusBadge } from "../../components/StatusBadge.tsx";
import { useSession } from "../../session-context.tsx";
import { DataTable } from "../../components/DataTable.tsx";

/** What the operator reviewed in the dialog: `expected` is production as the dialog showed it. */
type Pending =
  | { kind: "promote"; to: Deployment; expected: string | null }
  | { kind: "rollback"; expected: string | null };

function short(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : "none";
}

/**
 * The deployments table with Promote and Rollback. Both send the production
 * deployment this page showed as `expected_current_deployment_id`: if someone
 * else changed production meanwhile, the server refuses (409
 * PRODUCTION_CHANGED) and the page says so instead of overwriting their change.
 */
export function DeploymentsSection({ agent, canDeploy }: { agent: Agent; canDeploy: boolean }) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [pending, setPending] = useState<Pending | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const deployments = useQuery({
    queryKey: ["agent", agent.id, "deployments"],
    queryFn: () => client.deployments.listPage.query({ agent_id: agent.id, limit: 100 }),
  });
  const byId = new Map((deployments.data?.items ?? []).map((d) => [d.id, d]));
  const current = agent.production_deployment_id;

  const refresh = () => queryClient.invalidateQueries({ queryKey: ["agent", agent.id] });
  const action = useMutation({
    mutationFn: async (p: Pending) => {
      if (p.kind === "promote") {
        return client.deployments.promote.mutate({
          agent_id: agent.id,
          deployment_id: p.to.id,
          expected_current_deployment_id: p.expected,
          reason: "promoted from the console",
        });
      }
      const { deployment } = await client.promotions.rollback.mutate({
        agent_id: agent.id,
        expected_current_deployment_id: p.expected,
        reason: "rolled back from the console",
      });
      return deployment;
    },
    onSuccess: (deployment, p) => {
      setPending(null);
      setFlash(
        p.kind === "promote"
          ? `Promoted ${short(deployment.id)} to production.`
          : `Rolled back: ${short(deployment.id)} is production again.`,
      );
      void refresh();
      void queryClient.invalidateQueries({ queryKey: ["agents"] });
    },
    onError: () => {
      setPending(null);
      void refresh();
    },
  });
  const err = action.error ? describeError(action.error) : null;
  const productionChanged = err?.code === "PRODUCTION_CHANGED";

  return (
    <section aria-labelledby="deployments-title">
      <h2 id="deployments-title">Deployments</h2>
      {canDeploy && current && (
        <ActionButton
          pending={action.isPending && action.variables?.kind === "rollback"}
          onClick={() => setPending({ kind: "rollback", expected: current })}
        >
          Roll back
        </ActionButton>
      )}
      <Flash message={flash} />
      {productionChanged ? (
        <div className="error" role="alert">
          <strong>Production changed</strong>: someone else changed this agent's production deployment since
          this page loaded, so nothing was done. The page now shows the current state; review it and try
          again.
          {err?.requestId && (
            <span className="request-id">
              {" "}
              (request id <code>{err.requestId}</code>)
            </span>
          )}
        </div>
      ) : (
        action.error && <ErrorNote error={action.error} />
      )}
      {deployments.error && <ErrorNote error={deployments.error} />}
      <DataTable
        className="deployments"
        caption={`Deployments of ${agent.name}, newest first`}
        headers={["Deployment", "Status", "Image", "URL", "Created", "Production", canDeploy && "Action"]}
      >
        {(deployments.data?.items ?? []).map((d) => (
          <tr key={d.id} data-deployment={d.id} className={d.id === current ? "is-production" : undefined}>
            <td className="mono" title={d.id}>
              {short(d.id)}
            </td>
            <td>
              <StatusBadge status={d.status} />
            </td>
            <td className="mono">{d.docker_image ?? "—"}</td>
            <td className="mono">{d.acp_url ?? "—"}</td>
            <td>
              <time dateTime={d.created_at}>{new Date(d.created_at).toLocaleString()}</time>
            </td>
            <td>{d.id === current ? <strong>production</strong> : "no"}</td>
            {canDeploy && (
              <td>
                {d.id !== current && d.status === "Ready" && (
                  <ActionButton
                    pending={
                      action.isPending &&
                      action.variables?.kind === "promote" &&
                      action.variables.to.id === d.id
                    }
                    onClick={() => setPending({ kind: "promote", to: d, expected: current })}
                    aria-label={`Promote deployment ${short(d.id)}`}
                  >
                    Promote
                  </ActionButton>
                )}
              </td>
            )}
          </tr>
        ))}
        {deployments.data && deployments.data.items.length === 0 && (
          <tr>
            <td colSpan={canDeploy ? 7 : 6} className="empty">
              No deployments yet.
            </td>
          </tr>
        )}
      </DataTable>

      {pending && (
        <ConfirmDialog
          title={pending.kind === "promote" ? "Promote to production?" : "Roll back production?"}
          confirmLabel={pending.kind === "promote" ? "Promote" : "Roll back"}
          pending={action.isPending}
          onCancel={() => setPending(null)}
          onConfirm={() => action.mutate(pending)}
        >
          {pending.kind === "promote" ? (
            <p className="cutover">
              <span className="mono">{short(pending.expected)}</span>
              {pending.expected && byId.get(pending.expected)?.acp_url
                ? ` (${byId.get(pending.expected)?.acp_url})`
                : ""}{" "}
              → <span className="mono">{short(pending.to.id)}</span> ({pending.to.acp_url ?? "no URL"})
            </p>
          ) : (
            <p className="cutover">
              <span className="mono">{short(pending.expected)}</span> → the previous production deployment in
              the ledger
            </p>
          )}
          {pending.expected !== current && (
            <p className="notice" role="status">
              Production changed while this dialog was open (now{" "}
              <span className="mono">{short(current)}</span>). Confirming will be refused; cancel and review.
            </p>
          )}
          <p>
            Traffic forwarded to {agent.name} moves at once. Nothing is done if production changed meanwhile.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
