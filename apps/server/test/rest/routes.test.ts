import { appRouter } from "@agentex/api";
import { describe, expect, it } from "vitest";
import { restRoutes } from "../../src/rest-bridge.ts";
import { ACCESS_ROUTES, LIFECYCLE_ROUTES } from "../spec-routes.ts";

/**
 * The REST bridge reads its routes from trpc-to-openapi's document: these pin
 * what it relies on there (each operationId maps back to its procedure; only
 * void-input procedures have neither parameters nor a body), so a release
 * that changes either fails here rather than on the wire.
 */
describe("REST routes from the OpenAPI document", () => {
  const routes = restRoutes(appRouter);

  it("serves the SPEC's routes, each under its procedure's name", () => {
    const served = new Map(routes.map((r) => [`${r.method} ${r.path}`, r.name]));
    for (const route of [...LIFECYCLE_ROUTES, ...ACCESS_ROUTES]) expect(served.has(route), route).toBe(true);
    expect(served.get("GET /agents/{agent_id}")).toBe("agents.get");
    expect(served.get("POST /agents/register-build")).toBe("agents.registerBuild");
    expect(served.get("GET /agent_api_keys/name/{name}")).toBe("agentApiKeys.getByName");
    expect(served.get("GET /deployment-history")).toBe("deploymentHistory.list");
  });

  it("calls without input exactly the procedures whose input is void", () => {
    expect(routes.filter((r) => r.noInput).map((r) => r.name)).toEqual(["me.get", "principals.list"]);
  });

  it("an operation that names no procedure of the router stops the server at start", () => {
    const withoutAgents = { ...appRouter, agents: {} };
    expect(() => restRoutes(withoutAgents)).toThrow(/operationId 'agents-registerBuild' names no procedure/);
  });
});
