/** Identity and access through the router (no HTTP): token revocation, agent key scope, external keys. */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { rejection, uniqueName, useFixture } from "../helpers.ts";
import { url, accessFixtures } from "./support.ts";

describe(`access (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const f = useFixture();
  const { deployedAgent } = accessFixtures(f);

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
      const registerCode = async (input: Parameters<typeof k.agents.register>[0]) =>
        (await rejection(k.agents.register(input))).code;
      expect(
        await registerCode({
          name: own.name,
          description: "pod restarted",
          acp_url: url("re"),
          acp_type: "async",
        }),
      ).toBe("FORBIDDEN");
      expect(
        await registerCode({
          agent_id: id,
          name: own.name,
          description: "again",
          acp_url: url("re2"),
          acp_type: "async",
        }),
      ).toBe("FORBIDDEN");
      const dep = randomUUID();
      expect(
        await registerCode({
          agent_id: id,
          name: own.name,
          description: "again",
          acp_url: url("dep"),
          acp_type: "async",
          registration_metadata: { deployment_id: dep },
        }),
      ).toBe("FORBIDDEN");
      expect((await f.as(a).agents.get({ agent_id: id })).acp_url).toBe(own.agent.acp_url);

      // Nothing about other agents.
      const oid = other.agent.id;
      expect((await rejection(k.agents.get({ agent_id: oid }))).code).toBe("NOT_FOUND");
      expect((await rejection(k.agents.getByName({ agent_name: other.name }))).code).toBe("NOT_FOUND");
      expect((await rejection(k.deployments.list({ agent_id: oid }))).code).toBe("NOT_FOUND");
      // The same answer whether or not the other agent exists (no oracle).
      expect(
        await registerCode({
          agent_id: oid,
          name: other.name,
          description: "x",
          acp_url: url("x"),
          acp_type: "sync",
        }),
      ).toBe("FORBIDDEN");
      expect(
        await registerCode({ name: other.name, description: "x", acp_url: url("x"), acp_type: "sync" }),
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
});
