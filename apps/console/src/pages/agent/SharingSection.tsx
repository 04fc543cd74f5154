import type { AgentRole } from "@agentex/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ActionButton } from "../../components/ActionButton.tsx";
import { ErrorNote } from "../../components/ErrorNote.tsx";
import { Flash } from "../../components/Flash.tsx";
import { useSession } from "../../session-context.tsx";
import { DataTable } from "../../components/DataTable.tsx";

const ROLES: AgentRole[] = ["viewer", "deployer", "owner"];

/** Who may do what on this agent. An agent always keeps one owner: the server enforces it (409), the page explains it. */
export function SharingSection({ agentId }: { agentId: string }) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [flash, setFlash] = useState<string | null>(null);
  const [principalId, setPrincipalId] = useState("");
  const [role, setRole] = useState<AgentRole>("viewer");
  const principalField = useId();
  const roleField = useId();
  const grants = useQuery({
    queryKey: ["agent", agentId, "grants"],
    queryFn: () => client.grants.list.query({ agent_id: agentId }),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["agent", agentId, "grants"] });

  const set = useMutation({
    mutationFn: (v: { principal_id: string; role: AgentRole }) =>
      client.grants.set.mutate({ agent_id: agentId, ...v }),
    onSuccess: (g) => {
      setFlash(`Granted ${g.role} to ${g.principal_id}.`);
      setPrincipalId("");
      void refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (principal_id: string) => client.grants.revoke.mutate({ agent_id: agentId, principal_id }),
    onSuccess: (_r, id) => {
      setFlash(`Removed the grant of ${id}.`);
      void refresh();
    },
  });
  const owners = (grants.data ?? []).filter((g) => g.role === "owner").length;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (principalId.trim()) set.mutate({ principal_id: principalId.trim(), role });
  };

  return (
    <section aria-labelledby="sharing-title">
      <h2 id="sharing-title">Sharing</h2>
      <p className="hint">
        An agent always keeps at least one owner: make someone else owner before removing the last one.
      </p>
      <Flash message={flash} />
      {grants.error && <ErrorNote error={grants.error} />}
      {(set.error ?? revoke.error) && <ErrorNote error={set.error ?? revoke.error} />}
      <DataTable
        className="grants"
        caption="Grants on this agent"
        headers={["Principal", "Role", "Granted", "Action"]}
      >
        {(grants.data ?? []).map((g) => {
          const lastOwner = g.role === "owner" && owners <= 1;
          return (
            <tr key={g.principal_id} data-principal={g.principal_id}>
              <td className="mono">{g.principal_id}</td>
              <td>{g.role}</td>
              <td>
                <time dateTime={g.created_at}>{new Date(g.created_at).toLocaleString()}</time>
              </td>
              <td>
                <ActionButton
                  pending={revoke.isPending && revoke.variables === g.principal_id}
                  disabled={lastOwner}
                  title={lastOwner ? "The last owner cannot be removed" : undefined}
                  aria-label={`Remove ${g.role} grant of ${g.principal_id}`}
                  onClick={() => revoke.mutate(g.principal_id)}
                >
                  Remove
                </ActionButton>
                {lastOwner && <span className="hint"> last owner</span>}
              </td>
            </tr>
          );
        })}
      </DataTable>
      <form className="inline" onSubmit={submit} aria-label="Share this agent">
        <label htmlFor={principalField}>Principal id</label>
        <input
          id={principalField}
          value={principalId}
          onChange={(e) => setPrincipalId(e.target.value)}
          required
          spellCheck={false}
        />
        <label htmlFor={roleField}>Role</label>
        <select id={roleField} value={role} onChange={(e) => setRole(e.target.value as AgentRole)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
        <button type="submit" disabled={set.isPending || !principalId.trim()} aria-busy={set.isPending}>
          {set.isPending ? "Sharing…" : "Share"}
        </button>
      </form>
    </section>
  );
}
