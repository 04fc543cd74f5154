import { loadAgent } from "../access.ts";
import { authenticate, type Caller } from "../auth.ts";
import type { Context } from "../context.ts";
import { DomainError } from "../errors.ts";
import type { FeedHub, HEARTBEAT } from "../feed.ts";
import type { ChangeEvent, WatchInput } from "../schemas/event.ts";

export type Watcher = Context & { principal: Caller };

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
  const feed: FeedHub | null = ctx.feed;
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
