import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_STORE, createTestDatabase, type TestDatabase } from "../src/testing.ts";

/** Waits until `got` has `n` entries (or fails after `ms`). */
async function until(got: unknown[], n: number, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (got.length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} notifications, got ${got.length}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe(`Database.subscribe / notify (${TEST_STORE})`, () => {
  let store: TestDatabase;
  beforeAll(async () => {
    store = await createTestDatabase();
  });
  afterAll(async () => {
    await store?.close();
  });

  it("delivers payloads to every subscriber of the channel, and nothing after unsubscribe", async () => {
    const a: string[] = [];
    const b: string[] = [];
    const other: string[] = [];
    const offA = await store.subscribe("test_channel", (p) => a.push(p));
    const offB = await store.subscribe("test_channel", (p) => b.push(p));
    const offOther = await store.subscribe("other_channel", (p) => other.push(p));
    await store.notify("test_channel", "42");
    await until(a, 1);
    await until(b, 1);
    expect(a).toEqual(["42"]);
    expect(other).toEqual([]);
    await offA();
    await store.notify("test_channel", "43");
    await until(b, 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(a).toEqual(["42"]);
    await offB();
    await offOther();
  });

  it("refuses a channel that is not a plain lowercase identifier", async () => {
    await expect(store.subscribe("bad channel; drop table x", () => {})).rejects.toThrow(
      /invalid notification channel/,
    );
    await expect(store.notify("Bad", "x")).rejects.toThrow(/invalid notification channel/);
  });

  it.runIf(TEST_STORE === "postgres")(
    "re-LISTENs after the listening connection is killed (a Postgres restart)",
    async () => {
      const got: string[] = [];
      const off = await store.subscribe("restart_channel", (p) => got.push(p));
      // Kill every other session listening on this database: the listener's connection among them.
      const killed = await sql<{ ok: boolean }>`select pg_terminate_backend(pid) as ok from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query ilike 'LISTEN%'`.execute(
        store.db,
      );
      expect(killed.rows.filter((r) => r.ok).length).toBeGreaterThanOrEqual(1);
      const deadline = Date.now() + 10_000;
      // Notifications sent while it reconnects are lost (documented); keep sending until one arrives.
      while (got.length === 0 && Date.now() < deadline) {
        await store.notify("restart_channel", "back");
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(got[0]).toBe("back");
      await off();
    },
  );
});
