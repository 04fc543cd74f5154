import { randomBytes } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "@agentex/core";
import { createCaller, createContextInner } from "../src/index.ts";
import { SECRET, rejection, useFixture } from "./helpers.ts";

/** Fixed-width timestamps: lexical order is time order, and microseconds matter. */
const ts = (day: number, micros: number) =>
  `2024-06-${String(day).padStart(2, "0")} 10:00:00.${String(micros).padStart(6, "0")}+00`;

interface Seeded {
  id: string;
  created_at: string;
  promoted_at: string | null;
}

/** The order the REST list promises: by the column (never-promoted last either way), then created_at, then id. */
function expectedOrder(rows: Seeded[], orderBy: "created_at" | "promoted_at", direction: "asc" | "desc") {
  const sign = direction === "asc" ? 1 : -1;
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows]
    .sort((a, b) => {
      if (orderBy === "promoted_at" && (a.promoted_at === null) !== (b.promoted_at === null))
        return a.promoted_at === null ? 1 : -1;
      const byColumn = orderBy === "promoted_at" ? cmp(a.promoted_at ?? "", b.promoted_at ?? "") : 0;
      return sign * (byColumn || cmp(a.created_at, b.created_at) || cmp(a.id, b.id));
    })
    .map((r) => r.id);
}

describe(`one paging rule for agents.list and deployments.list (${TEST_STORE})`, () => {
  const f = useFixture();
  let me!: Caller;
  let agentId!: string;
  const deployments: Seeded[] = [];

  /** A caller as the REST bridge makes one: the next page's cursor is handed to the transport. */
  const rest = () => {
    const announced: string[] = [];
    const caller = createCaller(
      createContextInner({
        db: f.db.db,
        secretKey: SECRET,
        principal: me,
        onNextCursor: (c) => void announced.push(c),
      }),
    );
    return { caller, announced };
  };

  beforeAll(async () => {
    me = (await f.principal()).principal;
    const caller = f.as(me);
    const prefix = `pg-${randomBytes(3).toString("hex")}`;
    for (let i = 0; i < 3; i++)
      await caller.agents.registerBuild({ name: `${prefix}-${i}`, description: "" });
    agentId = (await caller.agents.registerBuild({ name: `${prefix}-deps`, description: "" })).id;
    // Ties in both columns, never-promoted rows, and microsecond differences.
    const createdAt = [ts(1, 5), ts(1, 5), ts(2, 0), ts(1, 4), ts(3, 1), ts(3, 1), ts(2, 9)];
    const promotedAt = [ts(9, 0), null, ts(8, 0), ts(9, 0), null, ts(7, 1), null];
    for (let i = 0; i < createdAt.length; i++) {
      const d = await caller.deployments.create({ agent_id: agentId, docker_image: `img:${i}` });
      await sql`update deployments set created_at = ${createdAt[i]!}::timestamptz,
        promoted_at = ${promotedAt[i] ?? null}::timestamptz where id = ${d.id}`.execute(f.db.db);
      deployments.push({ id: d.id, created_at: createdAt[i]!, promoted_at: promotedAt[i] ?? null });
    }
  });

  for (const orderBy of ["created_at", "promoted_at"] as const) {
    for (const direction of ["desc", "asc"] as const) {
      it(`deployments.list order_by=${orderBy} ${direction}: offset pages and cursor pages give one order, no gaps, no duplicates`, async () => {
        const expected = expectedOrder(deployments, orderBy, direction);
        const order = { agent_id: agentId, order_by: orderBy, order_direction: direction };
        const { caller } = rest();
        for (const limit of [1, 2, 3]) {
          const byOffset: string[] = [];
          for (let page = 1; page <= 10; page++) {
            const rows = await caller.deployments.list({ ...order, limit, page_number: page });
            byOffset.push(...rows.map((d) => d.id));
            if (rows.length < limit) break;
          }
          expect(byOffset, `offset pages of ${limit}`).toEqual(expected);

          // The first page announces a cursor; following it walks the same order.
          const byCursor: string[] = [];
          let cursor: string | undefined;
          for (let pages = 0; pages <= 10; pages++) {
            const { caller: c, announced } = rest();
            const rows = await c.deployments.list({ ...order, limit, ...(cursor ? { cursor } : {}) });
            byCursor.push(...rows.map((d) => d.id));
            cursor = announced[0];
            if (!cursor) break;
          }
          expect(byCursor, `cursor pages of ${limit}`).toEqual(expected);
        }
      });
    }
  }

  /** The first page's cursor of each list, under `order`. */
  async function firstCursor(list: "agents" | "deployments", order: Record<string, string>) {
    const { caller, announced } = rest();
    if (list === "agents") await caller.agents.list({ ...order, limit: 1 });
    else await caller.deployments.list({ agent_id: agentId, ...order, limit: 1 });
    expect(announced[0], `${list} announces a next cursor`).toEqual(expect.any(String));
    return announced[0]!;
  }

  const list = (which: "agents" | "deployments", input: Record<string, unknown>) =>
    which === "agents"
      ? f.as(me).agents.list(input)
      : f.as(me).deployments.list({ agent_id: agentId, ...input });

  for (const which of ["agents", "deployments"] as const) {
    it(`${which}.list: cursor together with page_number is a 422 naming cursor, whatever the page`, async () => {
      const cursor = await firstCursor(which, {});
      for (const page_number of [1, 2]) {
        const err = await rejection(list(which, { cursor, page_number }));
        expect(err.code, `page_number=${page_number}`).toBe("UNPROCESSABLE_CONTENT");
        expect(err.issues).toEqual([{ field: "cursor", message: expect.stringContaining("page_number") }]);
      }
    });

    it(`${which}.list: a cursor used under another order_by or order_direction is a 422 naming cursor`, async () => {
      const cursor = await firstCursor(which, { order_by: "created_at", order_direction: "desc" });
      const other = which === "agents" ? "updated_at" : "promoted_at";
      for (const order of [
        { order_by: "created_at", order_direction: "asc" },
        { order_by: other, order_direction: "desc" },
        { order_by: other },
      ]) {
        const err = await rejection(list(which, { ...order, cursor }));
        expect(err.code, JSON.stringify(order)).toBe("UNPROCESSABLE_CONTENT");
        expect(err.issues).toEqual([{ field: "cursor", message: expect.any(String) }]);
      }
      // Under its own ordering (given or defaulted) it is the second page.
      const second = await list(which, { cursor, limit: 1 });
      expect(second).toHaveLength(1);
      expect(
        await list(which, { cursor, limit: 1, order_by: "created_at", order_direction: "desc" }),
      ).toEqual(second);
      expect(second).toEqual(await list(which, { limit: 1, page_number: 2 }));
    });

    it(`${which}.list: with no paging parameters, the first 50 newest first, as a bare array`, async () => {
      const rows = await list(which, {});
      expect(Array.isArray(rows)).toBe(true);
      const created = rows.map((r) => r.created_at);
      expect(created).toEqual([...created].sort().reverse());
      expect(await list(which, { page_number: 1 })).toEqual(rows);
    });
  }
});
