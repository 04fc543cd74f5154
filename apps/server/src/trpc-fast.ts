import type { AnyProcedure, AnyRouter } from "@trpc/server";
import {
  getErrorShape,
  getHTTPStatusCode,
  getTRPCErrorFromUnknown,
  type TRPCErrorShape,
  type TRPCResponse,
} from "@trpc/server/unstable-core-do-not-import";
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { callProcedure } from "./call-procedure.ts";

/**
 * A lean path for the common `/trpc` calls: one query by GET or one mutation
 * by POST, or a plain (non-streaming) batch of them, as `httpLink` and
 * `httpBatchLink` send. It calls the router's procedures directly and writes
 * tRPC's own JSON envelope (`{result: {data}}` / `{error}`, 207 for a mixed
 * batch), skipping the adapter's fetch `Request`/`AbortSignal` round trip.
 * Everything else — streaming batches, subscriptions, unknown procedures, the
 * wrong method, input that is not JSON — falls through to the official
 * fastify adapter, so those answers stay exactly tRPC's.
 */
export function installTrpcFastPath<TContext>(
  app: FastifyInstance,
  opts: {
    router: AnyRouter;
    prefix: string;
    /** The adapter's `maxBatchSize`: a larger batch falls through, so the adapter refuses it (400). */
    maxBatchSize: number;
    createContext(o: { req: FastifyRequest; res: FastifyReply }): TContext | Promise<TContext>;
  },
) {
  const procedures = opts.router._def.procedures as Record<string, AnyProcedure>;
  const config = opts.router._def._config;
  const route = `${opts.prefix}/:path`;

  const fast: preHandlerAsyncHookHandler = async function (request, reply) {
    if (request.headers["trpc-accept"] || request.headers["trpc-batch-mode"]) return; // streaming: the adapter's
    const method = request.method;
    if (method !== "GET" && method !== "POST") return;
    const q = request.url.indexOf("?");
    let path: string;
    try {
      path = decodeURIComponent(request.url.slice(opts.prefix.length + 1, q === -1 ? undefined : q));
    } catch {
      return;
    }
    const query = request.query as Record<string, unknown>;
    const batch = query.batch === "1";
    const names = batch ? path.split(",") : [path];
    if (names.length > opts.maxBatchSize) return;
    const type = method === "GET" ? "query" : "mutation";
    const calls: Array<{ name: string; procedure: AnyProcedure; input: unknown }> = [];
    let inputs: unknown;
    if (method === "GET") {
      const raw = query.input;
      if (raw !== undefined && typeof raw !== "string") return;
      try {
        inputs = raw === undefined ? undefined : JSON.parse(raw);
      } catch {
        return;
      }
    } else {
      if (!/^application\/json\b/i.test(request.headers["content-type"] ?? "")) return;
      // The adapter's own content-type parser hands the body over as text.
      const body: unknown = request.body;
      if (typeof body !== "string" || body === "") return; // empty body: let the adapter decide
      try {
        inputs = JSON.parse(body);
      } catch {
        return;
      }
    }
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const procedure = Object.hasOwn(procedures, name) ? procedures[name] : undefined;
      if (!procedure || procedure._def.type !== type) return;
      let input = inputs;
      if (batch) {
        if (inputs !== undefined && (typeof inputs !== "object" || inputs === null)) return;
        input = inputs === undefined ? undefined : (inputs as Record<string, unknown>)[String(i)];
      }
      calls.push({ name, procedure, input });
    }

    const ctx = await opts.createContext({ req: request, res: reply });
    const responses: TRPCResponse[] = await Promise.all(
      calls.map(async ({ name, procedure, input }, batchIndex) => {
        try {
          const data = await callProcedure(procedure, { ctx, type, path: name, input, batchIndex });
          return { result: { data } };
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          // The router is untyped here; its errorFormatter (trpc.ts) makes this shape.
          const shape = getErrorShape({ config, error, type, path: name, input, ctx }) as TRPCErrorShape;
          return { error: shape };
        }
      }),
    );
    const status = getHTTPStatusCode(batch ? responses : responses[0]!);
    return reply
      .code(status)
      .header("content-type", "application/json")
      .header("vary", "trpc-accept")
      .send(JSON.stringify(batch ? responses : responses[0]));
  };

  app.addHook("onRoute", (routeOptions) => {
    if (routeOptions.url !== route) return;
    const existing = routeOptions.preHandler;
    routeOptions.preHandler = existing
      ? [...(Array.isArray(existing) ? existing : [existing]), fast]
      : [fast];
  });
}
