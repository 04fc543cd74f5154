import { randomBytes } from "node:crypto";
import { AGENT_KEY_PREFIX, authenticate, bootstrapAdmin } from "@agentex/core";
import { createTestDatabase, TEST_STORE, type TestDatabase } from "@agentex/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

/**
 * AGENTEX_BOOTSTRAP_TOKEN must be a token the server can actually accept:
 * one that never authenticates would lock the operator out silently.
 */
describe(`bootstrap admin token (${TEST_STORE})`, { timeout: 30_000 }, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  it("an operator token is ensured as an admin and authenticates", async () => {
    const token = `my-operator-token-${randomBytes(8).toString("hex")}`;
    await bootstrapAdmin(database.db, token);
    await bootstrapAdmin(database.db, token); // idempotent: replicas start together
    expect(await authenticate(database.db, token)).toMatchObject({ admin: true, kind: "user" });
    expect((await bootstrapAdmin(database.db)) ?? null).toBeNull(); // an admin exists: nothing is minted or printed
  });

  it("a generated token is minted once, on a store without an admin", async () => {
    const fresh = await createTestDatabase();
    try {
      const first = await bootstrapAdmin(fresh.db);
      expect(first?.token).toMatch(/^agx_pat_/);
      expect(await authenticate(fresh.db, first!.token)).toMatchObject({ admin: true });
      expect(await bootstrapAdmin(fresh.db)).toBeNull();
    } finally {
      await fresh.close();
    }
  });

  it("refuses, at start and naming the variable, a token that could never authenticate", () => {
    const base = { AGENTEX_DATA_DIR: "memory://" };
    for (const bad of [
      `${AGENT_KEY_PREFIX}${"a".repeat(43)}`,
      "has a space in the middle",
      "tab\tinside-the-token-value",
    ]) {
      expect(() => loadConfig({ ...base, AGENTEX_BOOTSTRAP_TOKEN: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, AGENTEX_BOOTSTRAP_TOKEN: bad })).toThrow(/AGENTEX_BOOTSTRAP_TOKEN/);
    }
    const ok = "agx_pat_operator-chosen-0123456789abcdef";
    expect(loadConfig({ ...base, AGENTEX_BOOTSTRAP_TOKEN: ok }).bootstrapToken).toBe(ok);
  });
});
