import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { authenticate } from "@agentex/core";
import { rejection, uniqueName, useFixture } from "./helpers.ts";
import {
  agentRow,
  freshCaller,
  grantRows,
  keyRows,
  readyDeployment,
  registerInput,
} from "./lifecycle-helpers.ts";

describe(`agents.delete (${TEST_STORE})`, () => {
  const f = useFixture();

  it("soft-deletes: status Deleted, gone from get, getByName and list; deleting again is 404", async () => {
    const { caller, name } = await freshCaller(f);
    const agent = await caller.agents.registerBuild({ name, description: "" });
    const keep = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
    expect((await caller.agents.list({})).map((a) => a.id)).toContain(agent.id);

    const res = await caller.agents.delete({ agent_id: agent.id });
    expect(res).toEqual({ id: agent.id, message: `Agent '${agent.id}' deleted successfully` });

    expect((await agentRow(f.db.db, agent.id)).status).toBe("Deleted");
    for (const err of [
      await rejection(caller.agents.get({ agent_id: agent.id })),
      await rejection(caller.agents.getByName({ agent_name: name })),
      await rejection(caller.agents.delete({ agent_id: agent.id })),
      await rejection(caller.agents.deleteByName({ agent_name: name })),
    ]) {
      expect(err.code).toBe("NOT_FOUND");
      expect(err.message).toMatch(/not found/);
    }
    const listed = (await caller.agents.list({ limit: 1000 })).map((a) => a.id);
    expect(listed).not.toContain(agent.id);
    expect(listed).toContain(keep.id);
    const paged = await caller.agents.listPage({ limit: 1000 });
    expect(paged.items.map((a) => a.id)).not.toContain(agent.id);
    // Not even an admin, nor a filter on the Deleted status, lists it.
    const { principal: admin } = await f.principal({ admin: true });
    expect((await f.as(admin).agents.list({ limit: 1000 })).map((a) => a.id)).not.toContain(agent.id);
    expect(await f.as(admin).agents.list({ status: "Deleted" })).toEqual([]);
    expect((await f.as(admin).agents.listPage({ status: "Deleted" })).items).toEqual([]);
    expect((await rejection(f.as(admin).agents.get({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
  });

  it("deleteByName answers with the name and frees it", async () => {
    const { caller, name } = await freshCaller(f);
    const agent = await caller.agents.registerBuild({ name, description: "" });
    expect(await caller.agents.deleteByName({ agent_name: name })).toEqual({
      id: agent.id,
      message: `Agent '${name}' deleted successfully`,
    });
    expect((await agentRow(f.db.db, agent.id)).status).toBe("Deleted");
    expect((await caller.agents.registerBuild({ name, description: "" })).id).not.toBe(agent.id);
  });

  it("its grants stop working at once: the agent's grants are gone and no one reads it", async () => {
    const owner = await f.principal();
    const viewer = await f.principal();
    const caller = f.as(owner.principal);
    const name = uniqueName();
    const agent = await caller.agents.registerBuild({ name, description: "" });
    await caller.grants.set({ agent_id: agent.id, principal_id: viewer.principal.id, role: "deployer" });
    expect((await f.as(viewer.principal).agents.get({ agent_id: agent.id })).id).toBe(agent.id);

    await caller.agents.delete({ agent_id: agent.id });
    expect(await grantRows(f.db.db, agent.id)).toEqual([]);
    const v = f.as(viewer.principal);
    expect((await rejection(v.agents.get({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
    expect(
      (await rejection(v.deployments.create({ agent_id: agent.id, docker_image: "img:test" }))).code,
    ).toBe("NOT_FOUND");
    expect((await rejection(caller.grants.list({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
    expect((await v.agents.list({ limit: 1000 })).map((a) => a.id)).not.toContain(agent.id);

    // A new agent under the same name does not inherit the old grants.
    const reborn = await caller.agents.registerBuild({ name, description: "" });
    expect((await rejection(v.agents.get({ agent_id: reborn.id }))).code).toBe("NOT_FOUND");
    expect((await rejection(v.agents.registerBuild({ name, description: "" }))).code).toBe("CONFLICT");
  });

  it("its API keys stop working at once (internal and external)", async () => {
    const { caller, name } = await freshCaller(f);
    const registered = await caller.agents.register(registerInput(name));
    const external = await caller.agentApiKeys.create({
      agent_id: registered.id,
      name: "ci",
      api_key_type: "external",
    });
    for (const key of [registered.agent_api_key, external.api_key]) {
      expect(await authenticate(f.db.db, key)).toMatchObject({ kind: "agent", agent_id: registered.id });
      expect((await f.withToken(key).agents.get({ agent_id: registered.id })).id).toBe(registered.id);
    }

    await caller.agents.delete({ agent_id: registered.id });
    for (const key of [registered.agent_api_key, external.api_key]) {
      expect(await authenticate(f.db.db, key)).toBeNull();
      expect((await rejection(f.withToken(key).agents.get({ agent_id: registered.id }))).code).toBe(
        "UNAUTHORIZED",
      );
      expect((await rejection(f.withToken(key).agents.register(registerInput(name)))).code).toBe(
        "UNAUTHORIZED",
      );
    }
    expect((await keyRows(f.db.db, registered.id)).every((k) => k.revoked_at !== null)).toBe(true);

    // A new agent under the same name gets a new key; the old one stays dead.
    const reborn = await caller.agents.register(registerInput(name));
    expect(reborn.id).not.toBe(registered.id);
    expect(reborn.agent_api_key).not.toBe(registered.agent_api_key);
    expect(await authenticate(f.db.db, registered.agent_api_key)).toBeNull();
    expect(await authenticate(f.db.db, reborn.agent_api_key)).toMatchObject({ agent_id: reborn.id });
  });

  it("deletes an agent that has a production deployment; its deployments become unreachable", async () => {
    const { principal } = await f.principal();
    const caller = f.as(principal);
    const agent = await caller.agents.registerBuild({ name: uniqueName(), description: "" });
    const d = await readyDeployment(caller, agent);
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });

    await caller.agents.delete({ agent_id: agent.id });
    expect((await agentRow(f.db.db, agent.id)).status).toBe("Deleted");
    const ref = { agent_id: agent.id, deployment_id: d.id };
    expect((await rejection(caller.deployments.get(ref))).code).toBe("NOT_FOUND");
    expect((await rejection(caller.deployments.list({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
    expect((await rejection(caller.deployments.promote(ref))).code).toBe("NOT_FOUND");
    expect((await rejection(caller.deployments.delete(ref))).code).toBe("NOT_FOUND");
  });

  it("needs the owner role: a deployer gets 403, a stranger 404, and the agent survives", async () => {
    const owner = await f.principal();
    const deployer = await f.principal();
    const stranger = await f.principal();
    const agent = await f.as(owner.principal).agents.registerBuild({ name: uniqueName(), description: "" });
    await f
      .as(owner.principal)
      .grants.set({ agent_id: agent.id, principal_id: deployer.principal.id, role: "deployer" });
    expect((await rejection(f.as(deployer.principal).agents.delete({ agent_id: agent.id }))).code).toBe(
      "FORBIDDEN",
    );
    expect((await rejection(f.as(stranger.principal).agents.delete({ agent_id: agent.id }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await agentRow(f.db.db, agent.id)).status).toBe("BuildOnly");
  });
});
