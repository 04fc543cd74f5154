import type { AnyRouter } from "@trpc/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { generateOpenApiDocument } from "trpc-to-openapi";
import { wireError } from "@agentex/api";
import { callProcedure, procedureAt } from "./call-procedure.ts";
import { sendError, sendFailure } from "./rest-errors.ts";

/**
 * The REST surface of the tRPC router, built from public API only.
 *
 * The routes are the OpenAPI document's operations, as trpc-to-openapi derives
 * them from each procedure's `.meta({ openapi })` (so the served routes and
 * the documented ones cannot drift); each becomes one Fastify route, resolved
 * by Fastify's router, and calls its procedure through the router's
 * `createCaller`, the same procedure `/trpc` calls. Errors are written in the
 * SPEC body (errors.ts errorBody).
 *
 * trpc-to-openapi's own handler is not used: it turns on coercion by mutating
 * the zod schemas on the first request (after which `/trpc` coerces too), it
 * answers every route from one wildcard route (metrics label REST requests by
 * their route's `procedure`), and its 415 and error bodies are not the SPEC's.
 *
 * Inputs: the query string (GET, DELETE) or the JSON body (POST, PUT, PATCH),
 * with the path parameters merged over them; an empty query value counts as
 * absent and a repeated key stays an array. The schemas declare `z.coerce`
 * where a query string carries a number, so REST and tRPC validate alike.
 */

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const DOC_METHODS = ["get", "post", "put", "patch", "delete"] as const;

export interface RestBridgeOptions<TContext> {
  router: AnyRouter;
  prefix: string;
  createContext(opts: { req: FastifyRequest; res: FastifyReply }): TContext | Promise<TContext>;
}

export interface RestRoute {
  /** The procedure's dotted name (`agents.get`). */
  name: string;
  method: string;
  /** The OpenAPI path (`/agents/{agent_id}`). */
  path: string;
  /** A void (or undeclared) input: the procedure is called with none. */
  noInput: boolean;
}

/** `/agents/{agent_id}` → `/agents/:agent_id` */
export function fastifyPath(prefix: string, path: string): string {
  return `${prefix}/${path.replace(/^\/|\/$/g, "")}`.replace(/\{([^}]+)\}/g, ":$1");
}

/**
 * The REST routes of `router`. trpc-to-openapi names an operation after its
 * procedure, dots as dashes (procedure names are identifiers, so the dashes
 * map back); an `operationId` set in the meta would break that, and then
 * stops the server at start rather than answering 404 at run time. An
 * operation with neither parameters nor a request body is one whose input is
 * void-like or undeclared: trpc-to-openapi's own test for calling without input.
 */
export function restRoutes(router: AnyRouter): RestRoute[] {
  const doc = generateOpenApiDocument(router, { title: "routes", version: "0", baseUrl: "/" });
  const routes: RestRoute[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of DOC_METHODS) {
      const op = item[method];
      if (!op) continue;
      const name = op.operationId?.replace(/-/g, ".") ?? "";
      if (typeof procedureAt(router, name) !== "function")
        throw new Error(
          `${method.toUpperCase()} ${path}: operationId '${op.operationId}' names no procedure`,
        );
      routes.push({
        name,
        method: method.toUpperCase(),
        path,
        noInput: op.parameters === undefined && op.requestBody === undefined,
      });
    }
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
    const { name, noInput } = route;
    const useBody = BODY_METHODS.has(route.method);
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
        const data = await callProcedure(opts.router, ctx, name, input);
        return reply.header("content-type", "application/json; charset=utf-8").send(JSON.stringify(data));
      } catch (cause) {
        // Procedure failures were logged by the router's mapErrors; this one never reached a procedure.
        if (ctx === undefined && wireError(cause, request.id).status === 500)
          request.log.error({ err: cause }, "transport error");
        return sendFailure(reply, cause);
      }
    };
    // A trailing slash names the same route.
    const url = fastifyPath(opts.prefix, route.path);
    for (const path of [url, `${url}/`]) {
      app.route({ method: route.method, url: path, config: { procedure: name }, handler });
    }
  }
}
