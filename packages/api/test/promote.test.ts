import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "./helpers.ts";
import {
  agentRow,
  agentTimes,
  builtAgent,
  deploymentRow,
  freshCaller,
  productionRows,
  readyDeployment,
  registerInput,
  rowVersion,
} from "./lifecycle-helpers.ts";

describe(`deployments.promote (${TEST_STORE})`, () => {
  const f = useFixture();

  it("promotes a Ready deployment: is_production + promoted_at, agent pointer and acp_url, BuildOnly → Ready with registered_at", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await readyDeployment(caller, agent, "http://first.svc:8000");
    expect(d.promoted_at).toBeNull();

    const promoted = await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
    expect(promoted).toMatchObject({
      id: d.id,
      is_production: true,
      status: "Ready",
      acp_url: "http://first.svc:8000",
    });
    expect(promoted.promoted_at).toEqual(expect.any(String));

    const after = await caller.agents.get({ agent_id: agent.id });
    expect(after).toMatchObject({
      status: "Ready",
      status_reason: null,
      production_deployment_id: d.id,
      acp_url: "http://first.svc:8000",
    });
    expect(after.registered_at).toEqual(expect.any(String));
    expect(await caller.deployments.get({ agent_id: agent.id, deployment_id: d.id })).toEqual(promoted);
  });

  it("demotes the current production deployment when another is promoted", async () => {
    const { caller, agent } = await builtAgent(f);
    const d1 = await readyDeployment(caller, agent, "http://one.svc:1");
    const d2 = await readyDeployment(caller, agent, "http://two.svc:2");
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d1.id });
    const registeredAt = (await agentTimes(f.db.db, agent.id)).registered_at;

    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d2.id });
    expect((await deploymentRow(f.db.db, d1.id)).is_production).toBe(false);
    expect((await productionRows(f.db.db, agent.id)).map((r) => r.id)).toEqual([d2.id]);
    const a = await agentRow(f.db.db, agent.id);
    expect(a.production_deployment_id).toBe(d2.id);
    expect(a.acp_url).toBe("http://two.svc:2");
    // Already Ready: the second promotion is not a first registration.
    expect((await agentTimes(f.db.db, agent.id)).registered_at).toBe(registeredAt);

    // And back again.
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d1.id });
    expect((await productionRows(f.db.db, agent.id)).map((r) => r.id)).toEqual([d1.id]);
    expect(await caller.agents.get({ agent_id: agent.id })).toMatchObject({
      production_deployment_id: d1.id,
      acp_url: "http://one.svc:1",
    });
  });

  for (const status of ["Unhealthy", "Failed", "Unknown"] as const) {
    it(`leaves an ${status} agent's status alone while cutting over`, async () => {
      const { caller, agent } = await builtAgent(f);
      const d = await readyDeployment(caller, agent, "http://x.svc:1");
      await f.db.db
        .updateTable("agents")
        .set({ status, status_reason: "set by a health checker" })
        .where("id", "=", agent.id)
        .execute();
      const before = await agentTimes(f.db.db, agent.id);

      await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
      const after = await agentRow(f.db.db, agent.id);
      expect(after.status).toBe(status);
      expect(after.status_reason).toBe("set by a health checker");
      expect(after.production_deployment_id).toBe(d.id);
      expect(after.acp_url).toBe("http://x.svc:1");
      expect((await agentTimes(f.db.db, agent.id)).registered_at).toBe(before.registered_at);
    });
  }

  it("promoting the current production deployment again is a no-op that returns it", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await readyDeployment(caller, agent);
    const promoted = await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
    const agentVersion = await rowVersion(f.db.db, "agents", agent.id);
    const deploymentVersion = await rowVersion(f.db.db, "deployments", d.id);

    const again = await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
    expect(again).toEqual(promoted);
    expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(agentVersion);
    expect(await rowVersion(f.db.db, "deployments", d.id)).toBe(deploymentVersion);
  });

  it("answers 404 for an unknown deployment, or one of another agent (which stays untouched)", async () => {
    const { caller, agent } = await builtAgent(f);
    const other = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
    const theirs = await readyDeployment(caller, other);
    const version = await rowVersion(f.db.db, "agents", agent.id);

    const unknown = await rejection(
      caller.deployments.promote({ agent_id: agent.id, deployment_id: randomUUID() }),
    );
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toMatch(/not found/);

    const foreign = await rejection(
      caller.deployments.promote({ agent_id: agent.id, deployment_id: theirs.id }),
    );
    expect(foreign.code).toBe("NOT_FOUND");
    expect(await deploymentRow(f.db.db, theirs.id)).toMatchObject({
      is_production: false,
      promoted_at: null,
    });
    expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(version);
    expect((await agentRow(f.db.db, other.id)).production_deployment_id).toBeNull();
  });

  it("answers 404 for an unknown or deleted agent", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await readyDeployment(caller, agent);
    expect(
      (await rejection(caller.deployments.promote({ agent_id: randomUUID(), deployment_id: d.id }))).code,
    ).toBe("NOT_FOUND");
    await caller.agents.delete({ agent_id: agent.id });
    expect(
      (await rejection(caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id }))).code,
    ).toBe("NOT_FOUND");
    expect((await deploymentRow(f.db.db, d.id)).is_production).toBe(false);
  });

  it("refuses (412) an expired deployment", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await readyDeployment(caller, agent);
    await caller.deployments.delete({ agent_id: agent.id, deployment_id: d.id });
    const err = await rejection(caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(await productionRows(f.db.db, agent.id)).toEqual([]);
    expect(await agentRow(f.db.db, agent.id)).toMatchObject({
      status: "BuildOnly",
      production_deployment_id: null,
    });
  });

  it("refuses (412) a deployment that is not Ready (Pending, Failed), changing nothing", async () => {
    const { caller, agent } = await builtAgent(f);
    const current = await readyDeployment(caller, agent, "http://current.svc:1");
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: current.id });
    const pending = await caller.deployments.create({ agent_id: agent.id, docker_image: "img:test" });
    const failed = await readyDeployment(caller, agent);
    await f.db.db.updateTable("deployments").set({ status: "Failed" }).where("id", "=", failed.id).execute();
    const version = await rowVersion(f.db.db, "agents", agent.id);

    for (const d of [pending, failed]) {
      const err = await rejection(caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id }));
      expect(err.code).toBe("PRECONDITION_FAILED");
      expect(err.message).toMatch(/Ready/);
    }
    expect((await productionRows(f.db.db, agent.id)).map((r) => r.id)).toEqual([current.id]);
    expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(version);
  });

  it("needs deploy rights: a viewer gets 403, a stranger 404", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await readyDeployment(caller, agent);
    const viewer = await f.principal();
    const stranger = await f.principal();
    await caller.grants.set({ agent_id: agent.id, principal_id: viewer.principal.id, role: "viewer" });
    const ref = { agent_id: agent.id, deployment_id: d.id };
    expect((await rejection(f.as(viewer.principal).deployments.promote(ref))).code).toBe("FORBIDDEN");
    expect((await rejection(f.as(stranger.principal).deployments.promote(ref))).code).toBe("NOT_FOUND");
    expect(await productionRows(f.db.db, agent.id)).toEqual([]);

    const deployer = await f.principal();
    await caller.grants.set({ agent_id: agent.id, principal_id: deployer.principal.id, role: "deployer" });
    expect((await f.as(deployer.principal).deployments.promote(ref)).is_production).toBe(true);
  });

  it("works after a legacy register: the Ready agent points at the promoted deployment", async () => {
    const { caller, name } = await freshCaller(f);
    const agent = await caller.agents.register(registerInput(name));
    const d = await readyDeployment(caller, agent, "http://cutover.svc:1");
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
    expect(await caller.agents.get({ agent_id: agent.id })).toMatchObject({
      status: "Ready",
      production_deployment_id: d.id,
      acp_url: "http://cutover.svc:1",
    });
  });
});
