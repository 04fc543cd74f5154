import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { useSession } from "../session-context.tsx";
import { CreatePrincipalForm } from "./admin/CreatePrincipalForm.tsx";
import { PrincipalRow } from "./admin/PrincipalRow.tsx";
import { TokensPanel } from "./admin/TokensPanel.tsx";
import { DataTable } from "../components/DataTable.tsx";

/** Admins only (the server refuses everyone else anyway): principals and their tokens. */
export function AdminPage() {
  const { client, me } = useSession();
  const [selected, setSelected] = useState<string | null>(null);
  const principals = useQuery({
    queryKey: ["principals"],
    queryFn: () => client.principals.list.query(),
    enabled: me.admin,
  });
  if (!me.admin) return <p>Only admins manage principals and tokens.</p>;
  const chosen = principals.data?.find((p) => p.id === selected) ?? null;
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Principals &amp; tokens</h1>
      <CreatePrincipalForm />
      {principals.error && <ErrorNote error={principals.error} />}
      <DataTable
        className="principals"
        caption="Principals"
        headers={["Name", "Kind", "Flags", "State", "Actions"]}
      >
        {(principals.data ?? []).map((p) => (
          <PrincipalRow
            key={p.id}
            principal={p}
            selected={p.id === selected}
            onSelect={() => setSelected(p.id)}
            isMe={p.id === me.id}
          />
        ))}
      </DataTable>
      {chosen && <TokensPanel principal={chosen} />}
    </section>
  );
}
