import { loadAgent } from "../access.ts";
import { authenticate, type Caller } from "../auth.ts";
import { DomainError } from "../errors.ts";
import type { ChangeEvent, WatchInput } from "../schemas/event.ts";
import type { Actor } from "./actor.ts";

export interface WatchOptions {
  principal: Caller;
  agentId?: string | null;
  /** Resume after this id; absent, the stream starts with the next change. */
  lastEventId?: number | null;
  /** Re-reads the caller's principal (null once its token is revoked or it is disabled). */
  reauthenticate: () => Promise<Caller | null>;
  /** Streams with the same key share one re-check per heartbeat (e.g. the token). */
  authKey?: string | null;
  signal?: AbortSignal | undefined;
  /** Ends the connection at once (a subscriber so slow its writes no longer drain). */
  abortConnection?: (() => void) | null;
}

/** A keep-alive tick: emitted when nothing happened for a heartbeat interval. */
export const HEARTBEAT = Symbol("heartbeat");

/** The process's change feed, as the rules see it (the workers' FeedHub is one). */
export interface ChangeFeed {
  watch(opts: WatchOptions): AsyncGenerator<ChangeEvent | typeof HEARTBEAT>;
}

/** Who sees an event: admins all; an agent key its own agent's; others the agents they could read at commit. */
export function canSee(principal: Caller, agentId: string | null, readers: ReadonlySet<string>): boolean {
  if (principal.admin) return true;
  if (agentId === null) return true;
  if (principal.kind === "agent") return principal.agent_id === agentId;
  return readers.has(principal.id);
}

export type Watcher = Pick<Actor, "db" | "principal"> & {
  feed: ChangeFeed | null;
  /** The caller's bearer credential, re-checked at every heartbeat. */
  token: string | null;
  abortConnection: (() => void) | null;
};

/**
 * Opens a change-feed stream for the caller: checks the agent filter (404 for
 * an agent it may not read, as everywhere), then streams from the hub, which
 * re-checks the token at every heartbeat and shows each event only to the
 * principals that could read its agent when it committed (plus admins).
 */
export async function openWatch(
  ctx: Watcher,
  input: WatchInput,
  signal: AbortSignal | undefined,
): Promise<AsyncGenerator<ChangeEvent | typeof HEARTBEAT>> {
  const feed = ctx.feed;
  if (!feed) throw new DomainError("unavailable", "the change feed is not running on this server");
  if (input.agent_id) await loadAgent(ctx.db, ctx.principal, { id: input.agent_id }, "read");
  const token = ctx.token;
  const principal = ctx.principal;
  return feed.watch({
    principal,
    agentId: input.agent_id ?? null,
    lastEventId:
      input.lastEventId === undefined || input.lastEventId === null ? null : Number(input.lastEventId),
    reauthenticate: async () => (token ? authenticate(ctx.db, token) : principal),
    authKey: token,
    signal,
    abortConnection: ctx.abortConnection,
  });
}
