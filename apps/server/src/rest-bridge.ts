import type { AnyProcedure, AnyRouter } from "@trpc/server";
import { getTRPCErrorFromUnknown } from "@trpc/server/unstable-core-do-not-import";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { callProcedure } from "./call-procedure.ts";
import { sendError, sendFailure } from "./rest-errors.ts";

/**
 * The REST surface of the tRPC router, served without an adapter layer.
 *
 * Every procedure with `.meta({ openapi: { method, path } })` becomes one
 * Fastify route, resolved once at start by Fastify's router (no per-request
 * regex scan, no fetch `Request`/`AbortSignal`), and calls the same procedure
 * the `/trpc` transport calls — procedures stay defined once, in the router.
 * The OpenAPI document is still generated from the same metadata by
 * trpc-to-openapi, so paths, inputs and outputs cannot drift. Errors are
 * written straight in the SPEC body (errors.ts errorBody), with the fields
 * /trpc puts in its envelope.
 *
 * Inputs are those of the bridge it replaces: query string (GET, DELETE) or
 * JSON body (POST, PUT, PATCH), with the path parameters merged over them; an
 * empty query value counts as absent. Unlike the bridge it never rewrites the
 * zod schemas to coerce (the schemas declare `z.coerce` where a query string
 * carries a number), so REST and tRPC validate alike.
 */

interface OpenApiMeta {
  openapi?: { method: string; path: string };
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

export interface RestBridgeOptions<TContext> {
  router: AnyRouter;
  prefix: string;
  createContext(opts: { req: FastifyRequest; res: FastifyReply }): TContext | Promise<TContext>;
}

/** `/agents/{agent_id}` → `/agents/:agent_id` */
export function fastifyPath(prefix: string, path: string): string {
  return `${prefix}/${path.replace(/^\/|\/$/g, "")}`.replace(/\{([^}]+)\}/g, ":$1");
}

export function restRoutes(
  router: AnyRouter,
): Array<{ name: string; method: string; path: string; procedure: AnyProcedure }> {
  const procedures = router._def.procedures as Record<string, AnyProcedure>;
  const routes = [];
  for (const [name, procedure] of Object.entries(procedures)) {
    const openapi = (procedure._def.meta as OpenApiMeta | undefined)?.openapi;
    if (!openapi || procedure._def.type === "subscription") continue;
    routes.push({ name, method: openapi.method.toUpperCase(), path: openapi.path, procedure });
  }
  return routes;
}

function queryInput(query: unknown): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (value === "" || value === undefined) continue;
    input[key] = Array.isArray(value) && value.length === 1 ? value[0] : value;
  }
  return input;
}

export function installRestBridge<TContext>(app: FastifyInstance, opts: RestBridgeOptions<TContext>) {
  for (const route of restRoutes(opts.router)) {
    const { procedure, name } = route;
    const type = procedure._def.type as "query" | "mutation";
    const useBody = BODY_METHODS.has(route.method);
    // `z.void()` input (e.g. GET /me): the procedure gets no input at all.
    const inputs = procedure._def.inputs as Array<{ _zod?: { def?: { type?: string } } }>;
    const noInput = inputs.length === 0 || inputs.every((schema) => schema._zod?.def?.type === "void");
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      let input: unknown;
      let ctx: TContext | undefined;
      try {
        if (noInput) {
          input = undefined;
        } else if (useBody) {
          const contentType = request.headers["content-type"] ?? "";
          if (!/^application\/json\b/i.test(contentType)) {
            return sendError(reply, 415, `unsupported content-type '${contentType}'; send application/json`);
          }
          input = { ...(request.body as object), ...(request.params as object) };
        } else {
          input = { ...queryInput(request.query), ...(request.params as object) };
        }
        ctx = await opts.createContext({ req: request, res: reply });
        const data = await callProcedure(procedure, { ctx, type, path: name, input });
        return reply.header("content-type", "application/json; charset=utf-8").send(JSON.stringify(data));
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        // Procedure failures were logged by the router's mapErrors; this one never reached a procedure.
        if (error.code === "INTERNAL_SERVER_ERROR" && ctx === undefined)
          request.log.error({ err: error.cause ?? error }, "transport error");
        return sendFailure(reply, error);
      }
    };
    // As the bridge did, a trailing slash names the same route.
    const url = fastifyPath(opts.prefix, route.path);
    for (const path of [url, `${url}/`]) {
      app.route({ method: route.method, url: path, config: { procedure: name }, handler });
    }
  }
}
