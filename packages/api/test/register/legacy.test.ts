/** agents.register without a deployment id (legacy): what it writes, what it clears, when it writes nothing; bad input. */
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import {
  agentRow,
  agentTimes,
  deploymentRow,
  freshCaller,
  productionRows,
  readyDeployment,
  registerInput,
  rowVersion,
} from "../lifecycle-helpers.ts";

describe(`agents.register (${TEST_STORE})`, () => {
  const f = useFixture();

  describe("legacy (no deployment id)", () => {
    it("sets name, description, acp_url, acp_type, input type; merges registration_metadata; Ready; registered_at now", async () => {
      const { caller, name } = await freshCaller(f);
      const built = await caller.agents.registerBuild({
        name,
        description: "old",
        registration_metadata: { a: 1, b: 1, nested: { x: 1 } },
        agent_input_type: "text",
      });
      const before = await agentTimes(f.db.db, built.id);
      expect(before.registered_at).toBeNull();

      const res = await caller.agents.register(
        registerInput(name, {
          description: "new",
          acp_url: "http://legacy.svc:1",
          acp_type: "sync",
          agent_input_type: "json",
          registration_metadata: { b: 2, c: 3, nested: { y: 2 } },
        }),
      );
      expect(res).toMatchObject({
        id: built.id,
        description: "new",
        acp_url: "http://legacy.svc:1",
        acp_type: "sync",
        agent_input_type: "json",
        status: "Ready",
        status_reason: null,
        registration_metadata: { a: 1, b: 2, c: 3, nested: { y: 2 } },
      });
      const after = await agentTimes(f.db.db, built.id);
      expect(after.registered_at).not.toBeNull();
      expect(after.updated_at).not.toBe(before.updated_at);
      const { rows } = await sql<{ fresh: boolean }>`
        select registered_at = updated_at as fresh from agents where id = ${built.id}`.execute(f.db.db);
      expect(rows[0]!.fresh).toBe(true);

      // Without metadata the stored metadata is kept as is.
      const again = await caller.agents.register(registerInput(name, { acp_url: "http://legacy.svc:2" }));
      expect(again.registration_metadata).toEqual({ a: 1, b: 2, c: 3, nested: { y: 2 } });
      expect(again.acp_url).toBe("http://legacy.svc:2");
    });

    it("turns an Unhealthy or Failed agent back to Ready and clears its status_reason", async () => {
      const { caller, name } = await freshCaller(f);
      const agent = await caller.agents.register(registerInput(name));
      await f.db.db
        .updateTable("agents")
        .set({ status: "Unhealthy", status_reason: "probe failed" })
        .where("id", "=", agent.id)
        .execute();
      const res = await caller.agents.register(registerInput(name));
      expect(res).toMatchObject({ status: "Ready", status_reason: null });
    });

    it("clears the production deployment: demoted and the pointer nulled", async () => {
      const { caller, name } = await freshCaller(f);
      const built = await caller.agents.registerBuild({ name, description: "" });
      const d = await readyDeployment(caller, built);
      await caller.deployments.promote({ agent_id: built.id, deployment_id: d.id });
      expect((await agentRow(f.db.db, built.id)).production_deployment_id).toBe(d.id);

      const res = await caller.agents.register(registerInput(name, { acp_url: "http://legacy.svc:9" }));
      expect(res).toMatchObject({
        production_deployment_id: null,
        acp_url: "http://legacy.svc:9",
        status: "Ready",
      });
      expect(await productionRows(f.db.db, built.id)).toEqual([]);
      const demoted = await deploymentRow(f.db.db, d.id);
      expect(demoted.is_production).toBe(false);
      expect(demoted.expires_at).toBeNull();
      expect((await agentRow(f.db.db, built.id)).production_deployment_id).toBeNull();
    });

    it("clears production and updates the agent in one transaction: a failed update leaves production in place", async () => {
      const { caller, name } = await freshCaller(f);
      const taken = uniqueName("taken");
      await caller.agents.registerBuild({ name: taken, description: "" });
      const built = await caller.agents.registerBuild({ name, description: "" });
      const d = await readyDeployment(caller, built);
      await caller.deployments.promote({ agent_id: built.id, deployment_id: d.id });
      const agentBefore = await agentRow(f.db.db, built.id);
      const deploymentBefore = await deploymentRow(f.db.db, d.id);

      // Renaming onto a live agent's name fails at the agent update, after the demotion ran.
      const err = await rejection(caller.agents.register(registerInput(taken, { agent_id: built.id })));
      expect(err.code).toBe("CONFLICT");
      expect(await agentRow(f.db.db, built.id)).toEqual(agentBefore);
      expect(await deploymentRow(f.db.db, d.id)).toEqual(deploymentBefore);
      expect((await productionRows(f.db.db, built.id)).map((r) => r.id)).toEqual([d.id]);
    });

    it("writes nothing when the input is unchanged (updated_at and registered_at stay)", async () => {
      const { caller, name } = await freshCaller(f);
      const input = registerInput(name, {
        acp_type: "sync",
        agent_input_type: "json",
        registration_metadata: { region: "eu", replicas: 3, tags: ["a", "b"] },
      });
      const first = await caller.agents.register(input);
      const version = await rowVersion(f.db.db, "agents", first.id);
      const times = await agentTimes(f.db.db, first.id);

      const same = await caller.agents.register(input);
      // Same metadata with keys in another order, and without the optional metadata/input type.
      const reordered = await caller.agents.register({
        ...input,
        registration_metadata: { tags: ["a", "b"], replicas: 3, region: "eu" },
      });
      const { registration_metadata: _m, agent_input_type: _t, ...bare } = input;
      const withoutOptionals = await caller.agents.register(bare);

      expect(same).toEqual(first);
      expect(reordered).toEqual(first);
      expect(withoutOptionals).toEqual(first);
      expect(await rowVersion(f.db.db, "agents", first.id)).toBe(version);
      expect(await agentTimes(f.db.db, first.id)).toEqual(times);
    });

    it("writes when anything changes (the no-op check is not too eager)", async () => {
      const { caller, name } = await freshCaller(f);
      const input = registerInput(name, { registration_metadata: { a: 1 } });
      const first = await caller.agents.register(input);
      const changes = [
        { description: "other" },
        { acp_url: "http://elsewhere.svc:1" },
        { acp_type: "sync" as const },
        { agent_input_type: "text" as const },
        { registration_metadata: { a: 2 } },
      ];
      let version = await rowVersion(f.db.db, "agents", first.id);
      for (const change of changes) {
        const res = await caller.agents.register({ ...input, ...change });
        expect(res).toMatchObject(change);
        const next = await rowVersion(f.db.db, "agents", first.id);
        expect(next).not.toBe(version);
        version = next;
      }
    });

    it("refuses a rename onto the name of another live agent with 409", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const a = await caller.agents.register(registerInput(uniqueName()));
      const b = await caller.agents.register(registerInput(uniqueName()));
      const err = await rejection(caller.agents.register(registerInput(a.name, { agent_id: b.id })));
      expect(err.code).toBe("CONFLICT");
      expect((await agentRow(f.db.db, b.id)).name).toBe(b.name);
    });
  });

  it("rejects bad input with 422 naming each field", async () => {
    const { principal } = await f.principal();
    const err = await rejection(
      f.as(principal).agents.register({
        name: uniqueName(),
        description: "",
        acp_url: "not a url",
        acp_type: "carrier-pigeon" as "sync",
      }),
    );
    expect(err.code).toBe("UNPROCESSABLE_CONTENT");
    const fields = (err.issues as { field: string }[]).map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(["acp_url", "acp_type"]));
  });
});
