import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { uniqueName, useFixture } from "./helpers.ts";
import { agentRow, keyRows, productionRows, readyDeployment, registerInput } from "./lifecycle-helpers.ts";

/** Settles every promise; a rejection must be a clean tRPC CONFLICT (anything else fails the test). */
async function outcomes<T>(promises: Promise<T>[]) {
  const settled = await Promise.allSettled(promises);
  const ok: T[] = [];
  const conflicts: unknown[] = [];
  for (const s of settled) {
    if (s.status === "fulfilled") ok.push(s.value);
    else if ((s.reason as { code?: string } | null)?.code === "CONFLICT") conflicts.push(s.reason);
    else throw s.reason;
  }
  return { ok, conflicts };
}

describe(`concurrency (${TEST_STORE})`, () => {
  const f = useFixture();

  async function consistentProduction(agentId: string) {
    const agent = await agentRow(f.db.db, agentId);
    const production = await productionRows(f.db.db, agentId);
    if (agent.production_deployment_id === null) {
      expect(production).toEqual([]);
    } else {
      expect(production.map((d) => d.id)).toEqual([agent.production_deployment_id]);
      expect(agent.acp_url).toBe(production[0]!.acp_url);
    }
    return { agent, production };
  }

  it("24 concurrent registerBuild of one new name create exactly one row, and all get its id", async () => {
    const { principal } = await f.principal();
    const caller = f.as(principal);
    const name = uniqueName("race");
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => caller.agents.registerBuild({ name, description: `call ${i}` })),
    );
    const ids = new Set(results.map((a) => a.id));
    expect(ids.size).toBe(1);
    const rows = await f.db.db
      .selectFrom("agents")
      .select(["id", "status"])
      .where("name", "=", name)
      .execute();
    expect(rows).toEqual([{ id: results[0]!.id, status: "BuildOnly" }]);
    const grants = await f.db.db
      .selectFrom("grants")
      .selectAll()
      .where("agent_id", "=", results[0]!.id)
      .execute();
    expect(grants.map((g) => [g.principal_id, g.role])).toEqual([[principal.id, "owner"]]);
    expect(await keyRows(f.db.db, results[0]!.id)).toEqual([]);
  });

  it("24 concurrent registerBuild of one new name by different admins also converge on one id", async () => {
    const admins = await Promise.all([
      f.principal({ admin: true }),
      f.principal({ admin: true }),
      f.principal({ admin: true }),
    ]);
    const name = uniqueName("race");
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        f.as(admins[i % 3]!.principal).agents.registerBuild({ name, description: "" }),
      ),
    );
    expect(new Set(results.map((a) => a.id)).size).toBe(1);
    expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute()).toHaveLength(
      1,
    );
  });

  it("racing creators who cannot read each other get one row: the winner owns it, the rest a clean 409 and no grant", async () => {
    const creators = await Promise.all(
      Array.from({ length: 8 }, () => f.principal({ can_create_agents: true })),
    );
    const name = uniqueName("race");
    const { ok, conflicts } = await outcomes(
      creators.flatMap((c) =>
        [0, 1, 2].map(() => f.as(c.principal).agents.registerBuild({ name, description: "" })),
      ),
    );
    expect(ok.length + conflicts.length).toBe(24);
    const rows = await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute();
    expect(rows).toHaveLength(1);
    expect(new Set(ok.map((a) => a.id))).toEqual(new Set([rows[0]!.id]));
    const grants = await f.db.db
      .selectFrom("grants")
      .selectAll()
      .where("agent_id", "=", rows[0]!.id)
      .execute();
    expect(grants).toHaveLength(1);
    expect(grants[0]!.role).toBe("owner");
    // Exactly the owner's calls succeeded (all three of them); everyone else was refused.
    expect(ok).toHaveLength(3);
    expect(conflicts).toHaveLength(21);
  });

  it("concurrent deletes of one agent: one succeeds, the rest are 404", async () => {
    const { principal } = await f.principal();
    const caller = f.as(principal);
    const agent = await caller.agents.register(registerInput(uniqueName("del")));
    const settled = await Promise.allSettled(
      Array.from({ length: 8 }, () => caller.agents.delete({ agent_id: agent.id })),
    );
    const ok = settled.filter((s) => s.status === "fulfilled");
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    expect(ok).toHaveLength(1);
    for (const s of failed) expect((s.reason as { code?: string }).code).toBe("NOT_FOUND");
    expect((await agentRow(f.db.db, agent.id)).status).toBe("Deleted");
  });

  it("24 concurrent registers (pods starting) of one new name create one agent and hand out one key", async () => {
    const { principal } = await f.principal();
    const caller = f.as(principal);
    const name = uniqueName("pods");
    const results = await Promise.all(
      Array.from({ length: 24 }, () => caller.agents.register(registerInput(name))),
    );
    expect(new Set(results.map((a) => a.id)).size).toBe(1);
    expect(new Set(results.map((a) => a.agent_api_key)).size).toBe(1);
    expect(await f.db.db.selectFrom("agents").select("id").where("name", "=", name).execute()).toHaveLength(
      1,
    );
    const keys = await keyRows(f.db.db, results[0]!.id);
    expect(keys.filter((k) => k.api_key_type === "internal" && k.revoked_at === null)).toHaveLength(1);
  });

  it("24 concurrent registers of an existing BuildOnly agent hand out one key", async () => {
    const { principal } = await f.principal();
    const caller = f.as(principal);
    const agent = await caller.agents.registerBuild({ name: uniqueName("pods"), description: "" });
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        caller.agents.register(
          registerInput(agent.name, { acp_url: `http://pod-${i}.svc:1`, agent_id: agent.id }),
        ),
      ),
    );
    expect(new Set(results.map((a) => a.agent_api_key)).size).toBe(1);
    expect(await keyRows(f.db.db, agent.id)).toHaveLength(1);
    expect((await agentRow(f.db.db, agent.id)).status).toBe("Ready");
  });

  it("32 concurrent promotes of 32 Ready deployments leave exactly one production deployment, named by the agent", async () => {
    const { principal } = await f.principal();
    const caller = f.as(principal);
    const agent = await caller.agents.registerBuild({ name: uniqueName("cut"), description: "" });
    const deployments = [];
    for (let i = 0; i < 32; i++)
      deployments.push(await readyDeployment(caller, agent, `http://d${i}.svc:8000`));

    // While the promotes run, a reader (one statement, one snapshot) must never see a torn cutover.
    let done = false;
    const snapshots: {
      pointer: string | null;
      acp_url: string | null;
      production: string[];
      urls: (string | null)[];
    }[] = [];
    const reader = (async () => {
      while (!done) {
        const { rows } = await sql<{
          pointer: string | null;
          acp_url: string | null;
          production: string[];
          urls: (string | null)[];
        }>`
          select a.production_deployment_id as pointer, a.acp_url,
                 coalesce(array_agg(d.id::text) filter (where d.is_production), '{}') as production,
                 coalesce(array_agg(d.acp_url) filter (where d.is_production), '{}') as urls
          from agents a left join deployments d on d.agent_id = a.id
          where a.id = ${agent.id} group by a.id`.execute(f.db.db);
        snapshots.push(rows[0]!);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const { ok, conflicts } = await outcomes(
      deployments.map((d) => caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id })),
    ).finally(() => {
      done = true;
    });
    await reader;
    expect(snapshots.length).toBeGreaterThan(0);
    for (const snap of snapshots) {
      if (snap.pointer === null) {
        expect(snap.production).toEqual([]);
      } else {
        expect(snap.production).toEqual([snap.pointer]);
        expect(snap.urls).toEqual([snap.acp_url]);
      }
    }
    expect(ok.length + conflicts.length).toBe(32);
    expect(ok.length).toBeGreaterThan(0);
    for (const d of ok) expect(d.is_production).toBe(true);

    const { agent: after, production } = await consistentProduction(agent.id);
    expect(production).toHaveLength(1);
    expect(ok.map((d) => d.id)).toContain(production[0]!.id);
    expect(after.status).toBe("Ready");
    expect(after.registered_at).not.toBeNull();
    const api = await caller.agents.get({ agent_id: agent.id });
    expect(api.production_deployment_id).toBe(production[0]!.id);
    expect(api.acp_url).toBe(production[0]!.acp_url);
  });

  it("promotes racing legacy registers and deployment deletes never break the one-production invariant", async () => {
    const { principal } = await f.principal();
    const caller = f.as(principal);
    const agent = await caller.agents.registerBuild({ name: uniqueName("mix"), description: "" });
    const deployments = [];
    for (let i = 0; i < 12; i++)
      deployments.push(await readyDeployment(caller, agent, `http://m${i}.svc:8000`));

    const work: Promise<unknown>[] = [];
    for (const [i, d] of deployments.entries()) {
      work.push(caller.deployments.promote({ agent_id: agent.id, deployment_id: d.id }));
      if (i % 3 === 0)
        work.push(caller.agents.register(registerInput(agent.name, { acp_url: `http://legacy-${i}.svc:1` })));
      if (i % 4 === 1) work.push(caller.deployments.delete({ agent_id: agent.id, deployment_id: d.id }));
    }
    const settled = await Promise.allSettled(work);
    for (const s of settled) {
      if (s.status === "rejected") {
        // Expected refusals only: promote of a just-deleted deployment (412), delete of production (409).
        expect(["CONFLICT", "PRECONDITION_FAILED"]).toContain((s.reason as { code?: string }).code);
      }
    }
    const { production } = await consistentProduction(agent.id);
    for (const d of production) expect(d.expires_at).toBeNull();
  });
});
