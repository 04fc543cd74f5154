/** Identity and access through the router (no HTTP): deletion ending an agent's grants and keys, list filtering in SQL. */
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import { url, accessFixtures } from "./support.ts";

describe(`access (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const f = useFixture();
  const { grantsOf, deployedAgent } = accessFixtures(f);

  describe("deleting an agent", () => {
    it("its grants and keys stop working at once", async () => {
      const { principal: a } = await f.principal();
      const { principal: b, token: tb } = await f.principal();
      const { agent, key } = await deployedAgent(a);
      const ext = await f.as(a).agentApiKeys.create({ agent_id: agent.id, name: "ext" });
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: b.id, role: "deployer" });
      expect((await f.withToken(tb).agents.get({ agent_id: agent.id })).id).toBe(agent.id);
      expect((await f.withToken(key).me.get()).agent_id).toBe(agent.id);
      expect((await f.withToken(ext.api_key).me.get()).agent_id).toBe(agent.id);

      expect(await f.as(a).agents.delete({ agent_id: agent.id })).toEqual({
        id: agent.id,
        message: `Agent '${agent.id}' deleted successfully`,
      });
      expect((await rejection(f.withToken(tb).agents.get({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
      expect(
        (
          await rejection(
            f.withToken(tb).deployments.create({ agent_id: agent.id, docker_image: "img:test" }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect((await f.withToken(tb).agents.list({ limit: 1000 })).map((x) => x.id)).not.toContain(agent.id);
      for (const k of [key, ext.api_key])
        expect((await rejection(f.withToken(k).me.get())).code).toBe("UNAUTHORIZED");
      expect(await grantsOf(agent.id)).toEqual([]);
      const live = await f.db.db
        .selectFrom("agent_api_keys")
        .select("id")
        .where("agent_id", "=", agent.id)
        .where("revoked_at", "is", null)
        .execute();
      expect(live).toEqual([]);
      expect((await rejection(f.as(a).agents.delete({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
    });
  });

  describe("listing", () => {
    it("lists only readable agents, filtered before paging (full pages at limit 2)", async () => {
      const { principal: o } = await f.principal();
      const { principal: l, token } = await f.principal({ can_create_agents: false });
      const prefix = uniqueName("pg");
      const names = Array.from({ length: 10 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
      const ids: string[] = [];
      for (const name of names) ids.push((await f.as(o).agents.registerBuild({ name, description: "x" })).id);
      const granted = [1, 3, 4, 6, 8];
      for (const i of granted)
        await f.as(o).grants.set({ agent_id: ids[i]!, principal_id: l.id, role: "viewer" });
      // One readable agent is Ready, the rest BuildOnly.
      await f
        .as(o)
        .agents.register({ name: names[4]!, description: "x", acp_url: url("r"), acp_type: "sync" });
      const expected = granted.map((i) => names[i]);
      const asL = f.withToken(token);

      const pages: string[][] = [];
      for (let page = 1; page <= 4; page++) {
        const rows = await asL.agents.list({
          limit: 2,
          page_number: page,
          order_by: "name",
          order_direction: "asc",
        });
        pages.push(rows.map((r) => r.name));
      }
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1, 0]);
      expect(pages.flat()).toEqual(expected);

      const desc = await asL.agents.list({
        limit: 2,
        page_number: 1,
        order_by: "name",
        order_direction: "desc",
      });
      expect(desc.map((r) => r.name)).toEqual([names[8], names[6]]);

      const cursorPages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Array<{ name: string }>; next_cursor: string | null } =
          await asL.agents.listPage({
            limit: 2,
            order_by: "name",
            order_direction: "asc",
            cursor,
          });
        cursorPages.push(page.items.map((r) => r.name));
        cursor = page.next_cursor;
      } while (cursor && cursorPages.length < 10);
      expect(cursorPages).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)]);

      const ready = await asL.agents.list({ limit: 2, status: "Ready" });
      expect(ready.map((r) => r.name)).toEqual([names[4]]);
      const buildOnly = await asL.agents.list({
        limit: 1000,
        status: "BuildOnly",
        order_by: "name",
        order_direction: "asc",
      });
      expect(buildOnly.map((r) => r.name)).toEqual(expected.filter((n) => n !== names[4]));

      // The owner sees all ten; a deleted readable agent drops out of L's pages.
      const mine = await f.as(o).agents.list({ limit: 1000 });
      expect(mine.filter((r) => r.name.startsWith(prefix))).toHaveLength(10);
      await f.as(o).agents.delete({ agent_id: ids[3]! });
      const after = await asL.agents.list({
        limit: 2,
        page_number: 2,
        order_by: "name",
        order_direction: "asc",
      });
      expect(after.map((r) => r.name)).toEqual([names[6], names[8]]);
    });
  });
});
