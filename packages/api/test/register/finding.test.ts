/** agents.register: which agent a registration lands on (by name, by id), and who may take one over. */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import {
  agentRow,
  deploymentRow,
  freshCaller,
  grantRows,
  keyRows,
  registerInput,
  rowVersion,
} from "../lifecycle-helpers.ts";

describe(`agents.register (${TEST_STORE})`, () => {
  const f = useFixture();

  describe("finding the agent", () => {
    it("creates a Ready agent with the URL when the name is new; the caller owns it", async () => {
      const { principal } = await f.principal();
      const name = uniqueName();
      const res = await f.as(principal).agents.register(
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
      const { caller, name } = await freshCaller(f);
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
      const { caller, name } = await freshCaller(f);
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
      const { caller, name } = await freshCaller(f);
      const old = await caller.agents.register(registerInput(name));
      await caller.agents.delete({ agent_id: old.id });
      const fresh = await caller.agents.register(registerInput(name));
      expect(fresh.id).not.toBe(old.id);
      expect(fresh.status).toBe("Ready");
      expect(fresh.agent_api_key).not.toBe(old.agent_api_key);
      expect((await agentRow(f.db.db, old.id)).status).toBe("Deleted");
    });
  });
});
