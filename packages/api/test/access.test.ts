import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import type { Caller } from "../src/index.ts";
import { rejection, uniqueName, useFixture } from "./helpers.ts";

/**
 * Identity and access through the router (no HTTP): name squatting, each
 * role's allowed and refused actions, creation rights, the last-owner rule,
 * grant changes and revocations taking effect on the next call, agent key
 * scope, external keys, deletion, and list filtering in SQL.
 */
describe(`access (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const f = useFixture();

  const url = (host: string) => `http://${host}.example:8000`;

  async function grantsOf(agentId: string) {
    return f.db.db
      .selectFrom("grants")
      .select(["principal_id", "role"])
      .where("agent_id", "=", agentId)
      .execute();
  }

  /** An agent owned by `owner`: a production deployment, a Ready one, a Pending one, and the internal key. */
  async function deployedAgent(owner: Caller, opts: { description?: string } = {}) {
    const api = f.as(owner);
    const name = uniqueName("acc");
    const description = opts.description ?? `desc of ${name}`;
    const built = await api.agents.registerBuild({ name, description });
    const prod = randomUUID();
    const ready = randomUUID();
    const reg = await api.agents.register({
      name,
      description,
      acp_url: url(`${name}-prod`),
      acp_type: "async",
      registration_metadata: { deployment_id: prod },
    });
    await api.agents.register({
      name,
      description,
      acp_url: url(`${name}-ready`),
      acp_type: "async",
      registration_metadata: { deployment_id: ready },
    });
    await api.deployments.promote({ agent_id: built.id, deployment_id: prod });
    const pending = await api.deployments.create({ agent_id: built.id, docker_image: "img:1" });
    const agent = await api.agents.get({ agent_id: built.id });
    return { agent, name, prod, ready, pending: pending.id, key: reg.agent_api_key };
  }

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

  describe("roles", () => {
    type Role = "viewer" | "deployer" | "owner" | "admin";
    type Need = "read" | "register" | "deploy" | "own";
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

        const actions: Array<{
          name: string;
          needs: Need;
          run: () => Promise<unknown>;
          check?: (r: any) => void;
        }> = [
          {
            name: "get",
            needs: "read",
            run: () => api.agents.get({ agent_id: id }),
            check: (r) => expect(r.id).toBe(id),
          },
          {
            name: "getByName",
            needs: "read",
            run: () => api.agents.getByName({ agent_name: fx.name }),
            check: (r) => expect(r.id).toBe(id),
          },
          {
            name: "list",
            needs: "read",
            run: () => api.agents.list({ limit: 1000 }),
            check: (r) => expect(r.map((a: any) => a.id)).toContain(id),
          },
          {
            name: "registerBuild (idempotent)",
            needs: "read",
            run: () => api.agents.registerBuild({ name: fx.name, description: "other" }),
            check: (r) => expect(r).toEqual(fx.agent),
          },
          {
            name: "deployments.list",
            needs: "read",
            run: () => api.deployments.list({ agent_id: id }),
            check: (r) => expect(r).toHaveLength(3),
          },
          {
            name: "deployments.get",
            needs: "read",
            run: () => api.deployments.get({ agent_id: id, deployment_id: fx.prod }),
            check: (r) => expect(r.is_production).toBe(true),
          },
          {
            name: "deployments.create",
            needs: "deploy",
            run: () => api.deployments.create({ agent_id: id, docker_image: "img:2" }),
            check: (r) => expect(r).toMatchObject({ agent_id: id, status: "Pending" }),
          },
          {
            name: "deployments.promote",
            needs: "deploy",
            run: () => api.deployments.promote({ agent_id: id, deployment_id: fx.ready }),
            check: (r) => expect(r).toMatchObject({ id: fx.ready, is_production: true }),
          },
          {
            name: "deployments.delete",
            needs: "deploy",
            run: () => api.deployments.delete({ agent_id: id, deployment_id: fx.pending }),
            check: (r) => expect(r.id).toBe(fx.pending),
          },
          {
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
          },
          {
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
          },
          {
            name: "grants.list",
            needs: "own",
            run: () => api.grants.list({ agent_id: id }),
            check: (r) => expect(r.length).toBeGreaterThanOrEqual(2),
          },
          {
            name: "grants.set",
            needs: "own",
            run: () => api.grants.set({ agent_id: id, principal_id: x.id, role: "deployer" }),
            check: (r) => expect(r).toMatchObject({ principal_id: x.id, role: "deployer" }),
          },
          {
            name: "grants.revoke",
            needs: "own",
            run: () => api.grants.revoke({ agent_id: id, principal_id: x.id }),
          },
          {
            name: "agentApiKeys.create",
            needs: "own",
            run: () => api.agentApiKeys.create({ agent_id: id, name: `by-${role}` }),
            check: (r) => expect(r.api_key).toMatch(/^agx_key_/),
          },
          { name: "agentApiKeys.list", needs: "own", run: () => api.agentApiKeys.list({ agent_id: id }) },
          {
            name: "agentApiKeys.revoke",
            needs: "own",
            run: () => api.agentApiKeys.revoke({ id: ownersKey.id }),
          },
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

  describe("tokens", () => {
    it("revocation by the owner or an admin takes effect on the next call", async () => {
      const { principal: admin } = await f.principal({ admin: true });
      const { principal: a, token: t1 } = await f.principal();
      const t2 = await f.as(admin).tokens.create({ principal_id: a.id, name: "second" });
      const t3 = await f.as(admin).tokens.create({ principal_id: a.id, name: "third" });
      expect(t2.token).toMatch(/^agx_pat_/);
      for (const t of [t1, t2.token, t3.token]) expect((await f.withToken(t).me.get()).id).toBe(a.id);

      // The owner revokes one of its tokens with another.
      await f.withToken(t1).tokens.revoke({ token_id: t2.id });
      expect((await rejection(f.withToken(t2.token).me.get())).code).toBe("UNAUTHORIZED");
      expect((await f.withToken(t1).me.get()).id).toBe(a.id);

      // An admin revokes another.
      await f.as(admin).tokens.revoke({ token_id: t3.id });
      expect((await rejection(f.withToken(t3.token).me.get())).code).toBe("UNAUTHORIZED");
      expect(
        (
          await rejection(
            f.withToken(t3.token).agents.registerBuild({ name: uniqueName("r"), description: "x" }),
          )
        ).code,
      ).toBe("UNAUTHORIZED");

      // Revoked tokens are gone from the listing and cannot be revoked again.
      const live = await f.withToken(t1).tokens.list({ principal_id: a.id });
      expect(live.map((t) => t.id)).not.toContain(t2.id);
      expect(live.map((t) => t.id)).not.toContain(t3.id);
      expect(JSON.stringify(live)).not.toContain(t1);
      expect((await rejection(f.withToken(t1).tokens.revoke({ token_id: t2.id }))).code).toBe("NOT_FOUND");

      // A token may revoke itself.
      const [self] = live;
      await f.withToken(t1).tokens.revoke({ token_id: self!.id });
      expect((await rejection(f.withToken(t1).me.get())).code).toBe("UNAUTHORIZED");
    });

    it("another user's token is a 404 and keeps working", async () => {
      const { principal: a, token: ta } = await f.principal();
      const { principal: b, token: tb } = await f.principal();
      const [aToken] = await f.withToken(ta).tokens.list({ principal_id: a.id });
      const err = await rejection(f.withToken(tb).tokens.revoke({ token_id: aToken!.id }));
      expect(err.code).toBe("NOT_FOUND");
      // Same answer as for a token that does not exist.
      const ghost = await rejection(f.withToken(tb).tokens.revoke({ token_id: randomUUID() }));
      expect(ghost.code).toBe("NOT_FOUND");
      expect((await rejection(f.withToken(tb).tokens.list({ principal_id: a.id }))).code).toBe("NOT_FOUND");
      expect((await f.withToken(ta).me.get()).id).toBe(a.id);
      expect((await f.withToken(tb).me.get()).id).toBe(b.id);
    });
  });

  describe("agent keys", () => {
    it("the internal key from register reads its own agent, nothing else: it never re-registers (re-points) it", async () => {
      const { principal: a } = await f.principal();
      const own = await deployedAgent(a);
      const other = await deployedAgent(a);
      const id = own.agent.id;
      const k = f.withToken(own.key);
      expect(own.key).toMatch(/^agx_key_/);

      expect(await k.me.get()).toMatchObject({
        id,
        kind: "agent",
        agent_id: id,
        admin: false,
        can_create_agents: false,
      });
      expect((await k.agents.get({ agent_id: id })).id).toBe(id);
      expect((await k.agents.getByName({ agent_name: own.name })).id).toBe(id);
      expect((await k.agents.list({ limit: 1000 })).map((x) => x.id)).toEqual([id]);
      expect((await k.agents.listPage({ limit: 1000 })).items.map((x) => x.id)).toEqual([id]);
      expect(await k.agents.registerBuild({ name: own.name, description: "x" })).toEqual(own.agent);

      // No re-registering itself (by name, by id, or one of its deployments): registering needs a principal.
      expect(
        (
          await rejection(
            k.agents.register({
              name: own.name,
              description: "pod restarted",
              acp_url: url("re"),
              acp_type: "async",
            }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      expect(
        (
          await rejection(
            k.agents.register({
              agent_id: id,
              name: own.name,
              description: "again",
              acp_url: url("re2"),
              acp_type: "async",
            }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      const dep = randomUUID();
      expect(
        (
          await rejection(
            k.agents.register({
              agent_id: id,
              name: own.name,
              description: "again",
              acp_url: url("dep"),
              acp_type: "async",
              registration_metadata: { deployment_id: dep },
            }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      expect((await f.as(a).agents.get({ agent_id: id })).acp_url).toBe(own.agent.acp_url);

      // Nothing about other agents.
      const oid = other.agent.id;
      expect((await rejection(k.agents.get({ agent_id: oid }))).code).toBe("NOT_FOUND");
      expect((await rejection(k.agents.getByName({ agent_name: other.name }))).code).toBe("NOT_FOUND");
      expect((await rejection(k.deployments.list({ agent_id: oid }))).code).toBe("NOT_FOUND");
      // The same answer whether or not the other agent exists (no oracle).
      expect(
        (
          await rejection(
            k.agents.register({
              agent_id: oid,
              name: other.name,
              description: "x",
              acp_url: url("x"),
              acp_type: "sync",
            }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      expect(
        (
          await rejection(
            k.agents.register({ name: other.name, description: "x", acp_url: url("x"), acp_type: "sync" }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      expect((await rejection(k.agents.registerBuild({ name: other.name, description: "x" }))).code).toBe(
        "FORBIDDEN",
      );
      expect((await rejection(k.agents.delete({ agent_id: oid }))).code).toBe("NOT_FOUND");

      // No deploying, sharing, keys, deleting or creating, even on itself.
      expect((await rejection(k.deployments.create({ agent_id: id, docker_image: "img:test" }))).code).toBe(
        "FORBIDDEN",
      );
      expect((await rejection(k.deployments.promote({ agent_id: id, deployment_id: own.ready }))).code).toBe(
        "FORBIDDEN",
      );
      expect((await rejection(k.deployments.delete({ agent_id: id, deployment_id: own.pending }))).code).toBe(
        "FORBIDDEN",
      );
      expect((await rejection(k.grants.list({ agent_id: id }))).code).toBe("FORBIDDEN");
      expect((await rejection(k.grants.set({ agent_id: id, principal_id: a.id, role: "viewer" }))).code).toBe(
        "FORBIDDEN",
      );
      expect((await rejection(k.agentApiKeys.create({ agent_id: id, name: "more" }))).code).toBe("FORBIDDEN");
      expect((await rejection(k.agentApiKeys.list({ agent_id: id }))).code).toBe("FORBIDDEN");
      expect((await rejection(k.agents.delete({ agent_id: id }))).code).toBe("FORBIDDEN");
      expect((await rejection(k.agents.deleteByName({ agent_name: own.name }))).code).toBe("FORBIDDEN");
      const fresh = uniqueName("k");
      expect((await rejection(k.agents.registerBuild({ name: fresh, description: "x" }))).code).toBe(
        "FORBIDDEN",
      );
      expect(
        (
          await rejection(
            k.agents.register({ name: fresh, description: "x", acp_url: url("x"), acp_type: "sync" }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      expect((await rejection(k.principals.list())).code).toBe("FORBIDDEN");
      expect((await rejection(k.tokens.list({ principal_id: a.id }))).code).toBe("NOT_FOUND");
      expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", fresh).execute()).toEqual([]);
    });

    it("external keys: the secret is shown once, never listed, and revocation works at once", async () => {
      const { principal: a } = await f.principal();
      const { agent, key: internal } = await deployedAgent(a);
      const created = await f.as(a).agentApiKeys.create({ agent_name: agent.name, name: "ci" });
      expect(created).toMatchObject({ agent_id: agent.id, name: "ci", api_key_type: "external" });
      expect(created.api_key).toMatch(/^agx_key_/);
      expect(created.api_key.startsWith(created.key_prefix)).toBe(true);
      expect(created.key_prefix.length).toBeLessThan(created.api_key.length / 2);

      const listed = await f.as(a).agentApiKeys.list({ agent_id: agent.id });
      expect(listed.map((k) => k.id)).toContain(created.id);
      const text = JSON.stringify(listed);
      for (const secret of [created.api_key, internal]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice("agx_key_".length));
      }
      for (const k of listed)
        expect(Object.keys(k).sort()).toEqual([
          "agent_id",
          "api_key_type",
          "created_at",
          "id",
          "key_prefix",
          "name",
        ]);

      const ext = f.withToken(created.api_key);
      expect(await ext.me.get()).toMatchObject({ kind: "agent", agent_id: agent.id });
      expect((await ext.agents.get({ agent_id: agent.id })).id).toBe(agent.id);
      expect(
        (await rejection(ext.deployments.create({ agent_id: agent.id, docker_image: "img:test" }))).code,
      ).toBe("FORBIDDEN");

      await f.as(a).agentApiKeys.revoke({ id: created.id });
      expect((await rejection(ext.me.get())).code).toBe("UNAUTHORIZED");
      expect((await f.as(a).agentApiKeys.list({ agent_id: agent.id })).map((k) => k.id)).not.toContain(
        created.id,
      );
      expect((await rejection(f.as(a).agentApiKeys.revoke({ id: created.id }))).code).toBe("NOT_FOUND");
      // The internal key is unaffected.
      expect((await f.withToken(internal).me.get()).agent_id).toBe(agent.id);
    });

    it("revoking the internal key: the next register mints a new one and the old one stays dead", async () => {
      const { principal: a } = await f.principal();
      const { agent, key } = await deployedAgent(a);
      const internal = (await f.as(a).agentApiKeys.list({ agent_id: agent.id })).find(
        (k) => k.api_key_type === "internal",
      )!;
      await f.as(a).agentApiKeys.revoke({ id: internal.id });
      expect((await rejection(f.withToken(key).me.get())).code).toBe("UNAUTHORIZED");
      const again = await f.as(a).agents.register({
        name: agent.name,
        description: agent.description,
        acp_url: url("new"),
        acp_type: "async",
      });
      expect(again.agent_api_key).not.toBe(key);
      expect((await f.withToken(again.agent_api_key).me.get()).agent_id).toBe(agent.id);
      expect((await rejection(f.withToken(key).me.get())).code).toBe("UNAUTHORIZED");
    });
  });

  describe("deleting an agent", () => {
    it("its grants and keys stop working at once", async () => {
      const { principal: a } = await f.principal();
      const { principal: b, token: tb } = await f.principal();
      const { agent, key } = await deployedAgent(a);
      const ext = await f.as(a).agentApiKeys.create({ agent_id: agent.id, name: "ext" });
      await f.as(a).grants.set({ agent_id: agent.id, principal_id: b.id, role: "deployer" });
      expect((await f.withToken(tb).agents.get({ agent_id: agent.id })).id).toBe(agent.id);
      expect((await f.withToken(key).me.get()).agent_id).toBe(agent.id);
      expect((await f.withToken(ext.api_key).me.get()).agent_id).toBe(agent.id);

      expect(await f.as(a).agents.delete({ agent_id: agent.id })).toEqual({
        id: agent.id,
        message: `Agent '${agent.id}' deleted successfully`,
      });
      expect((await rejection(f.withToken(tb).agents.get({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
      expect(
        (
          await rejection(
            f.withToken(tb).deployments.create({ agent_id: agent.id, docker_image: "img:test" }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect((await f.withToken(tb).agents.list({ limit: 1000 })).map((x) => x.id)).not.toContain(agent.id);
      for (const k of [key, ext.api_key])
        expect((await rejection(f.withToken(k).me.get())).code).toBe("UNAUTHORIZED");
      expect(await grantsOf(agent.id)).toEqual([]);
      const live = await f.db.db
        .selectFrom("agent_api_keys")
        .select("id")
        .where("agent_id", "=", agent.id)
        .where("revoked_at", "is", null)
        .execute();
      expect(live).toEqual([]);
      expect((await rejection(f.as(a).agents.delete({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
    });
  });

  describe("listing", () => {
    it("lists only readable agents, filtered before paging (full pages at limit 2)", async () => {
      const { principal: o } = await f.principal();
      const { principal: l, token } = await f.principal({ can_create_agents: false });
      const prefix = uniqueName("pg");
      const names = Array.from({ length: 10 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
      const ids: string[] = [];
      for (const name of names) ids.push((await f.as(o).agents.registerBuild({ name, description: "x" })).id);
      const granted = [1, 3, 4, 6, 8];
      for (const i of granted)
        await f.as(o).grants.set({ agent_id: ids[i]!, principal_id: l.id, role: "viewer" });
      // One readable agent is Ready, the rest BuildOnly.
      await f
        .as(o)
        .agents.register({ name: names[4]!, description: "x", acp_url: url("r"), acp_type: "sync" });
      const expected = granted.map((i) => names[i]);
      const asL = f.withToken(token);

      const pages: string[][] = [];
      for (let page = 1; page <= 4; page++) {
        const rows = await asL.agents.list({
          limit: 2,
          page_number: page,
          order_by: "name",
          order_direction: "asc",
        });
        pages.push(rows.map((r) => r.name));
      }
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1, 0]);
      expect(pages.flat()).toEqual(expected);

      const desc = await asL.agents.list({
        limit: 2,
        page_number: 1,
        order_by: "name",
        order_direction: "desc",
      });
      expect(desc.map((r) => r.name)).toEqual([names[8], names[6]]);

      const cursorPages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Array<{ name: string }>; next_cursor: string | null } =
          await asL.agents.listPage({
            limit: 2,
            order_by: "name",
            order_direction: "asc",
            cursor,
          });
        cursorPages.push(page.items.map((r) => r.name));
        cursor = page.next_cursor;
      } while (cursor && cursorPages.length < 10);
      expect(cursorPages).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)]);

      const ready = await asL.agents.list({ limit: 2, status: "Ready" });
      expect(ready.map((r) => r.name)).toEqual([names[4]]);
      const buildOnly = await asL.agents.list({
        limit: 1000,
        status: "BuildOnly",
        order_by: "name",
        order_direction: "asc",
      });
      expect(buildOnly.map((r) => r.name)).toEqual(expected.filter((n) => n !== names[4]));

      // The owner sees all ten; a deleted readable agent drops out of L's pages.
      const mine = await f.as(o).agents.list({ limit: 1000 });
      expect(mine.filter((r) => r.name.startsWith(prefix))).toHaveLength(10);
      await f.as(o).agents.delete({ agent_id: ids[3]! });
      const after = await asL.agents.list({
        limit: 2,
        page_number: 2,
        order_by: "name",
        order_direction: "asc",
      });
      expect(after.map((r) => r.name)).toEqual([names[6], names[8]]);
    });
  });
});
