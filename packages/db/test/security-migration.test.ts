import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { down, up } from "@agentex/migrations/2026_11_25_0002_security.ts";
import { TEST_STORE, createTestDatabase } from "../src/testing.ts";

describe(`security migration (${TEST_STORE})`, { timeout: 120_000 }, () => {
  it("cuts stored prefixes down to the scheme plus 4 characters and marks existing bootstrap tokens", async () => {
    const store = await createTestDatabase();
    try {
      const db = store.db;
      await down(db); // back to the schema before issue 9, with rows stored the old way
      const { rows } = await sql<{
        id: string;
      }>`insert into principals (name, kind) values ('admin', 'user') returning id`.execute(db);
      const pid = rows[0]!.id;
      await sql`insert into api_tokens (principal_id, name, token_hash, token_prefix) values
        (${pid}, 'bootstrap', '\\x01'::bytea, 'operator-tok'),
        (${pid}, 'cli', '\\x02'::bytea, 'agx_pat_ABCD')`.execute(db);
      await up(db);
      const tokens = await db
        .selectFrom("api_tokens")
        .select(["name", "token_prefix", "bootstrap"])
        .orderBy("name")
        .execute();
      expect(tokens).toEqual([
        { name: "bootstrap", token_prefix: "oper", bootstrap: true },
        { name: "cli", token_prefix: "agx_pat_ABCD", bootstrap: false },
      ]);
    } finally {
      await store.close();
    }
  });
});
