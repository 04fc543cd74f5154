/** Identity and access through the router (no HTTP): name squatting, which reveals nothing and grants nothing. */
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import { url, accessFixtures } from "./support.ts";

describe(`access (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const f = useFixture();
  const { grantsOf, deployedAgent } = accessFixtures(f);

  describe("name squatting", () => {
    it("B's registerBuild of A's name is a 409 that reveals nothing and grants nothing", async () => {
      const { principal: a } = await f.principal();
      const { principal: b } = await f.principal({ can_create_agents: true });
      const secretDescription = `top secret ${uniqueName("d")}`;
      const { agent } = await deployedAgent(a, { description: secretDescription });
      expect(agent.acp_url).toMatch(/prod/);
      const before = await grantsOf(agent.id);

      for (const attempt of [
        () => f.as(b).agents.registerBuild({ name: agent.name, description: "mine now" }),
        () => f.as(b).agents.registerBuild({ name: agent.name, description: secretDescription }),
        () =>
          f.as(b).agents.register({
            name: agent.name,
            description: "mine",
            acp_url: url("evil"),
            acp_type: "sync",
          }),
      ]) {
        const err = await rejection(attempt());
        expect(err.code).toBe("CONFLICT");
        for (const field of [
          agent.id,
          secretDescription,
          agent.acp_url!,
          agent.production_deployment_id!,
          a.id,
          a.name,
        ]) {
          expect(err.message).not.toContain(field);
        }
        expect(JSON.stringify(err)).not.toContain(agent.id);
      }
      expect(await grantsOf(agent.id)).toEqual(before);
      expect(
        await f.db.db.selectFrom("grants").selectAll().where("principal_id", "=", b.id).execute(),
      ).toEqual([]);
      expect((await rejection(f.as(b).agents.get({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
      // The agent is untouched.
      expect(await f.as(a).agents.get({ agent_id: agent.id })).toEqual(agent);
    });

    it("racing for a new name: exactly one agent and one owner; the others get 409 and no grant", async () => {
      const racers = await Promise.all(
        Array.from({ length: 6 }, () => f.principal({ can_create_agents: true })),
      );
      const name = uniqueName("race");
      const results = await Promise.allSettled(
        racers.map(({ principal }) => f.as(principal).agents.registerBuild({ name, description: "x" })),
      );
      const won = results.filter((r) => r.status === "fulfilled") as PromiseFulfilledResult<{ id: string }>[];
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") expect((r.reason as { code: string }).code).toBe("CONFLICT");
      const rows = await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute();
      expect(rows).toEqual([{ id: won[0]!.value.id }]);
      const grants = await grantsOf(won[0]!.value.id);
      expect(grants).toHaveLength(1);
      expect(grants[0]!.role).toBe("owner");
    });

    it("a principal without the create permission gets the 403 a free name gets (no oracle, no grant)", async () => {
      const { principal: a } = await f.principal();
      const { principal: c } = await f.principal({ can_create_agents: false });
      const name = uniqueName("sq");
      await f.as(a).agents.registerBuild({ name, description: "x" });
      const err = await rejection(f.as(c).agents.registerBuild({ name, description: "x" }));
      expect(err.code).toBe("FORBIDDEN");
      expect(
        (await rejection(f.as(c).agents.registerBuild({ name: uniqueName("free"), description: "x" })))
          .message,
      ).toBe(err.message);
      expect(
        await f.db.db.selectFrom("grants").selectAll().where("principal_id", "=", c.id).execute(),
      ).toEqual([]);
    });

    it("readers get the agent back unchanged and keep exactly their role", async () => {
      const { principal: a } = await f.principal();
      const { principal: v } = await f.principal();
      const { principal: d } = await f.principal();
      const { agent } = await deployedAgent(a);
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: v.id, role: "viewer" });
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: d.id, role: "deployer" });
      const before = await grantsOf(agent.id);
      for (const p of [v, d]) {
        expect(await f.as(p).agents.registerBuild({ name: agent.name, description: "clobber?" })).toEqual(
          agent,
        );
      }
      expect(await grantsOf(agent.id)).toEqual(before);
      expect(await f.as(a).agents.get({ agent_id: agent.id })).toEqual(agent);
    });

    it("registering a deployment id of A's agent against B's own agent is a 409 and leaves A's deployment alone", async () => {
      const { principal: a } = await f.principal();
      const { principal: b } = await f.principal();
      const { agent, ready } = await deployedAgent(a);
      const mine = await f.as(b).agents.registerBuild({ name: uniqueName("b"), description: "b" });
      const before = await f.as(a).deployments.get({ agent_id: agent.id, deployment_id: ready });
      const err = await rejection(
        f.as(b).agents.register({
          name: mine.name,
          description: "b",
          acp_url: url("hijack"),
          acp_type: "async",
          registration_metadata: { deployment_id: ready },
        }),
      );
      expect(err.code).toBe("CONFLICT");
      expect(err.message).not.toContain(agent.id);
      expect(await f.as(a).deployments.get({ agent_id: agent.id, deployment_id: ready })).toEqual(before);
      expect(
        (await rejection(f.as(b).deployments.get({ agent_id: mine.id, deployment_id: ready }))).code,
      ).toBe("NOT_FOUND");
      // Nor by creating a new agent around it: the whole registration rolls back.
      const fresh = uniqueName("b");
      const err2 = await rejection(
        f.as(b).agents.register({
          name: fresh,
          description: "b",
          acp_url: url("hijack"),
          acp_type: "async",
          registration_metadata: { deployment_id: ready },
        }),
      );
      expect(err2.code).toBe("CONFLICT");
      expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", fresh).execute()).toEqual([]);
      expect(await f.as(a).deployments.get({ agent_id: agent.id, deployment_id: ready })).toEqual(before);
    });

    it("a name freed by deletion gets a new agent; the old agent's grants and key do not come back", async () => {
      const { principal: a } = await f.principal();
      const { principal: b } = await f.principal();
      const { agent, key } = await deployedAgent(a);
      await f.as(a).agents.delete({ agent_id: agent.id });
      const reborn = await f.as(b).agents.registerBuild({ name: agent.name, description: "new" });
      expect(reborn.id).not.toBe(agent.id);
      expect(await grantsOf(reborn.id)).toEqual([{ principal_id: b.id, role: "owner" }]);
      expect((await rejection(f.as(a).agents.get({ agent_id: reborn.id }))).code).toBe("NOT_FOUND");
      expect((await rejection(f.withToken(key).agents.get({ agent_id: reborn.id }))).code).toBe(
        "UNAUTHORIZED",
      );
    });
  });
});
