import { appRouter } from "@agentex/api";
import { getErrorShape, TRPCError, type AnyRouter } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { restRoutes } from "../src/rest-bridge.ts";
import { routerInternals } from "../src/trpc-fast.ts";
import { useServer, type Json } from "./helpers.ts";

const s = useServer();

/** The same request through the lean path and through tRPC's own adapter (which any `trpc-accept` header selects). */
async function both(method: string, path: string, body?: unknown) {
  const strip = (r: { status: number; body: Json; headers: Headers }) => ({
    status: r.status,
    body: JSON.parse(JSON.stringify(r.body).replace(/"request_id":"[^"]*"/g, '"request_id":"-"')),
    type: r.headers.get("content-type")?.split(";")[0],
  });
  const leanReply = await s.api(method, path, body === undefined ? {} : { body });
  const adapterReply = await s.api(method, path, {
    headers: { "trpc-accept": "application/json" },
    ...(body === undefined ? {} : { body }),
  });
  // Which path answered: the adapter also varies on `accept`; the lean path does not.
  expect(leanReply.headers.get("vary"), `${method} ${path} took the lean path`).toBe("trpc-accept");
  expect(adapterReply.headers.get("vary")).toBe("trpc-accept, accept");
  return { lean: strip(leanReply), adapter: strip(adapterReply) };
}

const q = (input: unknown) => `?input=${encodeURIComponent(JSON.stringify(input))}`;

describe("the lean /trpc path answers exactly as tRPC's adapter does", () => {
  it("single queries and mutations: data, 404, 422, 401", async () => {
    const created = await s.api("POST", "/trpc/agents.registerBuild", {
      body: { name: `lean-${Date.now()}`, description: "x" },
    });
    expect(created.status).toBe(200);
    const id = created.body.result.data.id as string;
    for (const [method, path, body] of [
      ["GET", `/trpc/agents.get${q({ agent_id: id })}`],
      ["GET", `/trpc/agents.get${q({ agent_id: "00000000-0000-4000-8000-000000000000" })}`],
      ["GET", `/trpc/agents.get${q({ agent_id: "nope" })}`],
      ["GET", `/trpc/agents.list${q({ limit: 2 })}`],
      ["POST", "/trpc/agents.registerBuild", { name: "Bad Name", description: "x" }],
      ["POST", "/trpc/deployments.create", { agent_id: id, docker_image: "img:1" }],
    ] as const) {
      const { lean, adapter } = await both(method, path, body);
      if (path.includes("deployments.create")) {
        // two creations: compare the shape, not the new ids
        expect(lean.status).toBe(adapter.status);
        expect(Object.keys(lean.body.result.data)).toEqual(Object.keys(adapter.body.result.data));
      } else {
        expect(lean, `${method} ${path}`).toEqual(adapter);
      }
    }
    const anonymous = await s.api("GET", `/trpc/agents.get${q({ agent_id: id })}`, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.data.code).toBe("UNAUTHORIZED");
  });

  it("a plain batch: one array, 207 when its calls end differently", async () => {
    const created = await s.api("POST", "/trpc/agents.registerBuild", {
      body: { name: `lean-b-${Date.now()}`, description: "x" },
    });
    const id = created.body.result.data.id as string;
    const input = { 0: { agent_id: id }, 1: { agent_id: "00000000-0000-4000-8000-000000000000" } };
    const { lean, adapter } = await both(
      "GET",
      `/trpc/agents.get,agents.get?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`,
    );
    expect(lean.status).toBe(207);
    expect(lean).toEqual(adapter);
    const ok = await both(
      "GET",
      `/trpc/agents.get,agents.get?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { agent_id: id }, 1: { agent_id: id } }))}`,
    );
    expect(ok.lean.status).toBe(200);
    expect(ok.lean).toEqual(ok.adapter);
  });
});

describe("the router internals the lean path reads (no public tRPC API has them)", () => {
  it("each procedure's type, by dotted name", () => {
    const { types } = routerInternals(appRouter);
    expect(types.get("agents.get")).toBe("query");
    expect(types.get("agents.registerBuild")).toBe("mutation");
    expect(types.get("events.watch")).toBe("subscription");
    for (const route of restRoutes(appRouter)) expect(types.has(route.name), route.name).toBe(true);
  });

  it("the root config, through which getErrorShape applies the router's errorFormatter", () => {
    const { config } = routerInternals(appRouter);
    const error = new TRPCError({ code: "NOT_FOUND", message: "no such agent" });
    const shape = getErrorShape({
      config,
      error,
      type: "query",
      path: "agents.get",
      input: {},
      ctx: undefined,
    });
    // `request_id` is the errorFormatter's (trpc.ts), not in tRPC's default shape.
    expect(shape).toMatchObject({
      message: "no such agent",
      data: { code: "NOT_FOUND", httpStatus: 404, path: "agents.get", request_id: null },
    });
  });

  it("a router that no longer carries them stops the server at start", () => {
    const moved = { createCaller: appRouter.createCaller } as unknown as AnyRouter;
    expect(() => routerInternals(moved)).toThrow(/tRPC internals changed/);
    const untyped = {
      _def: { procedures: { "agents.get": {} }, _config: routerInternals(appRouter).config },
    } as unknown as AnyRouter;
    expect(() => routerInternals(untyped)).toThrow(/agents.get has no _def.type/);
  });
});
