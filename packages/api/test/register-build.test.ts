import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "./helpers.ts";
import {
  agentRow,
  freshCaller,
  grantRows,
  keyRows,
  readyDeployment,
  registerInput,
  rowVersion,
} from "./lifecycle-helpers.ts";

describe(`agents.registerBuild (${TEST_STORE})`, () => {
  const f = useFixture();

  it("creates a BuildOnly agent with a status_reason, no URL, no API key, owned by the caller", async () => {
    const { principal } = await f.principal();
    const name = uniqueName();
    const agent = await f.as(principal).agents.registerBuild({
      name,
      description: "built, not yet running",
      registration_metadata: { git_sha: "abc123" },
      agent_input_type: "json",
    });

    expect(agent).toMatchObject({
      name,
      description: "built, not yet running",
      status: "BuildOnly",
      acp_url: null,
      registered_at: null,
      production_deployment_id: null,
      agent_input_type: "json",
      registration_metadata: { git_sha: "abc123" },
    });
    expect(agent.status_reason).toMatch(/built/i);
    expect(agent.status_reason).toMatch(/not deployed/i);
    expect(agent).not.toHaveProperty("agent_api_key");

    expect(await keyRows(f.db.db, agent.id)).toEqual([]);
    const grants = await grantRows(f.db.db, agent.id);
    expect(grants.map((g) => [g.principal_id, g.role])).toEqual([[principal.id, "owner"]]);

    const stored = await agentRow(f.db.db, agent.id);
    expect(stored.status).toBe("BuildOnly");
    expect(stored.created_by).toBe(principal.id);
    expect(await f.as(principal).agents.get({ agent_id: agent.id })).toEqual(agent);
  });

  it("is idempotent by name: the same agent comes back unchanged and nothing is written", async () => {
    const { caller, name } = await freshCaller(f);
    const first = await caller.agents.registerBuild({
      name,
      description: "first",
      registration_metadata: { v: 1 },
    });
    const version = await rowVersion(f.db.db, "agents", first.id);

    const again = await caller.agents.registerBuild({
      name,
      description: "second description",
      registration_metadata: { v: 2 },
      agent_input_type: "text",
    });
    expect(again).toEqual(first);
    expect(await rowVersion(f.db.db, "agents", first.id)).toBe(version);
    expect(await keyRows(f.db.db, first.id)).toEqual([]);
    const rows = await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute();
    expect(rows).toHaveLength(1);
  });

  it("never clobbers status, acp_url or description of a deployed (promoted) agent", async () => {
    const { caller, name } = await freshCaller(f);
    const built = await caller.agents.registerBuild({ name, description: "original" });
    const deployment = await readyDeployment(caller, built);
    await caller.deployments.promote({ agent_id: built.id, deployment_id: deployment.id });
    const deployed = await caller.agents.get({ agent_id: built.id });
    expect(deployed).toMatchObject({
      status: "Ready",
      acp_url: deployment.acp_url,
      production_deployment_id: deployment.id,
    });
    const version = await rowVersion(f.db.db, "agents", built.id);

    const again = await caller.agents.registerBuild({
      name,
      description: "rebuilt",
      agent_input_type: "text",
    });
    expect(again).toEqual(deployed);
    expect(again.status).toBe("Ready");
    expect(again.acp_url).toBe(deployment.acp_url);
    expect(again.description).toBe("original");
    expect(await rowVersion(f.db.db, "agents", built.id)).toBe(version);
    expect(await caller.agents.get({ agent_id: built.id })).toEqual(deployed);
  });

  it("never clobbers an agent that was registered the legacy way (Ready with a URL)", async () => {
    const { caller, name } = await freshCaller(f);
    const registered = await caller.agents.register(registerInput(name, { description: "running" }));
    const { agent_api_key: _, ...agent } = registered;
    const version = await rowVersion(f.db.db, "agents", agent.id);

    const again = await caller.agents.registerBuild({ name, description: "ci rebuild" });
    expect(again).toEqual(agent);
    expect(again).toMatchObject({
      status: "Ready",
      acp_url: registerInput(name).acp_url,
      description: "running",
    });
    expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(version);
  });

  it("grants nothing new to a caller who can already read the agent", async () => {
    const owner = await f.principal();
    const viewer = await f.principal();
    const name = uniqueName();
    const agent = await f.as(owner.principal).agents.registerBuild({ name, description: "shared" });
    await f
      .as(owner.principal)
      .grants.set({ agent_id: agent.id, principal_id: viewer.principal.id, role: "viewer" });
    const before = await grantRows(f.db.db, agent.id);

    const seen = await f.as(viewer.principal).agents.registerBuild({ name, description: "mine now?" });
    expect(seen).toEqual(agent);
    expect(await grantRows(f.db.db, agent.id)).toEqual(before);
    expect(before.find((g) => g.principal_id === viewer.principal.id)?.role).toBe("viewer");
  });

  it("answers 409 without revealing the agent, and grants nothing, when the caller cannot read it", async () => {
    const owner = await f.principal();
    const stranger = await f.principal({ can_create_agents: true });
    const name = uniqueName();
    const agent = await f
      .as(owner.principal)
      .agents.registerBuild({ name, description: "secret-description-xyz" });
    const before = await grantRows(f.db.db, agent.id);

    const err = await rejection(
      f.as(stranger.principal).agents.registerBuild({ name, description: "steal" }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.message).not.toContain(agent.id);
    expect(err.message).not.toContain("secret-description-xyz");
    expect(err.message).not.toContain(owner.principal.id);
    expect(await grantRows(f.db.db, agent.id)).toEqual(before);
    expect((await rejection(f.as(stranger.principal).agents.get({ agent_id: agent.id }))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("gives a name held only by a deleted agent to a new agent with a new id; the old row stays deleted", async () => {
    const { principal, caller, name } = await freshCaller(f);
    const old = await caller.agents.registerBuild({ name, description: "v1" });
    await caller.agents.delete({ agent_id: old.id });

    const fresh = await caller.agents.registerBuild({ name, description: "v2" });
    expect(fresh.id).not.toBe(old.id);
    expect(fresh).toMatchObject({ name, description: "v2", status: "BuildOnly", acp_url: null });
    expect((await agentRow(f.db.db, old.id)).status).toBe("Deleted");
    expect((await rejection(caller.agents.get({ agent_id: old.id }))).code).toBe("NOT_FOUND");
    expect((await caller.agents.getByName({ agent_name: name })).id).toBe(fresh.id);
    // The old agent's grants did not come back to life on the new id or the old one.
    expect(await grantRows(f.db.db, old.id)).toEqual([]);
    expect((await grantRows(f.db.db, fresh.id)).map((g) => g.principal_id)).toEqual([principal.id]);

    // A second delete-and-recreate again yields a new id, never a reused one.
    await caller.agents.delete({ agent_id: fresh.id });
    const third = await caller.agents.registerBuild({ name, description: "v3" });
    expect(new Set([old.id, fresh.id, third.id]).size).toBe(3);
    const rows = await f.db.db
      .selectFrom("agents")
      .select(["id", "status"])
      .where("name", "=", name)
      .execute();
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => r.status !== "Deleted").map((r) => r.id)).toEqual([third.id]);
  });

  it("needs the create permission to create, but not to get an agent back that the caller can read", async () => {
    const owner = await f.principal();
    const plain = await f.principal({ can_create_agents: false });
    const name = uniqueName();
    expect(
      (await rejection(f.as(plain.principal).agents.registerBuild({ name, description: "" }))).code,
    ).toBe("FORBIDDEN");
    expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute()).toEqual([]);

    const agent = await f.as(owner.principal).agents.registerBuild({ name, description: "" });
    await f
      .as(owner.principal)
      .grants.set({ agent_id: agent.id, principal_id: plain.principal.id, role: "viewer" });
    expect(await f.as(plain.principal).agents.registerBuild({ name, description: "" })).toEqual(agent);
  });

  it("rejects an invalid name with 422 naming the field", async () => {
    const { principal } = await f.principal();
    for (const name of ["Upper", "has_underscore", "", "x".repeat(64)]) {
      const err = await rejection(f.as(principal).agents.registerBuild({ name, description: "" }));
      expect(err.code).toBe("UNPROCESSABLE_CONTENT");
      expect(err.issues).toEqual(expect.arrayContaining([expect.objectContaining({ field: "name" })]));
    }
  });
});
