import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ActionButton } from "../../components/ActionButton.tsx";
import { ErrorNote } from "../../components/ErrorNote.tsx";
import { Flash } from "../../components/Flash.tsx";
import { useSession } from "../../session-context.tsx";
import { DataTable } from "../../components/DataTable.tsx";

const TYPES = ["external", "github", "slack"] as const;

/** The agent's API keys. A new key's value is shown once, here, and never again (only its hash is stored). */
export function KeysSection({ agentId }: { agentId: string }) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [flash, setFlash] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [type, setType] = useState<(typeof TYPES)[number]>("external");
  const [shown, setShown] = useState<{ name: string; value: string } | null>(null);
  const nameField = useId();
  const typeField = useId();
  const keys = useQuery({
    queryKey: ["agent", agentId, "keys"],
    queryFn: () => client.agentApiKeys.list.query({ agent_id: agentId }),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["agent", agentId, "keys"] });

  const create = useMutation({
    mutationFn: () =>
      client.agentApiKeys.create.mutate({ agent_id: agentId, name: name.trim(), api_key_type: type }),
    onSuccess: (k) => {
      setShown({ name: k.name, value: k.api_key });
      setFlash(`Created key ${k.name}. Copy it now: it is not shown again.`);
      setName("");
      void refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => client.agentApiKeys.revoke.mutate({ id }),
    onSuccess: (_r, id) => {
      setFlash(`Revoked key ${id}.`);
      void refresh();
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <Flash message={flash} />
      {shown && (
        <div className="secret" role="region" aria-label="New API key">
          <p>
            The value of <strong>{shown.name}</strong>, shown once:
          </p>
          <code data-testid="new-key">{shown.value}</code>{" "}
          <button type="button" onClick={() => setShown(null)}>
            I have copied it
          </button>
        </div>
      )}
      {keys.error && <ErrorNote error={keys.error} />}
      {(create.error ?? revoke.error) && <ErrorNote error={create.error ?? revoke.error} />}
      <DataTable
        className="keys"
        caption="Live API keys of this agent"
        headers={["Name", "Type", "Prefix", "Created", "Action"]}
      >
        {(keys.data ?? []).map((k) => (
          <tr key={k.id} data-key={k.name}>
            <td>{k.name}</td>
            <td>{k.api_key_type}</td>
            <td className="mono">{k.key_prefix}…</td>
            <td>
              <time dateTime={k.created_at}>{new Date(k.created_at).toLocaleString()}</time>
            </td>
            <td>
              {k.api_key_type !== "internal" && (
                <ActionButton
                  pending={revoke.isPending && revoke.variables === k.id}
                  aria-label={`Revoke key ${k.name}`}
                  onClick={() => revoke.mutate(k.id)}
                >
                  Revoke
                </ActionButton>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      <form className="inline" onSubmit={submit} aria-label="Create an API key">
        <label htmlFor={nameField}>Key name</label>
        <input id={nameField} value={name} onChange={(e) => setName(e.target.value)} required />
        <label htmlFor={typeField}>Type</label>
        <select
          id={typeField}
          value={type}
          onChange={(e) => setType(e.target.value as (typeof TYPES)[number])}
        >
          {TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <button type="submit" disabled={create.isPending || !name.trim()} aria-busy={create.isPending}>
          {create.isPending ? "Creating…" : "Create key"}
        </button>
      </form>
    </section>
  );
}
