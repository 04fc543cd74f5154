import type { Principal } from "@agentex/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ActionButton } from "../../components/ActionButton.tsx";
import { ErrorNote } from "../../components/ErrorNote.tsx";
import { Flash } from "../../components/Flash.tsx";
import { useSession } from "../../session-context.tsx";
import { DataTable } from "../../components/DataTable.tsx";

const EXPIRIES = [
  { label: "never", seconds: null },
  { label: "1 hour", seconds: 3600 },
  { label: "1 day", seconds: 86_400 },
  { label: "30 days", seconds: 30 * 86_400 },
  { label: "90 days", seconds: 90 * 86_400 },
] as const;

export function TokensPanel({ principal }: { principal: Principal }) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState<number>(1);
  const [issued, setIssued] = useState<string | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const ids = { name: useId(), expiry: useId() };
  const key = ["principals", principal.id, "tokens"];
  const tokens = useQuery({
    queryKey: key,
    queryFn: () => client.tokens.list.query({ principal_id: principal.id }),
  });
  const create = useMutation({
    mutationFn: () => {
      const seconds = EXPIRIES[expiry]?.seconds ?? null;
      return client.tokens.create.mutate({
        principal_id: principal.id,
        name: name.trim() || null,
        ...(seconds ? { expires_in_seconds: seconds } : {}),
      });
    },
    onSuccess: (t) => {
      setIssued(t.token);
      setFlash(`Issued a token for ${principal.name}.`);
      setName("");
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const revoke = useMutation({
    mutationFn: (token_id: string) => client.tokens.revoke.mutate({ token_id }),
    onSuccess: () => {
      setFlash("Token revoked.");
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section aria-labelledby="tokens-title">
      <h2 id="tokens-title">Tokens of {principal.name}</h2>
      <Flash message={flash} />
      {(tokens.error ?? create.error ?? revoke.error) && (
        <ErrorNote error={tokens.error ?? create.error ?? revoke.error} />
      )}
      <DataTable
        className="tokens"
        caption={`Live tokens of ${principal.name}`}
        headers={["Name", "Prefix", "Created", "Expires", "Action"]}
      >
        {(tokens.data ?? []).map((t) => (
          <tr key={t.id}>
            <td>{t.name ?? "—"}</td>
            <td className="mono">{t.token_prefix}…</td>
            <td>{new Date(t.created_at).toLocaleString()}</td>
            <td>{t.expires_at ? new Date(t.expires_at).toLocaleString() : "never"}</td>
            <td>
              <ActionButton
                pending={revoke.isPending && revoke.variables === t.id}
                onClick={() => revoke.mutate(t.id)}
                aria-label={`Revoke token ${t.name ?? t.id}`}
              >
                Revoke
              </ActionButton>
            </td>
          </tr>
        ))}
      </DataTable>
      <form className="inline" onSubmit={submit} aria-label={`Issue a token for ${principal.name}`}>
        <label htmlFor={ids.name}>Token name</label>
        <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor={ids.expiry}>Expires</label>
        <select id={ids.expiry} value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
          {EXPIRIES.map((x, i) => (
            <option key={x.label} value={i}>
              {x.label === "never" ? "never" : `in ${x.label}`}
            </option>
          ))}
        </select>
        <button type="submit" disabled={create.isPending} aria-busy={create.isPending}>
          {create.isPending ? "Issuing…" : "Issue token"}
        </button>
      </form>
      {issued && (
        <div className="secret" role="region" aria-label="New token">
          <p>The new token, shown once:</p>
          <code data-testid="issued-token">{issued}</code>{" "}
          <button type="button" onClick={() => setIssued(null)}>
            I have copied it
          </button>
        </div>
      )}
    </section>
  );
}
