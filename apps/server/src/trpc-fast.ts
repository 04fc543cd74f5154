import { getErrorShape, getTRPCErrorFromUnknown, type AnyRouter, type TRPCErrorShape } from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";
import type { TRPCResponse } from "@trpc/server/rpc";
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { callProcedure } from "./call-procedure.ts";

/**
 * A lean path for the common `/trpc` calls: one query by GET or one mutation
 * by POST, or a plain (non-streaming) batch of them, as `httpLink` and
 * `httpBatchLink` send. It calls the procedures through the router's
 * `createCaller` and writes tRPC's own JSON envelope (`{result: {data}}` /
 * `{error}`, 207 for a mixed batch), skipping the adapter's fetch `Request`
 * round trip: bench/transports.ts measured it 1.6–1.8× the official adapter's
 * req/s (GET one agent on Postgres, wrk). Everything else — streaming
 * batches, subscriptions, unknown procedures, the wrong method, input that is
 * not JSON — falls through to the official fastify adapter, so those answers
 * stay exactly tRPC's.
 */

type ProcedureType = "query" | "mutation" | "subscription";
const TYPES = new Set<unknown>(["query", "mutation", "subscription"]);

interface RouterInternals {
  types: ReadonlyMap<string, ProcedureType>;
  /** The root config `getErrorShape` applies the router's errorFormatter from. */
  config: Parameters<typeof getErrorShape>[0]["config"];
}

/**
 * The only private reads of the fast path, made once at start: no public tRPC
 * API tells a procedure's type (a GET may only run a query) or hands over the
 * root config `getErrorShape` needs. A tRPC release that moves either stops
 * the server here, and test/trpc-fast.test.ts fails, rather than answers
 * going wrong.
 */
export function routerInternals(router: AnyRouter): RouterInternals {
  const def = (router as { _def?: { procedures?: unknown; _config?: unknown } })._def;
  const procedures = def?.procedures;
  const config = def?._config as RouterInternals["config"] | undefined;
  if (typeof procedures !== "object" || procedures === null || typeof config?.errorFormatter !== "function")
    throw new Error(
      "tRPC internals changed: the router has no _def.procedures or _def._config.errorFormatter",
    );
  const types = new Map<string, ProcedureType>();
  for (const [name, procedure] of Object.entries(procedures)) {
    const type = (procedure as { _def?: { type?: unknown } } | undefined)?._def?.type;
    if (!TYPES.has(type)) throw new Error(`tRPC internals changed: procedure ${name} has no _def.type`);
    types.set(name, type as ProcedureType);
  }
  return { types, config };
}

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
  const { types, config } = routerInternals(opts.router);
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
    const calls: Array<{ name: string; input: unknown }> = [];
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
      if (types.get(name) !== type) return;
      let input = inputs;
      if (batch) {
        if (inputs !== undefined && (typeof inputs !== "object" || inputs === null)) return;
        input = inputs === undefined ? undefined : (inputs as Record<string, unknown>)[String(i)];
      }
      calls.push({ name, input });
    }

    const ctx = await opts.createContext({ req: request, res: reply });
    const responses: TRPCResponse[] = await Promise.all(
      calls.map(async ({ name, input }) => {
        try {
          return { result: { data: await callProcedure(opts.router, ctx, name, input) } };
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
