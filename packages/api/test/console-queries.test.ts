import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "./helpers.ts";

/** The procedures the operator console needs beyond the SPEC: name search, counts per status, the caller's permissions. */
describe(`agents.listPage search, agents.counts, agents.permissions (${TEST_STORE})`, () => {
  const f = useFixture();

  it("search is a case-insensitive substring of the name; % and _ are literal; cursors keep the search", async () => {
    const { principal } = await f.principal();
    const c = f.as(principal);
    const tag = uniqueName("srch");
    const names = [`${tag}-alpha`, `${tag}-beta`, `${tag}-gamma`, `${tag}x-delta`];
    for (const name of names) await c.agents.registerBuild({ name, description: "" });
    const page1 = await c.agents.listPage({
      search: `${tag}-`.toUpperCase(),
      limit: 2,
      order_by: "name",
      order_direction: "asc",
    });
    expect(page1.items.map((a) => a.name)).toEqual([`${tag}-alpha`, `${tag}-beta`]);
    const page2 = await c.agents.listPage({
      search: `${tag}-`,
      limit: 2,
      order_by: "name",
      order_direction: "asc",
      cursor: page1.next_cursor,
    });
    expect(page2.items.map((a) => a.name)).toEqual([`${tag}-gamma`]);
    expect(page2.next_cursor).toBeNull();
    // `_` would match any character as a LIKE pattern ("x" in "…x-delta"); it must not.
    expect((await c.agents.listPage({ search: `${tag}_-` })).items).toEqual([]);
    expect((await c.agents.listPage({ search: "%" })).items).toEqual([]);
    // A cursor of one search is not a cursor of another.
    expect((await rejection(c.agents.listPage({ search: "other", cursor: page1.next_cursor }))).code).toBe(
      "UNPROCESSABLE_CONTENT",
    );
  });

  it("counts only the live agents the caller may read, per status", async () => {
    const { principal: owner } = await f.principal();
    const { principal: other } = await f.principal();
    const mine = f.as(owner);
    await mine.agents.registerBuild({ name: uniqueName(), description: "" });
    const doomed = await mine.agents.registerBuild({ name: uniqueName(), description: "" });
    await mine.agents.delete({ agent_id: doomed.id });
    await f.as(other).agents.registerBuild({ name: uniqueName(), description: "" });
    const counts = await mine.agents.counts();
    expect(counts).toEqual({
      total: 1,
      by_status: { BuildOnly: 1, Ready: 0, Unhealthy: 0, Failed: 0, Unknown: 0 },
    });
  });

  it("permissions: the caller's role and actions; 404 for an agent the caller may not read", async () => {
    const { principal: owner } = await f.principal();
    const { principal: viewer } = await f.principal();
    const { principal: stranger } = await f.principal();
    const agent = await f.as(owner).agents.registerBuild({ name: uniqueName(), description: "" });
    await f.as(owner).grants.set({ agent_id: agent.id, principal_id: viewer.id, role: "viewer" });
    expect(await f.as(owner).agents.permissions({ agent_id: agent.id })).toEqual({
      agent_id: agent.id,
      role: "owner",
      actions: ["read", "register", "deploy", "own"],
    });
    expect(await f.as(viewer).agents.permissions({ agent_id: agent.id })).toEqual({
      agent_id: agent.id,
      role: "viewer",
      actions: ["read"],
    });
    expect((await rejection(f.as(stranger).agents.permissions({ agent_id: agent.id }))).code).toBe(
      "NOT_FOUND",
    );
  });
});
