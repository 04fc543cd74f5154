import { createHash, randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { authenticate } from "../src/auth.ts";
import { rejection, uniqueName, useFixture } from "./helpers.ts";
import {
  agentRow,
  agentTimes,
  deploymentRow,
  grantRows,
  keyRows,
  productionRows,
  readyDeployment,
  registerInput,
  rowVersion,
} from "./lifecycle-helpers.ts";

describe(`agents.register (${TEST_STORE})`, () => {
  const f = useFixture();

  describe("finding the agent", () => {
    it("creates a Ready agent with the URL when the name is new; the caller owns it", async () => {
      const { principal } = await f.principal();
      const name = uniqueName();
      const res = await f
        .as(principal)
        .agents.register(
          registerInput(name, {
            acp_type: "sync",
            agent_input_type: "text",
            registration_metadata: { pod: "a" },
          }),
        );
      expect(res).toMatchObject({
        name,
        status: "Ready",
        status_reason: null,
        acp_url: `http://${name}.svc:8000`,
        acp_type: "sync",
        agent_input_type: "text",
        registration_metadata: { pod: "a" },
        production_deployment_id: null,
      });
      expect(res.registered_at).toEqual(expect.any(String));
      expect((await grantRows(f.db.db, res.id)).map((g) => [g.principal_id, g.role])).toEqual([
        [principal.id, "owner"],
      ]);
      const { agent_api_key: _, ...agent } = res;
      expect(await f.as(principal).agents.get({ agent_id: res.id })).toEqual(agent);
    });

    it("keeps the deprecated acp_type alias `agentic` as sent", async () => {
      const { principal } = await f.principal();
      const res = await f.as(principal).agents.register(registerInput(uniqueName(), { acp_type: "agentic" }));
      expect(res.acp_type).toBe("agentic");
      expect((await agentRow(f.db.db, res.id)).acp_type).toBe("agentic");
    });

    it("finds an existing agent by name: a BuildOnly agent becomes Ready with the same id", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
      const built = await caller.agents.registerBuild({ name, description: "built" });
      const res = await caller.agents.register(registerInput(name, { description: "running" }));
      expect(res.id).toBe(built.id);
      expect(res).toMatchObject({
        status: "Ready",
        status_reason: null,
        acp_url: `http://${name}.svc:8000`,
        description: "running",
      });
      expect(res.registered_at).toEqual(expect.any(String));
      expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute()).toHaveLength(
        1,
      );
    });

    it("finds the agent by agent_id when given, even under another name (and renames it)", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const built = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
      const newName = uniqueName("renamed");
      const res = await caller.agents.register(registerInput(newName, { agent_id: built.id }));
      expect(res.id).toBe(built.id);
      expect(res.name).toBe(newName);
      expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", newName).execute()).toEqual([
        { id: built.id },
      ]);
    });

    it("answers 404 for an unknown agent_id and creates nothing", async () => {
      const { principal } = await f.principal({ admin: true });
      const name = uniqueName();
      const missing = randomUUID();
      const err = await rejection(
        f.as(principal).agents.register(registerInput(name, { agent_id: missing })),
      );
      expect(err.code).toBe("NOT_FOUND");
      expect(err.message).toMatch(/not found/);
      expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute()).toEqual([]);
    });

    it("answers 404 for a deleted agent_id and leaves it deleted", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
      const agent = await caller.agents.registerBuild({ name, description: "" });
      await caller.agents.delete({ agent_id: agent.id });
      const err = await rejection(caller.agents.register(registerInput(name, { agent_id: agent.id })));
      expect(err.code).toBe("NOT_FOUND");
      expect((await agentRow(f.db.db, agent.id)).status).toBe("Deleted");
      expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute()).toHaveLength(
        1,
      );
    });

    it("never lets a caller who cannot read an agent take it over by name (409) or by id (404)", async () => {
      const owner = await f.principal();
      const stranger = await f.principal({ can_create_agents: true });
      const name = uniqueName();
      const agent = await f.as(owner.principal).agents.registerBuild({ name, description: "private" });
      const version = await rowVersion(f.db.db, "agents", agent.id);
      const s = f.as(stranger.principal);

      const byName = await rejection(
        s.agents.register(registerInput(name, { acp_url: "http://evil.svc:1" })),
      );
      expect(byName.code).toBe("CONFLICT");
      expect(byName.message).not.toContain(agent.id);
      const byId = await rejection(s.agents.register(registerInput(name, { agent_id: agent.id })));
      expect(byId.code).toBe("NOT_FOUND");
      const d = await f
        .as(owner.principal)
        .deployments.create({ agent_id: agent.id, docker_image: "img:test" });
      const scoped = await rejection(
        s.agents.register(registerInput(name, { registration_metadata: { deployment_id: d.id } })),
      );
      expect(scoped.code).toBe("CONFLICT");

      expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(version);
      expect((await grantRows(f.db.db, agent.id)).map((g) => g.principal_id)).toEqual([owner.principal.id]);
      expect(await keyRows(f.db.db, agent.id)).toEqual([]);
      expect((await deploymentRow(f.db.db, d.id)).status).toBe("Pending");
    });

    it("a viewer may not register (403) and changes nothing", async () => {
      const owner = await f.principal();
      const viewer = await f.principal();
      const name = uniqueName();
      const agent = await f.as(owner.principal).agents.registerBuild({ name, description: "" });
      await f
        .as(owner.principal)
        .grants.set({ agent_id: agent.id, principal_id: viewer.principal.id, role: "viewer" });
      const version = await rowVersion(f.db.db, "agents", agent.id);
      expect((await rejection(f.as(viewer.principal).agents.register(registerInput(name)))).code).toBe(
        "FORBIDDEN",
      );
      expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(version);
      expect(await keyRows(f.db.db, agent.id)).toEqual([]);
    });

    it("by name, a name held only by a deleted agent gets a new agent with a new id", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
      const old = await caller.agents.register(registerInput(name));
      await caller.agents.delete({ agent_id: old.id });
      const fresh = await caller.agents.register(registerInput(name));
      expect(fresh.id).not.toBe(old.id);
      expect(fresh.status).toBe("Ready");
      expect(fresh.agent_api_key).not.toBe(old.agent_api_key);
      expect((await agentRow(f.db.db, old.id)).status).toBe("Deleted");
    });
  });

  describe("the internal API key", () => {
    it("is minted on first register, is the same on every later register, starts with agx_, and only its hash is stored", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
      const built = await caller.agents.registerBuild({ name, description: "" });
      expect(await keyRows(f.db.db, built.id)).toEqual([]);

      const first = await caller.agents.register(registerInput(name));
      const second = await caller.agents.register(registerInput(name, { acp_url: "http://other.svc:9000" }));
      const deployment = await caller.deployments.create({ agent_id: built.id, docker_image: "img:test" });
      const third = await caller.agents.register(
        registerInput(name, { registration_metadata: { deployment_id: deployment.id } }),
      );
      expect(first.agent_api_key).toMatch(/^agx_/);
      expect(second.agent_api_key).toBe(first.agent_api_key);
      expect(third.agent_api_key).toBe(first.agent_api_key);

      const keys = await keyRows(f.db.db, built.id);
      expect(keys).toHaveLength(1);
      expect(keys[0]!.api_key_type).toBe("internal");
      expect(Buffer.from(keys[0]!.key_hash)).toEqual(
        createHash("sha256").update(first.agent_api_key).digest(),
      );
      // No key row holds the key itself (only a short display prefix).
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from agent_api_keys k
        where position(${first.agent_api_key} in row_to_json(k)::text) > 0`.execute(f.db.db);
      expect(rows[0]!.n).toBe(0);
      expect(keys[0]!.key_prefix.length).toBeLessThan(first.agent_api_key.length / 2);

      const asAgent = await authenticate(f.db.db, first.agent_api_key);
      expect(asAgent).toMatchObject({ kind: "agent", agent_id: built.id });
    });

    it("differs between agents", async () => {
      const { principal } = await f.principal();
      const a = await f.as(principal).agents.register(registerInput(uniqueName()));
      const b = await f.as(principal).agents.register(registerInput(uniqueName()));
      expect(a.agent_api_key).not.toBe(b.agent_api_key);
    });

    it("never lets the agent re-register (re-point) itself with its own key", async () => {
      const { principal } = await f.principal();
      const name = uniqueName();
      const res = await f.as(principal).agents.register(registerInput(name));
      const err = await rejection(
        f
          .withToken(res.agent_api_key)
          .agents.register(registerInput(name, { acp_url: "http://moved.svc:1" })),
      );
      expect(err.code).toBe("FORBIDDEN");
      expect((await f.as(principal).agents.get({ agent_id: res.id })).acp_url).toBe(res.acp_url);
    });
  });

  describe("deployment-scoped (registration_metadata.deployment_id)", () => {
    it("marks an existing Pending deployment Ready at the URL and does not touch the agent row", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
      const built = await caller.agents.registerBuild({ name, description: "built" });
      const pending = await caller.deployments.create({ agent_id: built.id, docker_image: "img:1" });
      expect(pending.status).toBe("Pending");
      const version = await rowVersion(f.db.db, "agents", built.id);

      const res = await caller.agents.register(
        registerInput(name, {
          description: "changed?",
          acp_url: "http://pod-1.svc:8000",
          registration_metadata: { deployment_id: pending.id, pod: "p1" },
        }),
      );
      const { agent_api_key, ...agent } = res;
      expect(agent_api_key).toMatch(/^agx_/);
      expect(agent).toEqual(built);
      expect(await rowVersion(f.db.db, "agents", built.id)).toBe(version);
      expect(await caller.agents.get({ agent_id: built.id })).toEqual(built);

      const deployment = await caller.deployments.get({ agent_id: built.id, deployment_id: pending.id });
      expect(deployment).toMatchObject({
        status: "Ready",
        acp_url: "http://pod-1.svc:8000",
        docker_image: "img:1",
        is_production: false,
      });
      expect(deployment.registration_metadata).toMatchObject({ deployment_id: pending.id, pod: "p1" });
    });

    it("creates the deployment (Ready, for this agent) when the id is new", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
      const built = await caller.agents.registerBuild({ name, description: "" });
      const id = randomUUID();
      await caller.agents.register(
        registerInput(name, { acp_url: "http://new.svc:1", registration_metadata: { deployment_id: id } }),
      );
      const row = await deploymentRow(f.db.db, id);
      expect(row).toMatchObject({
        agent_id: built.id,
        status: "Ready",
        acp_url: "http://new.svc:1",
        is_production: false,
      });
      expect((await agentRow(f.db.db, built.id)).status).toBe("BuildOnly");
    });

    it("re-registering a deployment updates its URL; the agent row is untouched", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
      const agent = await caller.agents.register(registerInput(name));
      const d = await readyDeployment(caller, agent, "http://pod-a.svc:1");
      const version = await rowVersion(f.db.db, "agents", agent.id);
      await caller.agents.register(
        registerInput(name, {
          acp_url: "http://pod-b.svc:1",
          registration_metadata: { deployment_id: d.id },
        }),
      );
      expect((await deploymentRow(f.db.db, d.id)).acp_url).toBe("http://pod-b.svc:1");
      expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(version);
      expect((await agentRow(f.db.db, agent.id)).acp_url).toBe(`http://${name}.svc:8000`);
    });

    it("re-registering the production deployment at a new URL moves the agent's acp_url with it (pointer and URL agree)", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const agent = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
      const d = await readyDeployment(caller, agent, "http://prod-a.svc:1");
      await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
      const before = await agentRow(f.db.db, agent.id);
      await caller.agents.register(
        registerInput(agent.name, {
          description: "ignored",
          acp_url: "http://prod-b.svc:1",
          registration_metadata: { deployment_id: d.id },
        }),
      );
      const after = await agentRow(f.db.db, agent.id);
      expect(after.acp_url).toBe("http://prod-b.svc:1");
      expect({ ...after, acp_url: before.acp_url, updated_at: before.updated_at }).toEqual(before);
    });

    it("a pod cannot register its deployment with the agent key: registering needs a principal with the register action", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const agent = await caller.agents.register(registerInput(uniqueName()));
      const pending = await caller.deployments.create({ agent_id: agent.id, docker_image: "img:test" });
      const err = await rejection(
        f
          .withToken(agent.agent_api_key)
          .agents.register(
            registerInput(agent.name, {
              acp_url: "http://pod.svc:1",
              registration_metadata: { deployment_id: pending.id },
            }),
          ),
      );
      expect(err.code).toBe("FORBIDDEN");
      expect(await deploymentRow(f.db.db, pending.id)).toMatchObject({ status: "Pending", acp_url: null });
    });

    it("refuses (409) a deployment id that belongs to another agent, leaving that deployment alone", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const a = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
      const b = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
      const theirs = await readyDeployment(caller, a, "http://a-pod.svc:1");
      const before = await deploymentRow(f.db.db, theirs.id);
      const bVersion = await rowVersion(f.db.db, "agents", b.id);

      const err = await rejection(
        caller.agents.register(
          registerInput(b.name, {
            acp_url: "http://hijack.svc:1",
            registration_metadata: { deployment_id: theirs.id },
          }),
        ),
      );
      expect(err.code).toBe("CONFLICT");
      expect(await deploymentRow(f.db.db, theirs.id)).toEqual(before);
      expect(await rowVersion(f.db.db, "agents", b.id)).toBe(bVersion);
      expect(await keyRows(f.db.db, b.id)).toEqual([]);
    });

    it("does not bring a deleted (expired) deployment back", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const agent = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
      const d = await readyDeployment(caller, agent);
      await caller.deployments.delete({ agent_id: agent.id, deployment_id: d.id });
      const err = await rejection(
        caller.agents.register(registerInput(agent.name, { registration_metadata: { deployment_id: d.id } })),
      );
      expect(err.code).toBe("CONFLICT");
      expect((await deploymentRow(f.db.db, d.id)).expires_at).not.toBeNull();
    });

    it("rejects a deployment_id that is not a uuid with 422 naming the field", async () => {
      const { principal } = await f.principal();
      const name = uniqueName();
      const err = await rejection(
        f
          .as(principal)
          .agents.register(registerInput(name, { registration_metadata: { deployment_id: "nope" } })),
      );
      expect(err.code).toBe("UNPROCESSABLE_CONTENT");
      expect(JSON.stringify(err.issues)).toContain("registration_metadata.deployment_id");
    });
  });

  describe("legacy (no deployment id)", () => {
    it("sets name, description, acp_url, acp_type, input type; merges registration_metadata; Ready; registered_at now", async () => {
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
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
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
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
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
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
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
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
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
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
      const { principal } = await f.principal();
      const caller = f.as(principal);
      const name = uniqueName();
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
