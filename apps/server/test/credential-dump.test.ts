import { randomBytes, randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { copyDatabase, findLeaks, sha256Hex } from "./dump.ts";
import { useServer } from "./helpers.ts";

/**
 * "A copy of the database yields no usable credential." Every kind of
 * credential the server hands out is issued here over HTTP (principal tokens,
 * extra and revoked tokens, internal agent keys, re-minted ones, external,
 * github and slack keys, keys of deleted agents); then the database is copied
 * the way an attacker would get it (pg_dump of this file's scratch database
 * on Postgres; every row of every table plus the raw data directory on the
 * embedded store) and searched for each credential verbatim, without its
 * prefix, and as base64/hex.
 */
describe(`credential dump (${TEST_STORE})`, () => {
  const s = useServer();

  it("no token or key issued in this test appears in a copy of the database", async () => {
    const credentials: Record<string, string> = { "bootstrap admin token": s.adminToken };
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await s.api(method, path, { token, ...(body !== undefined ? { body } : {}) });
      if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };

    const a = await s.principal({ can_create_agents: true });
    const b = await s.principal({ kind: "service_account", can_create_agents: false });
    credentials["A first token"] = a.token;
    credentials["B first token"] = b.token;
    const extra = await call("POST", `/api/principals/${a.id}/tokens`, s.adminToken, { name: "extra" });
    credentials["A extra token"] = extra.token;
    const revoked = await call("POST", `/api/principals/${b.id}/tokens`, s.adminToken, { name: "revoked" });
    credentials["B revoked token"] = revoked.token;
    await call("DELETE", `/api/tokens/${revoked.id}`, s.adminToken);

    const name = `dump-${randomBytes(4).toString("hex")}`;
    await call("POST", "/api/agents/register-build", a.token, { name, description: "dump test" });
    const registered = await call("POST", "/api/agents/register", a.token, {
      name,
      description: "dump test",
      acp_url: "http://dump.example:8000",
      acp_type: "async",
      registration_metadata: { deployment_id: randomUUID() },
    });
    credentials["internal key"] = registered.agent_api_key;
    for (const type of ["external", "github", "slack"]) {
      const key = await call("POST", "/api/agent_api_keys", a.token, {
        agent_id: registered.id,
        name: `k-${type}`,
        api_key_type: type,
      });
      credentials[`${type} key`] = key.api_key;
    }
    // Caller-chosen values: an external key, and webhook signing secrets (one through webhook-trigger).
    const chosen = await call("POST", "/api/agent_api_keys", a.token, {
      agent_id: registered.id,
      name: "chosen",
      api_key: `chosen-${randomBytes(12).toString("hex")}`,
    });
    credentials["caller-chosen external key"] = chosen.api_key;
    const chosenGithub = await call("POST", "/api/agent_api_keys", a.token, {
      agent_id: registered.id,
      name: "octo/chosen",
      api_key_type: "github",
      api_key: `gh-${randomBytes(12).toString("hex")}`,
    });
    credentials["caller-chosen github secret"] = chosenGithub.api_key;
    const trigger = await call("POST", "/api/agent_api_keys/webhook-trigger", a.token, {
      agent_name: name,
      source: "slack",
      name: "A0DUMP",
      forward_path: "slack/events",
      secret: `slack-${randomBytes(12).toString("hex")}`,
    });
    credentials["webhook-trigger slack secret"] = trigger.secret;
    const revokedKey = await call("POST", "/api/agent_api_keys", a.token, {
      agent_name: name,
      name: "to-revoke",
    });
    credentials["revoked external key"] = revokedKey.api_key;
    await call("DELETE", `/api/agent_api_keys/${revokedKey.id}`, a.token);
    // Revoke the internal key: the next register mints a new one.
    const keys = await call("GET", `/api/agent_api_keys?agent_id=${registered.id}`, a.token);
    await call(
      "DELETE",
      `/api/agent_api_keys/${keys.find((k: { api_key_type: string }) => k.api_key_type === "internal").id}`,
      a.token,
    );
    const reminted = await call("POST", "/api/agents/register", a.token, {
      name,
      description: "dump test",
      acp_url: "http://dump.example:8001",
      acp_type: "async",
    });
    expect(reminted.agent_api_key).not.toBe(registered.agent_api_key);
    credentials["re-minted internal key"] = reminted.agent_api_key;

    // Issued under an Idempotency-Key: the stored (replayable) answer holds the key, sealed.
    const keyed = async (body: unknown) => {
      const res = await s.api("POST", "/api/agent_api_keys", {
        token: a.token,
        body,
        headers: { "idempotency-key": "dump-keyed" },
      });
      if (res.status !== 200) throw new Error(`keyed key: ${res.status} ${JSON.stringify(res.body)}`);
      return res;
    };
    const keyedKey = await keyed({ agent_id: registered.id, name: "k-keyed" });
    expect(
      (await keyed({ agent_id: registered.id, name: "k-keyed" })).headers.get("idempotent-replayed"),
    ).toBe("true");
    credentials["key issued under an idempotency key"] = keyedKey.body.api_key;

    // An agent that is deleted afterwards: its keys are revoked but their rows stay.
    const doomed = await call("POST", "/api/agents/register", a.token, {
      name: `${name}-gone`,
      description: "x",
      acp_url: "http://gone.example:8000",
      acp_type: "sync",
    });
    credentials["deleted agent's internal key"] = doomed.agent_api_key;
    const doomedExt = await call("POST", "/api/agent_api_keys", a.token, {
      agent_id: doomed.id,
      name: "ext",
    });
    credentials["deleted agent's external key"] = doomedExt.api_key;
    await call("DELETE", `/api/agents/${doomed.id}`, a.token);

    // Every live credential works (they are real), the revoked ones do not.
    for (const label of [
      "A first token",
      "B first token",
      "A extra token",
      "external key",
      "re-minted internal key",
      "key issued under an idempotency key",
    ]) {
      expect((await s.api("GET", "/api/me", { token: credentials[label]! })).status, label).toBe(200);
    }
    // Webhook signing secrets verify signatures; they are never API credentials.
    for (const label of [
      "github key",
      "slack key",
      "caller-chosen github secret",
      "webhook-trigger slack secret",
    ]) {
      expect((await s.api("GET", "/api/me", { token: credentials[label]! })).status, label).toBe(401);
    }
    for (const label of [
      "B revoked token",
      "internal key",
      "revoked external key",
      "deleted agent's internal key",
      "deleted agent's external key",
    ]) {
      expect((await s.api("GET", "/api/me", { token: credentials[label]! })).status, label).toBe(401);
    }

    // A canary shaped like a credential, stored as ordinary data: the search must find it in every copy.
    const canary = `agx_pat_${randomBytes(32).toString("base64url")}`;
    await call("POST", "/api/agents/register-build", a.token, {
      name: `${name}-canary`,
      description: `canary ${canary}`,
    });

    const copies = await copyDatabase(s.db);
    expect(copies.length).toBeGreaterThan(0);
    const found = findLeaks(copies, { canary });
    for (const copy of copies)
      expect(
        found.some((f) => f.startsWith(`${copy.kind}:`)),
        `canary found in ${copy.kind}`,
      ).toBe(true);
    // The copy holds the credential tables: every API credential's hash is in it. Signing secrets are
    // sealed under the server secret, with a keyed hash: not even their sha256 is in the copy.
    const text = copies.map((c) => c.text).join("\n");
    const signing = new Set([
      "github key",
      "slack key",
      "caller-chosen github secret",
      "webhook-trigger slack secret",
    ]);
    for (const [label, credential] of Object.entries(credentials)) {
      if (signing.has(label)) expect(text, `sha256 of ${label}`).not.toContain(sha256Hex(credential));
      else expect(text, `hash of ${label}`).toContain(sha256Hex(credential));
    }

    expect(findLeaks(copies, credentials)).toEqual([]);
    console.log(
      `credential dump (${TEST_STORE}): ${Object.keys(credentials).length} credentials searched in ${copies
        .map((c) => `${c.kind} (${c.raw.length} bytes)`)
        .join(", ")}; none found`,
    );
    // Copying and scanning a 40 MB data directory on a shared 2-core machine: a generous limit, not a speed claim.
  }, 60_000);
});
