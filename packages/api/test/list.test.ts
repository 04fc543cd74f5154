import { randomBytes, randomUUID } from "node:crypto";
import type { AgentStatus } from "@agentex/db";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "@agentex/core";
import { rejection, useFixture } from "./helpers.ts";
import { registerInput } from "./lifecycle-helpers.ts";

type OrderBy = "created_at" | "updated_at" | "name" | "registered_at";
type Direction = "asc" | "desc";

interface Seeded {
  id: string;
  name: string;
  status: AgentStatus;
  created_at: string;
  updated_at: string;
  registered_at: string | null;
}

/** Fixed-width timestamps: lexical order is time order, and microseconds matter. */
const ts = (day: number, micros: number) =>
  `2024-05-${String(day).padStart(2, "0")} 10:00:00.${String(micros).padStart(6, "0")}+00`;

function cmp(a: string, b: string) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order the SPEC promises: by the column (NULL registered_at lowest), ties broken by id, both in one direction. */
function expectedOrder(rows: Seeded[], orderBy: OrderBy, direction: Direction): string[] {
  const key = (r: Seeded) => r[orderBy] ?? "";
  const sorted = [...rows].sort((a, b) => cmp(key(a), key(b)) || cmp(a.id, b.id));
  if (direction === "desc") sorted.reverse();
  return sorted.map((r) => r.id);
}

const ORDERS: OrderBy[] = ["created_at", "updated_at", "name", "registered_at"];
const DIRECTIONS: Direction[] = ["asc", "desc"];

