import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { useSession } from "../session-context.tsx";
import { CreatePrincipalForm } from "./admin/CreatePrincipalForm.tsx";
import { PrincipalRow } from "./admin/PrincipalRow.tsx";
import { TokensPanel } from "./admin/TokensPanel.tsx";

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
      <table className="principals">
        <caption className="visually-hidden">Principals</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Flags</th>
            <th scope="col">State</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(principals.data ?? []).map((p) => (
            <PrincipalRow
              key={p.id}
              principal={p}
              selected={p.id === selected}
              onSelect={() => setSelected(p.id)}
              isMe={p.id === me.id}
            />
          ))}
        </tbody>
      </table>
      {chosen && <TokensPanel principal={chosen} />}
    </section>
  );
}
