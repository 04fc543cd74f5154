import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectPostgres, type Database } from "../src/index.ts";
import { createTestDatabase, rawPostgres, TEST_STORE, type TestDatabase } from "../src/testing.ts";
import { sql } from "kysely";

function nextPayload(received: string[], count: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (received.length >= count) return resolve();
      if (Date.now() > deadline)
        return reject(new Error(`only ${received.length} of ${count} notifications arrived`));
      setTimeout(check, 10);
    };
    check();
  });
}

describe(`Database.subscribe / notify (${TEST_STORE})`, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  it("delivers a payload to every subscriber of the channel, and nothing after unsubscribing", async () => {
    const a: string[] = [];
    const b: string[] = [];
    const other: string[] = [];
    const offA = await database.subscribe("agentex_test", (p) => a.push(p));
    const offB = await database.subscribe("agentex_test", (p) => b.push(p));
    const offOther = await database.subscribe("agentex_other", (p) => other.push(p));
    expect(database.listenerEpoch()).not.toBeNull();
    await database.notify("agentex_test", '{"k":"token","id":"1"}');
    await nextPayload(a, 1);
    await nextPayload(b, 1);
    expect(a).toEqual(['{"k":"token","id":"1"}']);
    expect(other).toEqual([]);
    await offA();
    await database.notify("agentex_test", "second");
    await nextPayload(b, 2);
    expect(a).toHaveLength(1);
    await offB();
    await offOther();
  });

  it("refuses a channel name that is not a plain identifier", async () => {
    await expect(database.subscribe("bad channel; drop table agents", () => {})).rejects.toThrow(/channel/);
    await expect(database.notify("Bad-Name", "x")).rejects.toThrow(/channel/);
  });

  it.skipIf(TEST_STORE !== "postgres")(
    "reaches another process-level Database on the same Postgres, and resumes after its listener is killed",
    async () => {
      const other: Database = connectPostgres({ url: database.url! });
      try {
        const got: string[] = [];
        await other.subscribe("agentex_test", (p) => got.push(p));
        const first = other.listenerEpoch();
        await database.notify("agentex_test", "from-a");
        await nextPayload(got, 1);
        // Kill the listening backend, as a Postgres restart or failover would.
        const admin = rawPostgres(database.url!);
        try {
          await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`.execute(
            admin,
          );
        } finally {
          await admin.destroy();
        }
        const deadline = Date.now() + 10_000;
        while ((other.listenerEpoch() === first || other.listenerEpoch() === null) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(other.listenerEpoch()).not.toBeNull();
        expect(other.listenerEpoch()).not.toBe(first);
        await database.notify("agentex_test", "after-restart");
        await nextPayload(got, 2);
        expect(got).toEqual(["from-a", "after-restart"]);
      } finally {
        await other.close();
      }
    },
  );
});
