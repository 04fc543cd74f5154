import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { afterCommit, savepoint, withTransaction, type DB } from "../src/index.ts";
import { createTestDatabase, TEST_STORE, type TestDatabase } from "../src/testing.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`withTransaction's after-commit hooks (${TEST_STORE})`, () => {
  let database: TestDatabase;
  let db: Kysely<DB>;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.db;
    await sql`create table tx_probe (id text primary key)`.execute(db);
  });
  afterAll(async () => {
    await database?.close();
  });

  const insert = (trx: Kysely<DB>, id: string) => sql`insert into tx_probe (id) values (${id})`.execute(trx);

  /**
   * Whether another connection sees the row now. Postgres: another pool
   * connection, which sees only committed rows. Embedded: the one session is
   * held by an open transaction, so a read that gets no answer within the wait
   * means "not committed yet".
   */
  async function visibleOutside(id: string): Promise<boolean> {
    const read = sql<{ id: string }>`select id from tx_probe where id = ${id}`
      .execute(db)
      .then((r) => r.rows.length === 1);
    return Promise.race([read, sleep(300).then(() => false)]);
  }

  /** A real serialization failure (SQLSTATE 40001), which withTransaction retries. */
  const serializationFailure = (trx: Kysely<DB>) =>
    sql`do $$ begin raise exception 'forced' using errcode = '40001'; end $$`.execute(trx);

  it("a hook runs once, after the commit: another connection already sees the change", async () => {
    const id = randomUUID();
    const seen: boolean[] = [];
    await withTransaction(db, async (trx) => {
      await insert(trx, id);
      await afterCommit(trx, async () => void seen.push(await visibleOutside(id)));
    });
    expect(seen).toEqual([true]);
  });

  it("a nested call joins the outer transaction: its hooks wait for the outermost commit", async () => {
    const id = randomUUID();
    const steps: string[] = [];
    await withTransaction(db, async (outer) => {
      await withTransaction<DB, void>(outer, async (inner) => {
        await insert(inner, id);
        await afterCommit(
          inner,
          async () => void steps.push(`hook sees the row: ${await visibleOutside(id)}`),
        );
      });
      steps.push("inner call returned");
    });
    expect(steps).toEqual(["inner call returned", "hook sees the row: true"]);
  });

  it("nothing runs when the transaction rolls back, outermost or joined", async () => {
    const ran: string[] = [];
    await expect(
      withTransaction(db, async (trx) => {
        await insert(trx, randomUUID());
        await afterCommit(trx, () => void ran.push("rolled back"));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expect(
      withTransaction(db, async (outer) => {
        await withTransaction<DB, void>(outer, (inner) => afterCommit(inner, () => void ran.push("joined")));
        throw new Error("the outer work failed after the joined call");
      }),
    ).rejects.toThrow("the outer work failed");
    expect(ran).toEqual([]);
  });

  it("a retried attempt's hooks are dropped; the attempt that commits runs its own, once", async () => {
    const ran: number[] = [];
    let attempt = 0;
    await withTransaction(db, async (trx) => {
      const mine = ++attempt;
      await insert(trx, randomUUID());
      await afterCommit(trx, () => void ran.push(mine));
      if (mine === 1) await serializationFailure(trx);
    });
    expect(attempt).toBe(2);
    expect(ran).toEqual([2]);
  });

  it("a joined call that fails takes its hooks with it; the outer transaction's still run", async () => {
    const ran: string[] = [];
    await withTransaction(db, async (outer) => {
      await afterCommit(outer, () => void ran.push("outer, before"));
      await withTransaction<DB, void>(outer, async (inner) => {
        await afterCommit(inner, () => void ran.push("failed joined call"));
        throw new Error("refused");
      }).catch(() => undefined);
      await afterCommit(outer, () => void ran.push("outer, after"));
    });
    expect(ran).toEqual(["outer, before", "outer, after"]);
  });

  it("rolling back to a savepoint drops the hooks registered after it", async () => {
    const kept = randomUUID();
    const undone = randomUUID();
    const ran: string[] = [];
    await withTransaction(db, async (trx) => {
      await insert(trx, kept);
      await afterCommit(trx, () => void ran.push("before the savepoint"));
      const sp = await savepoint(trx, "probe");
      await insert(trx, undone);
      await afterCommit(trx, () => void ran.push("after the savepoint"));
      await sp.rollback();
    });
    expect(ran).toEqual(["before the savepoint"]);
    expect(await visibleOutside(kept)).toBe(true);
    expect(await visibleOutside(undone)).toBe(false);
  });

  it("outside a transaction the statements have committed already: the hook runs at once", async () => {
    const id = randomUUID();
    await insert(db, id);
    const seen: boolean[] = [];
    await afterCommit(db, async () => void seen.push(await visibleOutside(id)));
    expect(seen).toEqual([true]);
  });

  it("hooks run in order; one that throws does not stop the rest, and its error reaches the caller after the commit", async () => {
    const id = randomUUID();
    const ran: string[] = [];
    await expect(
      withTransaction(db, async (trx) => {
        await insert(trx, id);
        await afterCommit(trx, () => void ran.push("first"));
        await afterCommit(trx, () => {
          throw new Error("a broken hook");
        });
        await afterCommit(trx, () => sleep(5).then(() => void ran.push("third, awaited")));
      }),
    ).rejects.toThrow("a broken hook");
    expect(ran).toEqual(["first", "third, awaited"]);
    expect(await visibleOutside(id)).toBe(true);
  });

  it("a transaction that withTransaction did not open has no one to run hooks: refused", async () => {
    await expect(db.transaction().execute((trx) => afterCommit(trx, () => undefined))).rejects.toThrow(
      /withTransaction/,
    );
  });
});
