import { authorize } from "../access.ts";
import { authenticate, type Caller } from "../auth.ts";
import type { Context } from "../context.ts";
import { DomainError, notFound } from "../errors.ts";
import { HEARTBEAT, type FeedHub } from "../feed.ts";
import { findLiveAgentById } from "../queries/agents.ts";
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
  if (input.agent_id) {
    const agent = await findLiveAgentById(ctx.db, input.agent_id);
    if (!agent) throw notFound("Agent", input.agent_id);
    await authorize(ctx.db, ctx.principal, agent, "read", input.agent_id);
  }
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
