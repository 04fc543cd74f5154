import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import {
  acquireLease,
  claimDueAgents,
  liveLease,
  releaseHealthClaims,
  releaseLease,
  type LeaseRequest,
} from "@agentex/core";
import { describe, expect, it } from "vitest";
import { uniqueName, useFixture } from "../../api/test/helpers.ts";
import { registerInput } from "../../api/test/lifecycle-helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`leases in the database (${TEST_STORE})`, () => {
  const f = useFixture();
  const request = (name: string, ttlMs = 5_000): LeaseRequest => ({
    name,
    owner: randomUUID(),
    holder: "test",
    ttlMs,
  });

  it("a free lease is taken; its owner renews it (later expiry, same start); nobody else gets it while it is live", async () => {
    const a = request(uniqueName("lease"));
    const b = { ...request(a.name), owner: randomUUID() };
    const taken = await acquireLease(f.db.db, a);
    expect(taken).toMatchObject({ name: a.name, owner: a.owner, holder: "test" });
    expect(await acquireLease(f.db.db, b)).toBeNull();
    await sleep(20);
    const renewed = await acquireLease(f.db.db, a);
    expect(renewed!.owner).toBe(a.owner);
    expect(renewed!.acquired_at.getTime()).toBe(taken!.acquired_at.getTime());
    expect(renewed!.expires_at.getTime()).toBeGreaterThan(taken!.expires_at.getTime());
    expect((await liveLease(f.db.db, a.name))?.owner).toBe(a.owner);
    // Another owner cannot release it.
    expect(await releaseLease(f.db.db, a.name, b.owner)).toBe(false);
    expect((await liveLease(f.db.db, a.name))?.owner).toBe(a.owner);
  });

  it("an expired lease is taken by another owner, after which the old owner can neither renew nor release it", async () => {
    const a = request(uniqueName("lease"), 150);
    const b = { ...request(a.name), owner: randomUUID() };
    expect(await acquireLease(f.db.db, a)).not.toBeNull();
    expect(await acquireLease(f.db.db, b)).toBeNull();
    await sleep(250);
    expect(await liveLease(f.db.db, a.name)).toBeNull();
    const stolen = await acquireLease(f.db.db, b);
    expect(stolen!.owner).toBe(b.owner);
    expect(await acquireLease(f.db.db, a)).toBeNull();
    expect(await releaseLease(f.db.db, a.name, a.owner)).toBe(false);
    expect((await liveLease(f.db.db, a.name))?.owner).toBe(b.owner);
  });

  it("a released lease is free at once, long before its expiry", async () => {
    const a = request(uniqueName("lease"), 60_000);
    const b = { ...request(a.name), owner: randomUUID() };
    await acquireLease(f.db.db, a);
    expect(await acquireLease(f.db.db, b)).toBeNull();
    expect(await releaseLease(f.db.db, a.name, a.owner)).toBe(true);
    expect(await liveLease(f.db.db, a.name)).toBeNull();
    expect((await acquireLease(f.db.db, b))?.owner).toBe(b.owner);
  });

  it("many owners racing for one free lease: exactly one gets it", async () => {
    const name = uniqueName("lease");
    const owners = Array.from({ length: 16 }, () => ({ ...request(name), owner: randomUUID() }));
    const results = await Promise.all(owners.map((r) => acquireLease(f.db.db, r)));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect((await liveLease(f.db.db, name))?.owner).toBe(winners[0]!.owner);
    // ... and the same once it has expired and they race again.
    await f.db.db
      .updateTable("worker_leases")
      .set({ expires_at: new Date(0) })
      .where("name", "=", name)
      .execute();
    const again = await Promise.all(owners.map((r) => acquireLease(f.db.db, r)));
    expect(again.filter((r) => r !== null)).toHaveLength(1);
  });

  it("row leases: claims are disjoint, expire, and a released claim is claimable again at once", async () => {
    const { principal } = await f.principal();
    const c = f.as(principal);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await c.agents.register(registerInput(uniqueName()))).id);
    const mine = (rows: { id: string }[]) => rows.map((r) => r.id).filter((id) => ids.includes(id));
    const a = randomUUID();
    const b = randomUUID();
    const [byA, byB] = await Promise.all([
      claimDueAgents(f.db.db, { lease: a, leaseMs: 60_000, limit: 100 }),
      claimDueAgents(f.db.db, { lease: b, leaseMs: 60_000, limit: 100 }),
    ]);
    const both = [...mine(byA), ...mine(byB)];
    expect(new Set(both).size).toBe(both.length);
    expect([...both].sort()).toEqual([...ids].sort());
    // Everything is claimed: nothing more for anyone.
    expect(mine(await claimDueAgents(f.db.db, { lease: b, leaseMs: 60_000, limit: 100 }))).toEqual([]);
    // A releases: its targets are B's to claim now.
    expect(await releaseHealthClaims(f.db.db, a)).toBeGreaterThanOrEqual(mine(byA).length);
    expect(mine(await claimDueAgents(f.db.db, { lease: b, leaseMs: 100, limit: 100 })).sort()).toEqual(
      mine(byA).sort(),
    );
    // Those short claims expire, and another owner takes them.
    await sleep(200);
    const third = randomUUID();
    expect(mine(await claimDueAgents(f.db.db, { lease: third, leaseMs: 60_000, limit: 100 })).sort()).toEqual(
      mine(byA).sort(),
    );
    const held = await f.db.db
      .selectFrom("agents")
      .select(["id", "health_lease"])
      .where("id", "in", ids)
      .execute();
    for (const row of held) expect(row.health_lease).toBe(mine(byA).includes(row.id) ? third : b);
  });
});
