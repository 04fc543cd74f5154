import type { AgentStatus } from "@agentex/client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { useLiveInvalidation } from "../live.ts";
import { href } from "../router.ts";
import { useSession } from "../session-context.tsx";
import { DataTable } from "../components/DataTable.tsx";

/** The statuses an operator filters by; Unknown is shown in "all" and counted, Deleted never listed. */
type Filter = Extract<AgentStatus, "BuildOnly" | "Ready" | "Unhealthy" | "Failed"> | "all";
const FILTERS: Filter[] = ["all", "BuildOnly", "Ready", "Unhealthy", "Failed"];
const PAGE_SIZE = 25;

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}

export function AgentsPage() {
  const { client } = useSession();
  const [status, setStatus] = useState<Filter>("all");
  const [search, setSearch] = useState("");
  const name = useDebounced(search.trim().toLowerCase(), 250);
  const searchId = useId();
  useLiveInvalidation(null);

  const counts = useQuery({ queryKey: ["agents", "counts"], queryFn: () => client.agents.counts.query() });
  const list = useInfiniteQuery({
    queryKey: ["agents", "list", status, name],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      client.agents.listPage.query({
        limit: PAGE_SIZE,
        order_by: "name",
        order_direction: "asc",
        ...(status === "all" ? {} : { status }),
        ...(name ? { search: name } : {}),
        cursor: pageParam,
      }),
    getNextPageParam: (last) => last.next_cursor,
  });
  const agents = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents</h1>
      <div className="toolbar">
        <div role="group" aria-label="Filter by status" className="filters">
          {FILTERS.map((f) => {
            const count = f === "all" ? counts.data?.total : counts.data?.by_status[f];
            return (
              <button
                key={f}
                type="button"
                aria-pressed={status === f}
                className={status === f ? "filter active" : "filter"}
                onClick={() => setStatus(f)}
              >
                {f === "all" ? "All" : f}
                <span className="count" aria-label={`${count ?? 0} agents`}>
                  {count ?? "…"}
                </span>
              </button>
            );
          })}
        </div>
        <div className="search">
          <label htmlFor={searchId}>Search by name</label>
          <input
            id={searchId}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="e.g. support"
          />
        </div>
      </div>

      {list.error && <ErrorNote error={list.error} />}
      {counts.error && <ErrorNote error={counts.error} />}
      <DataTable
        className="agents"
        caption="Agents you can read"
        headers={["Name", "Status", "Production URL", "Description", "Updated"]}
      >
        {agents.map((a) => (
          <tr key={a.id} data-agent={a.name}>
            <td>
              <a href={href({ page: "agent", id: a.id })}>{a.name}</a>
            </td>
            <td>
              <StatusBadge status={a.status} />
            </td>
            <td className="mono">{a.acp_url ?? "—"}</td>
            <td>{a.description}</td>
            <td>
              <time dateTime={a.updated_at}>{new Date(a.updated_at).toLocaleString()}</time>
            </td>
          </tr>
        ))}
        {!list.isPending && agents.length === 0 && (
          <tr>
            <td colSpan={5} className="empty">
              No agents match.
            </td>
          </tr>
        )}
      </DataTable>
      {list.isPending && <p role="status">Loading agents…</p>}
      {list.hasNextPage && (
        <button
          type="button"
          onClick={() => void list.fetchNextPage()}
          disabled={list.isFetchingNextPage}
          aria-busy={list.isFetchingNextPage}
        >
          {list.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </section>
  );
}
