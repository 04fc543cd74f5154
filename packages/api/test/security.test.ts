import { randomBytes } from "node:crypto";
import { withTransaction } from "@agentex/db";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { authenticate, bootstrapAdmin, lockLiveAgent } from "@agentex/core";
import { rejection, uniqueName, useFixture } from "./helpers.ts";
import { agentRow, registerInput, rowVersion } from "./lifecycle-helpers.ts";

/**
 * Issue 9: the holes an outside review found, each pinned at the procedure
 * level (the HTTP-level ones are in apps/server/test/security.test.ts).
 */
describe(`security review (${TEST_STORE})`, { timeout: 60_000 }, () => {
  const f = useFixture();

  /** An owner, a deployer on the owner's registered agent, and the agent's internal key. */
  async function sharedAgent() {
    const owner = await f.principal();
    const deployer = await f.principal();
    const name = uniqueName();
    const reg = await f.as(owner.principal).agents.register(registerInput(name));
    await f
      .as(owner.principal)
      .grants.set({ agent_id: reg.id, principal_id: deployer.principal.id, role: "deployer" });
    return { owner, deployer, name, agent: reg, key: reg.agent_api_key };
  }

  describe("1. renaming through register", () => {
    it("a deployer registering with agent_id and another name gets 409 and changes nothing", async () => {
      const { owner, deployer, name, agent } = await sharedAgent();
      const before = await rowVersion(f.db.db, "agents", agent.id);
      const err = await rejection(
        f
          .as(deployer.principal)
          .agents.register(
            registerInput(uniqueName("squat"), { agent_id: agent.id, acp_url: "http://evil.svc:1" }),
          ),
      );
      expect(err.code).toBe("CONFLICT");
      expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(before);
      // The name still belongs to the real agent.
      expect((await f.as(owner.principal).agents.getByName({ agent_name: name })).id).toBe(agent.id);
    });

    it("an owner may rename; the rename is recorded with who and when", async () => {
      const { owner, agent, name } = await sharedAgent();
      const next = uniqueName("renamed");
      const res = await f.as(owner.principal).agents.register(registerInput(next, { agent_id: agent.id }));
      expect(res).toMatchObject({ id: agent.id, name: next });
      const rows = await f.db.db
        .selectFrom("agent_renames")
        .selectAll()
        .where("agent_id", "=", agent.id)
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ old_name: name, new_name: next, renamed_by: owner.principal.id });
      expect(rows[0]!.renamed_at).toBeInstanceOf(Date);
    });
  });

  describe("3. agent keys and key rotation", () => {
    it("an agent key never re-points its agent, even after the deployer who received it lost the grant", async () => {
      const { owner, deployer, name, agent, key } = await sharedAgent();
      await f.as(owner.principal).grants.revoke({ agent_id: agent.id, principal_id: deployer.principal.id });
      const before = await rowVersion(f.db.db, "agents", agent.id);
      const k = f.withToken(key);
      expect(
        (await rejection(k.agents.register(registerInput(name, { acp_url: "http://evil.svc:1" })))).code,
      ).toBe("FORBIDDEN");
      expect(
        (
          await rejection(
            k.agents.register(registerInput(name, { agent_id: agent.id, acp_url: "http://evil.svc:1" })),
          )
        ).code,
      ).toBe("FORBIDDEN");
      expect(await rowVersion(f.db.db, "agents", agent.id)).toBe(before);
      // It still reads its own agent.
      expect((await k.agents.get({ agent_id: agent.id })).acp_url).toBe(agent.acp_url);
    });

    it("an owner rotates the internal key: the old one stops at once, the next register hands out the new one", async () => {
      const { owner, deployer, name, agent, key } = await sharedAgent();
      expect((await rejection(f.as(deployer.principal).agents.rotateKey({ agent_id: agent.id }))).code).toBe(
        "FORBIDDEN",
      );
      const outsider = await f.principal();
      expect((await rejection(f.as(outsider.principal).agents.rotateKey({ agent_id: agent.id }))).code).toBe(
        "NOT_FOUND",
      );

      const rotated = await f.as(owner.principal).agents.rotateKey({ agent_id: agent.id });
      expect(rotated.agent_api_key).toMatch(/^agx_key_/);
      expect(rotated.agent_api_key).not.toBe(key);
      expect(await authenticate(f.db.db, key)).toBeNull();
      expect(await authenticate(f.db.db, rotated.agent_api_key)).toMatchObject({
        kind: "agent",
        agent_id: agent.id,
      });
      const again = await f.as(deployer.principal).agents.register(registerInput(name));
      expect(again.agent_api_key).toBe(rotated.agent_api_key);
    });
  });

  describe("6. stored prefixes", () => {
    it("tokens and keys keep at most the scheme prefix plus 4 characters", async () => {
      const { owner, agent } = await sharedAgent();
      const ext = await f.as(owner.principal).agentApiKeys.create({ agent_id: agent.id, name: "ci" });
      expect(ext.key_prefix).toBe(ext.api_key.slice(0, "agx_key_".length + 4));
      const operator = `operator-chosen-${randomBytes(16).toString("hex")}`;
      await bootstrapAdmin(f.db.db, operator);
      const tokens = await f.db.db.selectFrom("api_tokens").select("token_prefix").execute();
      const keys = await f.db.db.selectFrom("agent_api_keys").select("key_prefix").execute();
      for (const { token_prefix } of tokens)
        expect(token_prefix.replace(/^agx_pat_/, "").length).toBeLessThanOrEqual(4);
      for (const { key_prefix } of keys)
        expect(key_prefix.replace(/^agx_key_/, "").length).toBeLessThanOrEqual(4);
    });
  });

  describe("9. bootstrap token rotation", () => {
    it("a new bootstrap value revokes the previous one; a revoked one stays revoked; an old value never revokes a newer one", async () => {
      const db = f.db.db;
      const t1 = `bootstrap-one-${randomBytes(16).toString("hex")}`;
      const t2 = `bootstrap-two-${randomBytes(16).toString("hex")}`;
      const t3 = `bootstrap-three-${randomBytes(16).toString("hex")}`;
      await bootstrapAdmin(db, t1);
      expect(await authenticate(db, t1)).toMatchObject({ admin: true });
      await bootstrapAdmin(db, t2);
      expect(await authenticate(db, t1)).toBeNull();
      expect(await authenticate(db, t2)).toMatchObject({ admin: true });
      // An old replica still configured with t1 restarts: t1 stays dead, t2 keeps working.
      await bootstrapAdmin(db, t1);
      expect(await authenticate(db, t1)).toBeNull();
      expect(await authenticate(db, t2)).toMatchObject({ admin: true });
      // The operator revokes t2: a restart with t2 does not bring it back.
      const admin = (await authenticate(db, t2))!;
      await f.as(admin).tokens.revoke({ token_id: admin.credential_id! });
      await bootstrapAdmin(db, t2);
      expect(await authenticate(db, t2)).toBeNull();
      await bootstrapAdmin(db, t3);
      expect(await authenticate(db, t3)).toMatchObject({ admin: true });
    });
  });

  describe("10. no name oracle in register-build / register", () => {
    it("a caller who may not create gets the same answer for a taken name and a free one", async () => {
      const { key } = await sharedAgent();
      const reader = await f.principal({ can_create_agents: false });
      const free = uniqueName("free");
      // A plain reader: exists-but-unreadable and does-not-exist look the same.
      const other = await sharedAgent();
      const a = await rejection(
        f.as(reader.principal).agents.registerBuild({ name: other.name, description: "x" }),
      );
      const b = await rejection(
        f.as(reader.principal).agents.registerBuild({ name: free, description: "x" }),
      );
      expect([a.code, a.message.replace(other.name, "N")]).toEqual([b.code, b.message.replace(free, "N")]);
      const c = await rejection(f.as(reader.principal).agents.register(registerInput(other.name)));
      const d = await rejection(f.as(reader.principal).agents.register(registerInput(free)));
      expect([c.code, c.message.replace(other.name, "N")]).toEqual([d.code, d.message.replace(free, "N")]);
      // An agent key of another agent: the same.
      const k = f.withToken(key);
      const e = await rejection(k.agents.registerBuild({ name: other.name, description: "x" }));
      const g = await rejection(k.agents.registerBuild({ name: free, description: "x" }));
      expect([e.code, e.message.replace(other.name, "N")]).toEqual([g.code, g.message.replace(free, "N")]);
    });
  });

  describe("11. __proto__ keys", () => {
    it("are refused with a 422 naming the field, at any depth", async () => {
      const { owner } = await sharedAgent();
      const caller = f.as(owner.principal);
      const top = JSON.parse('{"__proto__":{"x":1},"a":1}') as Record<string, unknown>;
      const deep = JSON.parse('{"a":{"b":[{"__proto__":{"x":1}}]}}') as Record<string, unknown>;
      const e1 = await rejection(
        caller.agents.registerBuild({ name: uniqueName(), description: "x", registration_metadata: top }),
      );
      expect(e1.code).toBe("UNPROCESSABLE_CONTENT");
      expect(e1.issues).toEqual([expect.objectContaining({ field: "registration_metadata.__proto__" })]);
      const e2 = await rejection(
        caller.agents.registerBuild({ name: uniqueName(), description: "x", registration_metadata: deep }),
      );
      expect(e2.issues).toEqual([
        expect.objectContaining({ field: "registration_metadata.a.b.0.__proto__" }),
      ]);
      // `constructor` is ordinary data and is stored as sent.
      const ok = await caller.agents.registerBuild({
        name: uniqueName(),
        description: "x",
        registration_metadata: { constructor: { prototype: 1 } },
      });
      expect(ok.registration_metadata).toEqual({ constructor: { prototype: 1 } });
    });
  });

  describe("token expiry", () => {
    it("a token with an expiry is listed with it and stops working when it passes", async () => {
      const admin = await f.principal({ admin: true });
      const user = await f.principal();
      const issued = await f
        .as(admin.principal)
        .tokens.create({ principal_id: user.principal.id, name: "short", expires_in_seconds: 60 });
      expect(Date.parse(issued.expires_at!)).toBeGreaterThan(Date.now() + 50_000);
      const at = new Date(Date.now() + 3_600_000).toISOString();
      const fixed = await f
        .as(admin.principal)
        .tokens.create({ principal_id: user.principal.id, expires_at: at });
      expect(fixed.expires_at).toBe(at);
      const listed = await f.as(admin.principal).tokens.list({ principal_id: user.principal.id });
      expect(listed.find((t) => t.id === issued.id)?.expires_at).toBe(issued.expires_at);
      expect(await authenticate(f.db.db, issued.token)).toMatchObject({ id: user.principal.id });
      await f.db.db
        .updateTable("api_tokens")
        .set({ expires_at: sql<Date>`now() - interval '1 second'` })
        .where("id", "=", issued.id)
        .execute();
      expect(await authenticate(f.db.db, issued.token)).toBeNull();
      expect(await authenticate(f.db.db, fixed.token)).not.toBeNull();
      const past = await rejection(
        f
          .as(admin.principal)
          .tokens.create({ principal_id: user.principal.id, expires_at: "2001-01-01T00:00:00Z" }),
      );
      expect(past.code).toBe("UNPROCESSABLE_CONTENT");
      expect(past.issues).toEqual([expect.objectContaining({ field: "expires_at" })]);
    });
  });

  describe("principals: disable, enable, delete", () => {
    it("disabling stops every token at once; enabling brings them back; deleting removes the principal for good", async () => {
      const admin = await f.principal({ admin: true });
      const a = f.as(admin.principal);
      const user = await f.principal();
      const second = await a.tokens.create({ principal_id: user.principal.id });
      const disabled = await a.principals.disable({ principal_id: user.principal.id });
      expect(disabled.disabled_at).not.toBeNull();
      expect(await authenticate(f.db.db, user.token)).toBeNull();
      expect(await authenticate(f.db.db, second.token)).toBeNull();
      const enabled = await a.principals.enable({ principal_id: user.principal.id });
      expect(enabled.disabled_at).toBeNull();
      expect(await authenticate(f.db.db, user.token)).not.toBeNull();

      // Admins cannot lock themselves out.
      expect((await rejection(a.principals.disable({ principal_id: admin.principal.id }))).code).toBe(
        "CONFLICT",
      );
      expect(
        (await rejection(f.as(user.principal).principals.disable({ principal_id: user.principal.id }))).code,
      ).toBe("FORBIDDEN");

      // The last owner of a live agent cannot be deleted.
      const agent = await f.as(user.principal).agents.registerBuild({ name: uniqueName(), description: "" });
      expect((await rejection(a.principals.delete({ principal_id: user.principal.id }))).code).toBe(
        "CONFLICT",
      );
      await a.grants.set({ agent_id: agent.id, principal_id: admin.principal.id, role: "owner" });
      await a.principals.delete({ principal_id: user.principal.id });
      expect(await authenticate(f.db.db, user.token)).toBeNull();
      expect(await authenticate(f.db.db, second.token)).toBeNull();
      expect((await a.principals.list()).map((p) => p.id)).not.toContain(user.principal.id);
      expect((await a.grants.list({ agent_id: agent.id })).map((g) => g.principal_id)).toEqual([
        admin.principal.id,
      ]);
      expect((await rejection(a.principals.enable({ principal_id: user.principal.id }))).code).toBe(
        "NOT_FOUND",
      );
      expect((await rejection(a.tokens.create({ principal_id: user.principal.id }))).code).toBe("NOT_FOUND");
      expect(
        (
          await rejection(
            a.grants.set({ agent_id: agent.id, principal_id: user.principal.id, role: "viewer" }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      // Its name is free again.
      const row = await f.db.db
        .selectFrom("principals")
        .select("name")
        .where("id", "=", user.principal.id)
        .executeTakeFirstOrThrow();
      const again = await a.principals.create({ name: row.name, kind: "user" });
      expect(again.id).not.toBe(user.principal.id);
    });
  });

  describe("key creation takes the agent row lock", () => {
    it("no key is minted for an agent deleted a moment earlier", async () => {
      const { owner, agent } = await sharedAgent();
      let pending: Promise<unknown> | undefined;
      await withTransaction(f.db.db, async (trx) => {
        await lockLiveAgent(trx, { id: agent.id });
        pending = rejection(f.as(owner.principal).agentApiKeys.create({ agent_id: agent.id, name: "late" }));
        await new Promise((r) => setTimeout(r, 300));
        await trx
          .updateTable("agents")
          .set({ status: "Deleted", deleted_at: sql<Date>`now()` })
          .where("id", "=", agent.id)
          .execute();
      });
      expect(((await pending) as { code: string }).code).toBe("NOT_FOUND");
      const keys = await f.db.db
        .selectFrom("agent_api_keys")
        .select("name")
        .where("agent_id", "=", agent.id)
        .where("name", "=", "late")
        .execute();
      expect(keys).toEqual([]);
      expect((await agentRow(f.db.db, agent.id)).status).toBe("Deleted");
    });
  });
});
