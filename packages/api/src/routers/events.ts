import { ChangeEvent, HEARTBEAT, WatchInput, domainErrorOf, openWatch } from "@agentex/core";
import { toTRPCError } from "../errors.ts";
import { tracked } from "@trpc/server";
import { authedProcedure, router } from "../trpc.ts";

export const eventsRouter = router({
  /**
   * The live change feed over SSE (tRPC's httpSubscriptionLink). Each event
   * is tracked by its id, so a reconnecting client resumes after the last one
   * it saw (`lastEventId`); the same stream is `GET /api/events`.
   */
  watch: authedProcedure.input(WatchInput).subscription(async function* ({ ctx, input, signal }) {
    try {
      const stream = await openWatch(ctx, input, signal);
      for await (const item of stream) {
        if (item === HEARTBEAT) continue; // tRPC sends its own pings
        const event = ChangeEvent.parse(item);
        yield tracked(String(event.id), event);
      }
    } catch (err) {
      // A subscription's body runs after the middlewares have returned, so it maps its own domain errors.
      const domain = domainErrorOf(err);
      throw domain ? toTRPCError(domain) : err;
    }
  }),
});