describe(`agents.list and agents.listPage (${TEST_STORE})`, () => {
  const f = useFixture();
  let me!: Caller;
  let mine: Seeded[] = [];
  let deletedId!: string;
  const othersIds: string[] = [];

  beforeAll(async () => {
    me = (await f.principal()).principal;
    const other = (await f.principal()).principal;
    const caller = f.as(me);
    const prefix = `lst-${randomBytes(3).toString("hex")}`;
    const names = Array.from(
      { length: 10 },
      (_, i) => `${prefix}-${String.fromCharCode(97 + ((i * 7) % 10))}${i}`,
    );

    const created: { id: string; name: string }[] = [];
    for (const [i, name] of names.entries()) {
      const a =
        i % 3 === 0
          ? await caller.agents.register(registerInput(name))
          : await caller.agents.registerBuild({ name, description: "" });
      created.push({ id: a.id, name });
    }
    for (let i = 0; i < 3; i++) {
      othersIds.push(
        (await f.as(other).agents.registerBuild({ name: `${prefix}-z-other-${i}`, description: "" })).id,
      );
    }
    const doomed = await caller.agents.registerBuild({ name: `${prefix}-doomed`, description: "" });
    await caller.agents.delete({ agent_id: doomed.id });
    deletedId = doomed.id;

    // Pin every sort column (with ties, NULLs and microsecond differences), then the statuses.
    const statuses: AgentStatus[] = [
      "Ready",
      "BuildOnly",
      "BuildOnly",
      "Ready",
      "Unhealthy",
      "BuildOnly",
      "Ready",
      "Failed",
      "Unhealthy",
      "Ready",
    ];
    const createdAt = [
      ts(1, 5),
      ts(1, 5),
      ts(1, 5),
      ts(1, 4),
      ts(2, 0),
      ts(3, 1),
      ts(3, 2),
      ts(1, 6),
      ts(9, 0),
      ts(2, 0),
    ];
    const updatedAt = [
      ts(20, 0),
      ts(11, 1),
      ts(11, 2),
      ts(15, 0),
      ts(11, 1),
      ts(10, 0),
      ts(25, 0),
      ts(12, 0),
      ts(11, 1),
      ts(30, 3),
    ];
    const registeredAt = [ts(5, 0), null, null, ts(5, 0), ts(4, 9), null, ts(5, 1), ts(4, 8), null, ts(6, 0)];
    mine = created.map((a, i) => ({
      ...a,
      status: statuses[i]!,
      created_at: createdAt[i]!,
      updated_at: updatedAt[i]!,
      registered_at: registeredAt[i] ?? null,
    }));
    for (const a of mine) {
      await sql`update agents set status = ${a.status}::agent_status, created_at = ${a.created_at}::timestamptz,
        updated_at = ${a.updated_at}::timestamptz, registered_at = ${a.registered_at}::timestamptz where id = ${a.id}`.execute(
        f.db.db,
      );
    }
  });

  it("lists only live agents the caller can read, newest first by default", async () => {
    const listed = await f.as(me).agents.list({});
    expect(listed.map((a) => a.id)).toEqual(expectedOrder(mine, "created_at", "desc"));
    expect(listed.map((a) => a.id)).not.toContain(deletedId);
    for (const id of othersIds) expect(listed.map((a) => a.id)).not.toContain(id);

    const { principal: admin } = await f.principal({ admin: true });
    const all = (await f.as(admin).agents.list({ limit: 1000 })).map((a) => a.id);
    expect(all).toEqual(expect.arrayContaining([...mine.map((a) => a.id), ...othersIds]));
    expect(all).not.toContain(deletedId);
  });

  for (const orderBy of ORDERS) {
    for (const direction of DIRECTIONS) {
      it(`order_by=${orderBy} ${direction}: offset pages and keyset pages give the same order, no gaps, no duplicates`, async () => {
        const caller = f.as(me);
        const expected = expectedOrder(mine, orderBy, direction);
        const full = await caller.agents.list({ order_by: orderBy, order_direction: direction, limit: 1000 });
        expect(full.map((a) => a.id)).toEqual(expected);

        for (const limit of [1, 3, 4]) {
          const byOffset: string[] = [];
          for (let page = 1; ; page++) {
            const rows = await caller.agents.list({
              order_by: orderBy,
              order_direction: direction,
              limit,
              page_number: page,
            });
            expect(rows.length).toBeLessThanOrEqual(limit);
            byOffset.push(...rows.map((a) => a.id));
            if (rows.length < limit) break;
            if (page > 50) throw new Error("offset paging does not end");
          }
          expect(byOffset).toEqual(expected);

          const byCursor: string[] = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const page: { items: { id: string }[]; next_cursor: string | null } =
              await caller.agents.listPage({
                order_by: orderBy,
                order_direction: direction,
                limit,
                cursor,
              });
            expect(page.items.length).toBeLessThanOrEqual(limit);
            byCursor.push(...page.items.map((a) => a.id));
            cursor = page.next_cursor;
            if (++pages > 50) throw new Error("cursor walk does not end");
          } while (cursor);
          expect(byCursor).toEqual(expected);
          expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
        }
      });
    }
  }

  it("filters by status (offset and keyset), and never lists Deleted", async () => {
    const caller = f.as(me);
    for (const status of ["Ready", "BuildOnly", "Unhealthy", "Failed", "Unknown"] as const) {
      const expected = expectedOrder(
        mine.filter((a) => a.status === status),
        "name",
        "asc",
      );
      const listed = await caller.agents.list({ status, order_by: "name", order_direction: "asc" });
      expect(listed.map((a) => a.id)).toEqual(expected);
      expect(listed.every((a) => a.status === status)).toBe(true);

      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; next_cursor: string | null } = await caller.agents.listPage({
          status,
          order_by: "name",
          order_direction: "asc",
          limit: 1,
          cursor,
        });
        walked.push(...page.items.map((a) => a.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(walked).toEqual(expected);
    }
    expect(await caller.agents.list({ status: "Deleted" })).toEqual([]);
  });

  it("a page past the end is empty", async () => {
    expect(await f.as(me).agents.list({ limit: 5, page_number: 3 })).toEqual([]);
    expect(await f.as(me).agents.list({ limit: 1000, page_number: 1_000_000 })).toEqual([]);
  });

  it("defaults to 50 per page and accepts limits from 1 to 1000", async () => {
    const { principal } = await f.principal();
    // Seed 53 readable agents straight into the store (the API path is covered above).
    for (let i = 0; i < 53; i++) {
      const { rows } = await sql<{ id: string }>`
        insert into agents (name, status) values (${`bulk-${randomBytes(5).toString("hex")}`}, 'BuildOnly') returning id`.execute(
        f.db.db,
      );
      await sql`insert into grants (agent_id, principal_id, role) values (${rows[0]!.id}, ${principal.id}, 'viewer')`.execute(
        f.db.db,
      );
    }
    const caller = f.as(principal);
    expect(await caller.agents.list({})).toHaveLength(50);
    expect(await caller.agents.list({ page_number: 2 })).toHaveLength(3);
    expect(await caller.agents.list({ limit: 1 })).toHaveLength(1);
    expect(await caller.agents.list({ limit: 1000 })).toHaveLength(53);
    expect((await caller.agents.listPage({})).items).toHaveLength(50);
  });

  it("rejects bad parameters with 422 naming the field", async () => {
    const caller = f.as(me);
    const cases: [Record<string, unknown>, string][] = [
      [{ limit: 0 }, "limit"],
      [{ limit: 1001 }, "limit"],
      [{ limit: 2.5 }, "limit"],
      [{ page_number: 0 }, "page_number"],
      [{ order_by: "id" }, "order_by"],
      [{ order_by: "description" }, "order_by"],
      [{ order_direction: "up" }, "order_direction"],
      [{ status: "Gone" }, "status"],
      [{ status: "ready" }, "status"],
    ];
    for (const [input, field] of cases) {
      const err = await rejection(caller.agents.list(input));
      expect(err.code, JSON.stringify(input)).toBe("UNPROCESSABLE_CONTENT");
      expect((err.issues as { field: string }[]).map((i) => i.field)).toContain(field);
      expect(err.message).toContain(field);
      if (field !== "page_number") {
        const pageErr = await rejection(caller.agents.listPage(input));
        expect(pageErr.code, JSON.stringify(input)).toBe("UNPROCESSABLE_CONTENT");
        expect((pageErr.issues as { field: string }[]).map((i) => i.field)).toContain(field);
      }
    }
  });

  it("rejects bogus cursors with 422: garbage, another ordering, a forged key", async () => {
    const caller = f.as(me);
    const first = await caller.agents.listPage({ order_by: "name", order_direction: "asc", limit: 2 });
    expect(first.next_cursor).toEqual(expect.any(String));
    const forge = (s: string, k: string, i: string) =>
      Buffer.from(JSON.stringify({ s, k, i })).toString("base64url");
    const attempts: [Parameters<typeof caller.agents.listPage>[0], string][] = [
      [{ cursor: "garbage!!" }, "garbage"],
      [{ cursor: Buffer.from('{"not":"a cursor"}').toString("base64url") }, "wrong shape"],
      [{ order_by: "name", order_direction: "desc", cursor: first.next_cursor }, "other direction"],
      [{ order_by: "created_at", order_direction: "asc", cursor: first.next_cursor }, "other column"],
      [
        { order_by: "name", order_direction: "asc", status: "Ready", cursor: first.next_cursor },
        "other filter",
      ],
      [
        {
          order_by: "created_at",
          order_direction: "desc",
          cursor: forge("agents:created_at:desc:", "yesterday-ish", randomUUID()),
        },
        "bad key",
      ],
      [
        {
          order_by: "created_at",
          order_direction: "desc",
          cursor: forge("agents:created_at:desc:", ts(1, 1), "-".repeat(36)),
        },
        "bad id",
      ],
    ];
    for (const [input, label] of attempts) {
      const err = await rejection(caller.agents.listPage(input));
      expect(err.code, label).toBe("UNPROCESSABLE_CONTENT");
    }
    // The genuine cursor still works.
    const second = await caller.agents.listPage({
      order_by: "name",
      order_direction: "asc",
      limit: 2,
      cursor: first.next_cursor,
    });
    expect(second.items.map((a) => a.id)).toEqual(expectedOrder(mine, "name", "asc").slice(2, 4));
  });
});
