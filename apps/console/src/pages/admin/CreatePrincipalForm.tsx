import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ErrorNote } from "../../components/ErrorNote.tsx";
import { Flash } from "../../components/Flash.tsx";
import { useSession } from "../../session-context.tsx";

export function CreatePrincipalForm() {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"user" | "service_account">("user");
  const [canCreate, setCanCreate] = useState(false);
  const [issued, setIssued] = useState<{ name: string; token: string } | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const ids = { name: useId(), kind: useId(), create: useId() };
  const create = useMutation({
    mutationFn: () =>
      client.principals.create.mutate({
        name: name.trim(),
        kind,
        admin: false,
        can_create_agents: canCreate,
      }),
    onSuccess: (p) => {
      setIssued({ name: p.name, token: p.token });
      setFlash(`Created ${p.name}.`);
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["principals"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <form className="inline" onSubmit={submit} aria-label="Create a principal">
      <label htmlFor={ids.name}>Name</label>
      <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} required />
      <label htmlFor={ids.kind}>Kind</label>
      <select
        id={ids.kind}
        value={kind}
        onChange={(e) => setKind(e.target.value as "user" | "service_account")}
      >
        <option value="user">user</option>
        <option value="service_account">service_account</option>
      </select>
      <label htmlFor={ids.create}>
        <input
          id={ids.create}
          type="checkbox"
          checked={canCreate}
          onChange={(e) => setCanCreate(e.target.checked)}
        />{" "}
        may create agents
      </label>
      <button type="submit" disabled={create.isPending || !name.trim()} aria-busy={create.isPending}>
        {create.isPending ? "Creating…" : "Create principal"}
      </button>
      <Flash message={flash} />
      {create.error && <ErrorNote error={create.error} />}
      {issued && (
        <div className="secret" role="region" aria-label="New principal's token">
          <p>
            The first token of <strong>{issued.name}</strong>, shown once:
          </p>
          <code data-testid="new-token">{issued.token}</code>{" "}
          <button type="button" onClick={() => setIssued(null)}>
            I have copied it
          </button>
        </div>
      )}
    </form>
  );
}
