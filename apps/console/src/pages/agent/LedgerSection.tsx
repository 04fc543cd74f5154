import { useInfiniteQuery } from "@tanstack/react-query";
import { ErrorNote } from "../../components/ErrorNote.tsx";
import { useSession } from "../../session-context.tsx";

const KIND_LABEL: Record<string, string> = {
  promote: "Promoted",
  rollback: "Rolled back",
  cleared: "Cleared by a legacy register",
};

function short(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : "none";
}

/** Every production change of this agent, newest first: who, what, when and why. */
export function LedgerSection({ agentId }: { agentId: string }) {
  const { client } = useSession();
  const ledger = useInfiniteQuery({
    queryKey: ["agent", agentId, "promotions"],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      client.promotions.list.query({ agent_id: agentId, limit: 20, cursor: pageParam }),
    getNextPageParam: (last) => last.next_cursor,
  });
  const rows = ledger.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="ledger-title">
      <h2 id="ledger-title">Promotion ledger</h2>
      {ledger.error && <ErrorNote error={ledger.error} />}
      <ol className="timeline" aria-label="Production changes, newest first">
        {rows.map((r) => (
          <li key={r.id} data-kind={r.kind}>
            <time dateTime={r.at}>{new Date(r.at).toLocaleString()}</time>
            <span className="what">
              <strong>{KIND_LABEL[r.kind] ?? r.kind}</strong>:{" "}
              <span className="mono">{short(r.from_deployment_id)}</span> →{" "}
              <span className="mono">{short(r.to_deployment_id)}</span>
            </span>
            <span className="who">
              by {r.actor.name} ({r.actor.kind})
            </span>
            {r.reason && <span className="why">“{r.reason}”</span>}
          </li>
        ))}
        {ledger.data && rows.length === 0 && <li className="empty">No production changes yet.</li>}
      </ol>
      {ledger.hasNextPage && (
        <button
          type="button"
          onClick={() => void ledger.fetchNextPage()}
          disabled={ledger.isFetchingNextPage}
        >
          Older changes
        </button>
      )}
    </section>
  );
}
