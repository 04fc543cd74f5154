import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createCaller, createContextInner } from "../src/index.ts";
import { type Caller } from "@agentex/core";
import { SECRET, rejection, useFixture } from "./helpers.ts";
import { agentRow, builtAgent, productionRows, readyDeployment, registerInput } from "./lifecycle-helpers.ts";

describe(`promotion ledger and rollback (${TEST_STORE})`, () => {
  const f = useFixture();

  /** A caller whose calls carry `requestId`, as the server's would. */
  const callerWithRequest = (principal: Caller, requestId: string) =>
    createCaller(createContextInner({ db: f.db.db, secretKey: SECRET, principal, requestId }));

  const ledger = async (caller: ReturnType<typeof f.as>, agentId: string) => {
    const rows = [];
    let page = await caller.promotions.list({ agent_id: agentId, limit: 3 });
    rows.push(...page.items);
    while (page.next_cursor) {
      page = await caller.promotions.list({ agent_id: agentId, limit: 3, cursor: page.next_cursor });
      rows.push(...page.items);
    }
    return rows; // newest first
  };

  it("every promote appends one row (who, why, request id); re-promoting production appends none", async () => {
    const { caller, agent, principal } = await builtAgent(f);
    const [a, b] = [await readyDeployment(caller, agent), await readyDeployment(caller, agent)];
    await callerWithRequest(principal, "req-1").deployments.promote({
      agent_id: agent.id,
      deployment_id: a.id,
      reason: "first cut",
    });
    await callerWithRequest(principal, "req-2").deployments.promote({
      agent_id: agent.id,
      deployment_id: b.id,
    });
    await callerWithRequest(principal, "req-3").deployments.promote({
      agent_id: agent.id,
      deployment_id: b.id,
      reason: "again",
    });

    const rows = await ledger(caller, agent.id);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({
      agent_id: agent.id,
      kind: "promote",
      from_deployment_id: null,
      to_deployment_id: a.id,
      reason: "first cut",
      request_id: "req-1",
      undoes_id: null,
      actor: { kind: "user", id: principal.id, name: principal.name },
    });
    expect(rows[0]).toMatchObject({
      kind: "promote",
      from_deployment_id: a.id,
      to_deployment_id: b.id,
      reason: null,
      request_id: "req-2",
    });
    expect(rows[0]!.id).toBeGreaterThan(rows[1]!.id);
    expect(Date.parse(rows[0]!.at)).toBeGreaterThanOrEqual(Date.parse(rows[1]!.at));
  });

  it("the ledger is append-only in the database: UPDATE, DELETE and TRUNCATE are refused", async () => {
    const { caller, agent } = await builtAgent(f);
    const d = await readyDeployment(caller, agent);
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
    const db = f.db.db;
    await expect(
      sql`update promotions set reason = 'rewritten' where agent_id = ${agent.id}`.execute(db),
    ).rejects.toThrow(/append-only/);
    await expect(sql`delete from promotions where agent_id = ${agent.id}`.execute(db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`truncate promotions`.execute(db)).rejects.toThrow(/append-only/);
    expect(await ledger(caller, agent.id)).toHaveLength(1);
  });

  it("64 concurrent promotes: one row per effective change, each row from = the previous row to", async () => {
    const { caller, agent, principal } = await builtAgent(f);
    const deps: Awaited<ReturnType<typeof readyDeployment>>[] = [];
    for (let i = 0; i < 4; i++) deps.push(await readyDeployment(caller, agent));
    const ids = Array.from({ length: 64 }, (_, i) => `storm-${i}`);
    const results = await Promise.allSettled(
      ids.map((rid, i) =>
        callerWithRequest(principal, rid).deployments.promote({
          agent_id: agent.id,
          deployment_id: deps[(i * 7) % 4]!.id,
        }),
      ),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);

    const rows = (await ledger(caller, agent.id)).reverse(); // oldest first
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(64);
    expect(rows[0]!.from_deployment_id).toBeNull();
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.from_deployment_id).toBe(rows[i - 1]!.to_deployment_id);
      expect(rows[i]!.to_deployment_id).not.toBe(rows[i]!.from_deployment_id);
      expect(Date.parse(rows[i]!.at)).toBeGreaterThanOrEqual(Date.parse(rows[i - 1]!.at));
    }
    // Each row is one call's effective change; calls with no row were no-ops.
    const requestIds = rows.map((r) => r.request_id);
    expect(new Set(requestIds).size).toBe(rows.length);
    for (const rid of requestIds) expect(ids).toContain(rid);
    const current = (await agentRow(f.db.db, agent.id)).production_deployment_id;
    expect(rows.at(-1)!.to_deployment_id).toBe(current);
    expect((await productionRows(f.db.db, agent.id)).map((r) => r.id)).toEqual([current]);

    // Re-promoting production now adds nothing.
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: current! });
    expect(await ledger(caller, agent.id)).toHaveLength(rows.length);
  });

  it("rollback after rollback walks back the history; a promote after a rollback starts a new branch", async () => {
    const { caller, agent } = await builtAgent(f);
    const [a, b, c, d] = [
      await readyDeployment(caller, agent),
      await readyDeployment(caller, agent),
      await readyDeployment(caller, agent),
      await readyDeployment(caller, agent),
    ];
    for (const dep of [a, b, c])
      await caller.deployments.promote({ agent_id: agent.id, deployment_id: dep.id });

    const r1 = await caller.promotions.rollback({ agent_id: agent.id, reason: "c is broken" });
    expect(r1.deployment).toMatchObject({ id: b.id, is_production: true });
    expect(r1.promotion).toMatchObject({
      kind: "rollback",
      from_deployment_id: c.id,
      to_deployment_id: b.id,
      reason: "c is broken",
    });
    const r2 = await caller.promotions.rollback({ agent_id: agent.id });
    expect(r2.deployment.id).toBe(a.id);
    expect(r2.promotion).toMatchObject({ from_deployment_id: b.id, to_deployment_id: a.id });
    expect(await agentRow(f.db.db, agent.id)).toMatchObject({
      production_deployment_id: a.id,
      acp_url: a.acp_url,
    });

    // Before a there was nothing: 412.
    const none = await rejection(caller.promotions.rollback({ agent_id: agent.id }));
    expect(none.code).toBe("PRECONDITION_FAILED");

    // A new promote, then rollback: back to a (d's predecessor), not to b or c.
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id });
    const r3 = await caller.promotions.rollback({ agent_id: agent.id });
    expect(r3.deployment.id).toBe(a.id);

    const kinds = (await ledger(caller, agent.id)).map((r) => [
      r.kind,
      r.from_deployment_id,
      r.to_deployment_id,
    ]);
    expect(kinds).toEqual([
      ["rollback", d.id, a.id],
      ["promote", a.id, d.id],
      ["rollback", b.id, a.id],
      ["rollback", c.id, b.id],
      ["promote", b.id, c.id],
      ["promote", a.id, b.id],
      ["promote", null, a.id],
    ]);
  });

  it("rollback to an explicit earlier deployment pops the history back to it; others are 412", async () => {
    const { caller, agent } = await builtAgent(f);
    const deps: Awaited<ReturnType<typeof readyDeployment>>[] = [];
    for (let i = 0; i < 4; i++) deps.push(await readyDeployment(caller, agent));
    const [a, b, c, d] = deps as [(typeof deps)[0], (typeof deps)[0], (typeof deps)[0], (typeof deps)[0]];
    for (const dep of [a, b, c])
      await caller.deployments.promote({ agent_id: agent.id, deployment_id: dep.id });

    const never = await rejection(caller.promotions.rollback({ agent_id: agent.id, to_deployment_id: d.id }));
    expect(never.code).toBe("PRECONDITION_FAILED");
    expect(never.message).toContain(d.id);

    const same = await caller.promotions.rollback({ agent_id: agent.id, to_deployment_id: c.id });
    expect(same).toMatchObject({ deployment: { id: c.id }, promotion: null });

    const toA = await caller.promotions.rollback({ agent_id: agent.id, to_deployment_id: a.id });
    expect(toA.deployment.id).toBe(a.id);
    expect(toA.promotion).toMatchObject({
      from_deployment_id: c.id,
      to_deployment_id: a.id,
      kind: "rollback",
    });
    // b and c were both undone: nothing before a.
    expect((await rejection(caller.promotions.rollback({ agent_id: agent.id }))).code).toBe(
      "PRECONDITION_FAILED",
    );
  });

  it("a rollback target that was deleted or is no longer Ready is a 412 naming it, and changes nothing", async () => {
    const { caller, agent } = await builtAgent(f);
    const [a, b, c] = [
      await readyDeployment(caller, agent),
      await readyDeployment(caller, agent),
      await readyDeployment(caller, agent),
    ];
    for (const dep of [a, b, c])
      await caller.deployments.promote({ agent_id: agent.id, deployment_id: dep.id });
    await caller.deployments.delete({ agent_id: agent.id, deployment_id: b.id });
    const deleted = await rejection(caller.promotions.rollback({ agent_id: agent.id }));
    expect(deleted.code).toBe("PRECONDITION_FAILED");
    expect(deleted.message).toContain(b.id);

    await f.db.db.updateTable("deployments").set({ status: "Failed" }).where("id", "=", a.id).execute();
    const failed = await rejection(
      caller.promotions.rollback({ agent_id: agent.id, to_deployment_id: a.id }),
    );
    expect(failed.code).toBe("PRECONDITION_FAILED");
    expect(failed.message).toContain(a.id);
    expect((await agentRow(f.db.db, agent.id)).production_deployment_id).toBe(c.id);
    expect(await ledger(caller, agent.id)).toHaveLength(3);
  });

  it('a legacy register that clears production is a "cleared" row, and rollback restores production', async () => {
    const { caller, agent } = await builtAgent(f);
    const a = await readyDeployment(caller, agent);
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: a.id });
    await caller.agents.register(registerInput(agent.name, { acp_url: "http://legacy.svc:1" }));
    const [cleared] = await ledger(caller, agent.id);
    expect(cleared).toMatchObject({ kind: "cleared", from_deployment_id: a.id, to_deployment_id: null });
    expect(await caller.promotions.productionAt({ agent_id: agent.id })).toMatchObject({
      deployment_id: null,
    });

    const back = await caller.promotions.rollback({ agent_id: agent.id });
    expect(back.deployment.id).toBe(a.id);
    expect(await agentRow(f.db.db, agent.id)).toMatchObject({
      production_deployment_id: a.id,
      acp_url: a.acp_url,
    });
  });

  it('"production at T" answers match the ledger for every row, before the first and now', async () => {
    const { caller, agent } = await builtAgent(f);
    const deps: Awaited<ReturnType<typeof readyDeployment>>[] = [];
    for (let i = 0; i < 3; i++) deps.push(await readyDeployment(caller, agent));
    const before = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 6; i++) {
      await caller.deployments.promote({ agent_id: agent.id, deployment_id: deps[i % 3]!.id });
      if (i === 3) await caller.promotions.rollback({ agent_id: agent.id });
    }
    const rows = await ledger(caller, agent.id);
    expect(await caller.promotions.productionAt({ agent_id: agent.id, at: before })).toMatchObject({
      deployment_id: null,
      promotion: null,
    });
    for (const row of rows) {
      // The newest row at or before row.at is in force (rows may share a millisecond).
      const inForce = rows
        .filter((r) => Date.parse(r.at) <= Date.parse(row.at))
        .sort((x, y) => y.id - x.id)[0]!;
      const answer = await caller.promotions.productionAt({ agent_id: agent.id, at: row.at });
      expect(answer.promotion).toEqual(inForce);
      expect(answer.deployment_id).toBe(inForce.to_deployment_id);
    }
    const now = await caller.promotions.productionAt({ agent_id: agent.id });
    expect(now.deployment_id).toBe((await agentRow(f.db.db, agent.id)).production_deployment_id);
    expect(now.promotion).toEqual(rows[0]);
  });

  it("compare-and-swap: a stale expectation is 409 PRODUCTION_CHANGED carrying the current id", async () => {
    const { caller, agent } = await builtAgent(f);
    const [a, b] = [await readyDeployment(caller, agent), await readyDeployment(caller, agent)];
    const wrong = await rejection(
      caller.deployments.promote({
        agent_id: agent.id,
        deployment_id: a.id,
        expected_current_deployment_id: b.id,
      }),
    );
    expect(wrong).toMatchObject({ code: "CONFLICT" });
    expect((wrong as unknown as { reason: string; details: object }).reason).toBe("PRODUCTION_CHANGED");
    expect((wrong as unknown as { details: object }).details).toEqual({ current_deployment_id: null });

    await caller.deployments.promote({
      agent_id: agent.id,
      deployment_id: a.id,
      expected_current_deployment_id: null,
    });
    const stale = await rejection(
      caller.deployments.promote({
        agent_id: agent.id,
        deployment_id: b.id,
        expected_current_deployment_id: null,
      }),
    );
    expect((stale as unknown as { details: object }).details).toEqual({ current_deployment_id: a.id });
    await caller.deployments.promote({
      agent_id: agent.id,
      deployment_id: b.id,
      expected_current_deployment_id: a.id,
    });
    const rb = await rejection(
      caller.promotions.rollback({ agent_id: agent.id, expected_current_deployment_id: a.id }),
    );
    expect((rb as unknown as { details: object }).details).toEqual({ current_deployment_id: b.id });
    await caller.promotions.rollback({ agent_id: agent.id, expected_current_deployment_id: b.id });
    expect(await ledger(caller, agent.id)).toHaveLength(3);
  });

  it("N concurrent CAS promotes from the same expected state: exactly one wins", async () => {
    const { caller, agent } = await builtAgent(f);
    const base = await readyDeployment(caller, agent);
    await caller.deployments.promote({ agent_id: agent.id, deployment_id: base.id });
    const targets = [];
    for (let i = 0; i < 8; i++) targets.push(await readyDeployment(caller, agent));
    const results = await Promise.allSettled(
      targets.map((t) =>
        caller.deployments.promote({
          agent_id: agent.id,
          deployment_id: t.id,
          expected_current_deployment_id: base.id,
        }),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) {
      // The domain error travels as the tRPC error's cause: rejection() reads it there.
      if (r.status === "rejected")
        expect((await rejection(Promise.reject(r.reason as Error))).reason).toBe("PRODUCTION_CHANGED");
    }
    const rows = await ledger(caller, agent.id);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.to_deployment_id).toBe((won[0] as PromiseFulfilledResult<{ id: string }>).value.id);
  });

  it("reading the ledger needs read access: others get 404", async () => {
    const { agent } = await builtAgent(f);
    const { principal: stranger } = await f.principal();
    expect((await rejection(f.as(stranger).promotions.list({ agent_id: agent.id }))).code).toBe("NOT_FOUND");
    expect((await rejection(f.as(stranger).promotions.productionAt({ agent_id: agent.id }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await rejection(f.as(stranger).promotions.rollback({ agent_id: agent.id }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await rejection(f.as(stranger).promotions.list({ agent_id: randomUUID() }))).code).toBe(
      "NOT_FOUND",
    );
  });
});
