/** Identity and access through the router (no HTTP): creation rights, the last-owner rule, grant changes taking effect on the next call. */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import { url, accessFixtures } from "./support.ts";

describe(`access (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const f = useFixture();
  const { grantsOf, deployedAgent } = accessFixtures(f);

  describe("creating agents", () => {
    it("needs can_create_agents or admin; the creator becomes owner", async () => {
      const { principal: none } = await f.principal({ can_create_agents: false });
      const { principal: creator } = await f.principal({ can_create_agents: true });
      const { principal: admin } = await f.principal({ admin: true, can_create_agents: false });
      const n1 = uniqueName("c");
      const n2 = uniqueName("c");
      expect((await rejection(f.as(none).agents.registerBuild({ name: n1, description: "x" }))).code).toBe(
        "FORBIDDEN",
      );
      expect(
        (
          await rejection(
            f.as(none).agents.register({ name: n2, description: "x", acp_url: url("x"), acp_type: "sync" }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      const rows = await f.db.db.selectFrom("agents").select("id").where("name", "in", [n1, n2]).execute();
      expect(rows).toEqual([]);

      const built = await f.as(creator).agents.registerBuild({ name: n1, description: "x" });
      expect(built.status).toBe("BuildOnly");
      expect(await grantsOf(built.id)).toEqual([{ principal_id: creator.id, role: "owner" }]);
      const registered = await f
        .as(admin)
        .agents.register({ name: n2, description: "x", acp_url: url("x"), acp_type: "sync" });
      expect(registered.status).toBe("Ready");
      expect(await grantsOf(registered.id)).toEqual([{ principal_id: admin.id, role: "owner" }]);
    });

    it("register is never anonymous", async () => {
      const { principal: a } = await f.principal();
      const name = uniqueName("anon");
      const input = { name, description: "x", acp_url: url("x"), acp_type: "sync" as const };
      for (const token of [null, "", "agx_pat_nope", `agx_key_${"A".repeat(43)}`, "x".repeat(300)]) {
        expect((await rejection(f.withToken(token).agents.register(input))).code).toBe("UNAUTHORIZED");
        expect(
          (await rejection(f.withToken(token).agents.registerBuild({ name, description: "x" }))).code,
        ).toBe("UNAUTHORIZED");
      }
      expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute()).toEqual([]);
      // An existing agent needs deployer/owner (or its own key) to be re-registered.
      const { agent } = await deployedAgent(a);
      const { principal: stranger } = await f.principal({ can_create_agents: true });
      const byId = { ...input, name: agent.name, agent_id: agent.id };
      expect((await rejection(f.as(stranger).agents.register(byId))).code).toBe("NOT_FOUND");
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: stranger.id, role: "viewer" });
      expect((await rejection(f.as(stranger).agents.register(byId))).code).toBe("FORBIDDEN");
      expect(await f.as(a).agents.get({ agent_id: agent.id })).toEqual(agent);
    });
  });

  describe("sharing", () => {
    it("an agent keeps at least one owner (409), whoever tries", async () => {
      const { principal: a } = await f.principal();
      const { principal: admin } = await f.principal({ admin: true });
      const { principal: c } = await f.principal();
      const agent = await f.as(a).agents.registerBuild({ name: uniqueName("own"), description: "x" });
      for (const api of [f.as(a), f.as(admin)]) {
        expect((await rejection(api.grants.revoke({ agent_id: agent.id, principal_id: a.id }))).code).toBe(
          "CONFLICT",
        );
        for (const role of ["viewer", "deployer"] as const) {
          expect(
            (await rejection(api.grants.set({ agent_id: agent.id, principal_id: a.id, role }))).code,
          ).toBe("CONFLICT");
        }
      }
      expect(await grantsOf(agent.id)).toEqual([{ principal_id: a.id, role: "owner" }]);
      // With a second owner, the first may step down; then the second is the last one.
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: c.id, role: "owner" });
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: a.id, role: "viewer" });
      expect((await rejection(f.as(c).grants.revoke({ agent_id: agent.id, principal_id: c.id }))).code).toBe(
        "CONFLICT",
      );
      expect((await rejection(f.as(a).grants.list({ agent_id: agent.id }))).code).toBe("FORBIDDEN");
      await f.as(c).grants.revoke({ agent_id: agent.id, principal_id: a.id });
      expect(await grantsOf(agent.id)).toEqual([{ principal_id: c.id, role: "owner" }]);
      // Unknown grantee / grant.
      expect(
        (
          await rejection(
            f.as(c).grants.set({ agent_id: agent.id, principal_id: randomUUID(), role: "viewer" }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect((await rejection(f.as(c).grants.revoke({ agent_id: agent.id, principal_id: a.id }))).code).toBe(
        "NOT_FOUND",
      );
    });

    it("two owners removing each other at once: one wins, the agent keeps an owner", async () => {
      for (let round = 0; round < 5; round++) {
        const { principal: a } = await f.principal();
        const { principal: c } = await f.principal();
        const agent = await f.as(a).agents.registerBuild({ name: uniqueName("race"), description: "x" });
        await f.as(a).grants.set({ agent_id: agent.id, principal_id: c.id, role: "owner" });
        const results = await Promise.allSettled([
          round % 2
            ? f.as(a).grants.revoke({ agent_id: agent.id, principal_id: c.id })
            : f.as(a).grants.set({ agent_id: agent.id, principal_id: c.id, role: "viewer" }),
          f.as(c).grants.revoke({ agent_id: agent.id, principal_id: a.id }),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        // The loser sees either the last-owner rule or that it no longer holds the role to act.
        expect(["CONFLICT", "FORBIDDEN", "NOT_FOUND"]).toContain((refused.reason as { code: string }).code);
        const owners = (await grantsOf(agent.id)).filter((g) => g.role === "owner");
        expect(owners).toHaveLength(1);
      }
    });

    it("grant changes take effect on the next call", async () => {
      const { principal: a } = await f.principal();
      const { principal: b, token } = await f.principal({ can_create_agents: false });
      const { agent } = await deployedAgent(a);
      const asB = f.withToken(token);
      expect((await rejection(asB.agents.get({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
      expect((await asB.agents.list({ limit: 1000 })).map((x) => x.id)).not.toContain(agent.id);

      await f.as(a).grants.set({ agent_id: agent.id, principal_id: b.id, role: "viewer" });
      expect((await asB.agents.get({ agent_id: agent.id })).id).toBe(agent.id);
      expect((await asB.agents.list({ limit: 1000 })).map((x) => x.id)).toContain(agent.id);
      expect(
        (await rejection(asB.deployments.create({ agent_id: agent.id, docker_image: "img:test" }))).code,
      ).toBe("FORBIDDEN");

      await f.as(a).grants.set({ agent_id: agent.id, principal_id: b.id, role: "deployer" });
      expect((await asB.deployments.create({ agent_id: agent.id, docker_image: "img:test" })).status).toBe(
        "Pending",
      );
      expect((await rejection(asB.grants.list({ agent_id: agent.id }))).code).toBe("FORBIDDEN");

      await f.as(a).grants.set({ agent_id: agent.id, principal_id: b.id, role: "owner" });
      expect((await asB.grants.list({ agent_id: agent.id })).map((g) => g.principal_id).sort()).toEqual(
        [a.id, b.id].sort(),
      );
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: b.id, role: "viewer" });
      expect((await rejection(asB.grants.list({ agent_id: agent.id }))).code).toBe("FORBIDDEN");

      await f.as(a).grants.revoke({ agent_id: agent.id, principal_id: b.id });
      expect((await rejection(asB.agents.get({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
      expect((await asB.agents.list({ limit: 1000 })).map((x) => x.id)).not.toContain(agent.id);
    });

    it("grants list who may do what, and record the grantor", async () => {
      const { principal: a } = await f.principal();
      const { principal: b } = await f.principal();
      const agent = await f.as(a).agents.registerBuild({ name: uniqueName("gl"), description: "x" });
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: b.id, role: "deployer" });
      const list = await f.as(a).grants.list({ agent_id: agent.id });
      expect(
        list
          .map((g) => ({ p: g.principal_id, r: g.role, by: g.granted_by }))
          .sort((x, y) => x.p.localeCompare(y.p)),
      ).toEqual(
        [
          { p: a.id, r: "owner", by: a.id },
          { p: b.id, r: "deployer", by: a.id },
        ].sort((x, y) => x.p.localeCompare(y.p)),
      );
    });
  });
});
