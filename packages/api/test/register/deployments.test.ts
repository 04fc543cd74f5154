/** agents.register: the internal API key it mints, and deployment-scoped registration (registration_metadata.deployment_id). */
import { createHash, randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { authenticate } from "@agentex/core";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import {
  agentRow,
  deploymentRow,
  freshCaller,
  keyRows,
  readyDeployment,
  registerInput,
  rowVersion,
} from "../lifecycle-helpers.ts";

describe(`agents.register (${TEST_STORE})`, () => {
  const f = useFixture();

  describe("the internal API key", () => {
    it("is minted on first register, is the same on every later register, starts with agx_, and only its hash is stored", async () => {
      const { caller, name } = await freshCaller(f);
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
      const { caller, name } = await freshCaller(f);
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
      const { caller, name } = await freshCaller(f);
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
      const { caller, name } = await freshCaller(f);
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
        f.withToken(agent.agent_api_key).agents.register(
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
});
