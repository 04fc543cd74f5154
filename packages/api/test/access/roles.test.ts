/** Identity and access through the router (no HTTP): each role's allowed and refused actions. */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import { url, accessFixtures } from "./support.ts";

describe(`access (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const f = useFixture();
  const { grantsOf, deployedAgent } = accessFixtures(f);

  describe("roles", () => {
    type Role = "viewer" | "deployer" | "owner" | "admin";
    type Need = "read" | "register" | "deploy" | "own";
    interface Action {
      name: string;
      needs: Need;
      run: () => Promise<unknown>;
      check?: (r: unknown) => void;
    }
    /** One row of the table, its check typed by what its procedure returns. */
    const action = <T>(a: {
      name: string;
      needs: Need;
      run: () => Promise<T>;
      check?: (r: T) => void;
    }): Action => ({
      ...a,
      check: a.check && ((r) => a.check!(r as T)),
    });
    const MAY: Record<Role, Need[]> = {
      viewer: ["read"],
      deployer: ["read", "register", "deploy"],
      owner: ["read", "register", "deploy", "own"],
      admin: ["read", "register", "deploy", "own"],
    };

    for (const role of ["viewer", "deployer", "owner", "admin"] as const) {
      it(`${role}: allowed and refused actions`, async () => {
        const { principal: o } = await f.principal();
        const { principal: x } = await f.principal();
        const { principal: p } = await f.principal(
          role === "admin" ? { admin: true, can_create_agents: false } : { can_create_agents: false },
        );
        const fx = await deployedAgent(o);
        const id = fx.agent.id;
        if (role !== "admin") await f.as(o).grants.set({ agent_id: id, principal_id: p.id, role });
        await f.as(o).grants.set({ agent_id: id, principal_id: x.id, role: "viewer" });
        const ownersKey = await f.as(o).agentApiKeys.create({ agent_id: id, name: "owner-made" });
        const api = f.as(p);

        const actions: Action[] = [
          action({
            name: "get",
            needs: "read",
            run: () => api.agents.get({ agent_id: id }),
            check: (r) => expect(r.id).toBe(id),
          }),
          action({
            name: "getByName",
            needs: "read",
            run: () => api.agents.getByName({ agent_name: fx.name }),
            check: (r) => expect(r.id).toBe(id),
          }),
          action({
            name: "list",
            needs: "read",
            run: () => api.agents.list({ limit: 1000 }),
            check: (r) => expect(r.map((a: { id: string }) => a.id)).toContain(id),
          }),
          action({
            name: "registerBuild (idempotent)",
            needs: "read",
            run: () => api.agents.registerBuild({ name: fx.name, description: "other" }),
            check: (r) => expect(r).toEqual(fx.agent),
          }),
          action({
            name: "deployments.list",
            needs: "read",
            run: () => api.deployments.list({ agent_id: id }),
            check: (r) => expect(r).toHaveLength(3),
          }),
          action({
            name: "deployments.get",
            needs: "read",
            run: () => api.deployments.get({ agent_id: id, deployment_id: fx.prod }),
            check: (r) => expect(r.is_production).toBe(true),
          }),
          action({
            name: "deployments.create",
            needs: "deploy",
            run: () => api.deployments.create({ agent_id: id, docker_image: "img:2" }),
            check: (r) => expect(r).toMatchObject({ agent_id: id, status: "Pending" }),
          }),
          action({
            name: "deployments.promote",
            needs: "deploy",
            run: () => api.deployments.promote({ agent_id: id, deployment_id: fx.ready }),
            check: (r) => expect(r).toMatchObject({ id: fx.ready, is_production: true }),
          }),
          action({
            name: "deployments.delete",
            needs: "deploy",
            run: () => api.deployments.delete({ agent_id: id, deployment_id: fx.pending }),
            check: (r) => expect(r.id).toBe(fx.pending),
          }),
          action({
            name: "register (deployment-scoped)",
            needs: "register",
            run: () =>
              api.agents.register({
                agent_id: id,
                name: fx.name,
                description: fx.agent.description,
                acp_url: url("pod"),
                acp_type: "async",
                registration_metadata: { deployment_id: randomUUID() },
              }),
            check: (r) => expect(r.agent_api_key).toBe(fx.key),
          }),
          action({
            name: "register (legacy, by name)",
            needs: "register",
            run: () =>
              api.agents.register({
                name: fx.name,
                description: "legacy",
                acp_url: url("legacy"),
                acp_type: "sync",
              }),
            check: (r) => expect(r).toMatchObject({ id, acp_url: url("legacy"), agent_api_key: fx.key }),
          }),
          action({
            name: "grants.list",
            needs: "own",
            run: () => api.grants.list({ agent_id: id }),
            check: (r) => expect(r.length).toBeGreaterThanOrEqual(2),
          }),
          action({
            name: "grants.set",
            needs: "own",
            run: () => api.grants.set({ agent_id: id, principal_id: x.id, role: "deployer" }),
            check: (r) => expect(r).toMatchObject({ principal_id: x.id, role: "deployer" }),
          }),
          action({
            name: "grants.revoke",
            needs: "own",
            run: () => api.grants.revoke({ agent_id: id, principal_id: x.id }),
          }),
          action({
            name: "agentApiKeys.create",
            needs: "own",
            run: () => api.agentApiKeys.create({ agent_id: id, name: `by-${role}` }),
            check: (r) => expect(r.api_key).toMatch(/^agx_key_/),
          }),
          { name: "agentApiKeys.list", needs: "own", run: () => api.agentApiKeys.list({ agent_id: id }) },
          action({
            name: "agentApiKeys.revoke",
            needs: "own",
            run: () => api.agentApiKeys.revoke({ id: ownersKey.id }),
          }),
          { name: "agents.delete", needs: "own", run: () => api.agents.delete({ agent_id: id }) },
        ];

        const outcome: Record<string, string> = {};
        const expected: Record<string, string> = {};
        for (const action of actions) {
          const allowed = MAY[role].includes(action.needs);
          expected[action.name] = allowed ? "ok" : "FORBIDDEN";
          try {
            const result = await action.run();
            action.check?.(result);
            outcome[action.name] = "ok";
          } catch (err) {
            outcome[action.name] = (err as { code?: string }).code ?? String(err);
          }
        }
        expect(outcome).toEqual(expected);

        // Refused actions changed nothing; allowed ones took effect.
        const grants = await grantsOf(id);
        if (MAY[role].includes("own")) {
          expect(grants.find((g) => g.principal_id === x.id)).toBeUndefined();
          expect((await rejection(f.as(o).agents.get({ agent_id: id }))).code).toBe("NOT_FOUND");
        } else {
          expect(grants).toContainEqual({ principal_id: x.id, role: "viewer" });
          const agent = await f.as(o).agents.get({ agent_id: id });
          expect(agent.status).not.toBe("Deleted");
          const keys = await f.as(o).agentApiKeys.list({ agent_id: id });
          expect(keys.map((k) => k.id)).toContain(ownersKey.id);
          if (!MAY[role].includes("deploy")) {
            expect(agent.production_deployment_id).toBe(fx.prod);
            const deps = await f.as(o).deployments.list({ agent_id: id });
            expect(deps.map((d) => d.id).sort()).toEqual([fx.prod, fx.ready, fx.pending].sort());
          }
        }
      });
    }

    it("only admins manage principals and tokens", async () => {
      const { principal: admin } = await f.principal({ admin: true });
      const { principal: u } = await f.principal({ can_create_agents: true });
      expect((await rejection(f.as(u).principals.create({ name: uniqueName("p"), kind: "user" }))).code).toBe(
        "FORBIDDEN",
      );
      expect((await rejection(f.as(u).principals.list())).code).toBe("FORBIDDEN");
      expect((await rejection(f.as(u).tokens.create({ principal_id: u.id }))).code).toBe("FORBIDDEN");
      const made = await f.as(admin).principals.create({ name: uniqueName("p"), kind: "service_account" });
      expect(made.token).toMatch(/^agx_pat_/);
      expect(await f.withToken(made.token).me.get()).toMatchObject({
        id: made.id,
        kind: "service_account",
        admin: false,
        can_create_agents: false,
      });
      expect((await f.as(admin).principals.list()).map((p) => p.id)).toContain(made.id);
    });
  });
});
