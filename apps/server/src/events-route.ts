import { createContextInner, wireError } from "@agentex/api";
import { type FeedHub } from "@agentex/workers";
import {
  authenticate,
  DomainError,
  HEARTBEAT,
  invalid,
  openWatch,
  unauthenticated,
  WatchInput,
} from "@agentex/core";
import type { Database } from "@agentex/db";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { sendFailure } from "./rest-errors.ts";

/**
 * `GET /api/events`: the change feed as `text/event-stream`, the same stream
 * as the tRPC subscription `events.watch`. Each event is
 * `id: <n>` / `event: <type>` / `data: <ChangeEvent JSON>`; a quiet stream
 * gets a `: keep-alive` comment every heartbeat. Resume with the
 * `Last-Event-ID` header (EventSource sends it) or `?last_event_id=`.
 * Errors before the stream opens are ordinary JSON error bodies (401, 404,
 * 422, 429); a stream that ends for a reason (token revoked, too slow,
 * shutdown) ends with `event: error` carrying `{code, message}`.
 */
export function installEventsRoute(
  app: FastifyInstance,
  opts: {
    database: Database;
    secretKey: Buffer;
    feed: FeedHub;
    bearer: (req: FastifyRequest) => string | null;
  },
) {
  app.get("/api/events", async (req, reply) => {
    const token = opts.bearer(req);
    const principal = token ? await authenticate(opts.database.db, token) : null;
    if (!principal) return sendFailure(reply, unauthenticated());
    const query = (req.query ?? {}) as Record<string, unknown>;
    const header = req.headers["last-event-id"];
    const parsed = WatchInput.safeParse({
      agent_id: typeof query.agent_id === "string" && query.agent_id !== "" ? query.agent_id : undefined,
      lastEventId:
        typeof header === "string" && header !== ""
          ? header
          : typeof query.last_event_id === "string"
            ? query.last_event_id
            : undefined,
    });
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        field: i.path[0] === "lastEventId" ? "last_event_id" : i.path.map(String).join("."),
        message: i.message,
      }));
      return sendFailure(reply, invalid(issues));
    }

    const abort = new AbortController();
    const ctx = createContextInner({
      db: opts.database.db,
      secretKey: opts.secretKey,
      token,
      principal,
      requestId: req.id,
      log: req.log,
      feed: opts.feed,
      abortConnection: () => req.raw.socket?.destroy(),
    });
    let stream: Awaited<ReturnType<typeof openWatch>>;
    try {
      stream = await openWatch({ ...ctx, principal }, parsed.data, abort.signal);
    } catch (err) {
      if (err instanceof DomainError) return sendFailure(reply, err);
      throw err;
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-request-id": req.id,
    });
    // A long-lived response: no socket idle timeout applies to it (heartbeats keep proxies awake).
    req.raw.socket?.setTimeout(0);
    // The response's 'close' is the client going away (the request's fires once its body is read).
    const closed = new Promise<void>((resolve) => res.once("close", resolve)).then(() => abort.abort());
    req.raw.on("error", () => {}); // a reset connection is an ordinary end here
    const write = async (chunk: string) => {
      if (res.destroyed || res.writableEnded) return false;
      if (!res.write(chunk)) {
        const drained = new Promise<void>((resolve) => res.once("drain", resolve));
        await Promise.race([drained, closed]);
      }
      return !res.destroyed;
    };
    await write(`retry: 1000\n: connected\n\n`);
    try {
      for await (const item of stream) {
        if (abort.signal.aborted) break;
        const ok =
          item === HEARTBEAT
            ? await write(": keep-alive\n\n")
            : await write(`id: ${item.id}\nevent: ${item.type}\ndata: ${JSON.stringify(item)}\n\n`);
        if (!ok) break;
      }
    } catch (err) {
      const { code, message } = wireError(err, req.id);
      if (!(err instanceof DomainError)) req.log.error({ err }, "event stream failed");
      await write(`event: error\ndata: ${JSON.stringify({ code, message, request_id: req.id })}\n\n`);
    } finally {
      await stream.return(undefined);
      if (!res.destroyed) res.end();
    }
  });
}
