import { useQuery } from "@tanstack/react-query";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { useLiveInvalidation } from "../live.ts";
import { href } from "../router.ts";
import { useSession } from "../session-context.tsx";
import { DeploymentsSection } from "./agent/DeploymentsSection.tsx";
import { KeysSection } from "./agent/KeysSection.tsx";
import { LedgerSection } from "./agent/LedgerSection.tsx";
import { SharingSection } from "./agent/SharingSection.tsx";

export function AgentPage({ agentId }: { agentId: string }) {
  const { client } = useSession();
  const live = useLiveInvalidation(agentId);
  const agent = useQuery({
    queryKey: ["agent", agentId],
    queryFn: () => client.agents.get.query({ agent_id: agentId }),
  });
  const access = useQuery({
    queryKey: ["agent", agentId, "permissions"],
    queryFn: () => client.agents.permissions.query({ agent_id: agentId }),
  });

  if (agent.error) {
    return (
      <section>
        <p>
          <a href={href({ page: "agents" })}>← All agents</a>
        </p>
        <ErrorNote error={agent.error} />
      </section>
    );
  }
  if (!agent.data || !access.data) return <p role="status">Loading agent…</p>;
  const a = agent.data;
  const can = new Set(access.data.actions);
  const production = a.production_deployment_id;

  return (
    <article aria-labelledby="agent-title">
      <p>
        <a href={href({ page: "agents" })}>← All agents</a>
      </p>
      <header className="agent-head">
        <h1 id="agent-title">{a.name}</h1>
        <StatusBadge status={a.status} />
        <span className={`live live-${live}`} role="status" aria-label={`Live updates: ${live}`}>
          {live === "live" ? "● live" : live === "connecting" ? "○ connecting" : "○ offline"}
        </span>
      </header>
      <p>{a.description || <em>No description.</em>}</p>
      {a.status_reason && <p className="reason">{a.status_reason}</p>}
      <dl className="fields">
        <dt>Id</dt>
        <dd className="mono">{a.id}</dd>
        <dt>Production deployment</dt>
        <dd className="mono" data-testid="production-deployment">
          {production ?? "none"}
        </dd>
        <dt>Production URL</dt>
        <dd className="mono" data-testid="production-url">
          {a.acp_url ?? "none"}
        </dd>
        <dt>ACP type</dt>
        <dd>{a.acp_type}</dd>
        <dt>Registered</dt>
        <dd>{a.registered_at ? new Date(a.registered_at).toLocaleString() : "never"}</dd>
        <dt>Created</dt>
        <dd>{new Date(a.created_at).toLocaleString()}</dd>
        <dt>Your role</dt>
        <dd data-testid="my-role">{access.data.role}</dd>
      </dl>

      <DeploymentsSection agent={a} canDeploy={can.has("deploy")} />
      <LedgerSection agentId={a.id} />
      {can.has("own") && <SharingSection agentId={a.id} />}
      {can.has("own") && <KeysSection agentId={a.id} />}
    </article>
  );
}
