/** The lifecycle invariants a fault must never break, checked straight in the tables. */
import type { DB } from "@agentex/db";
import { sql, type Kysely } from "kysely";
import { expect } from "vitest";

/**
 * The lifecycle invariants, straight from the tables. Returns how many
 * individual checks (rows and names examined) were made.
 */
export async function checkInvariants(db: Kysely<DB>): Promise<number> {
  let checks = 0;
  // One live agent per name.
  const names = await sql<{ name: string; live: number }>`
    select name, count(*) filter (where status <> 'Deleted')::int as live from agents group by name`.execute(
    db,
  );
  for (const r of names.rows) expect(r.live, `live agents named ${r.name}`).toBeLessThanOrEqual(1);
  checks += names.rows.length;

  // At most one production deployment per agent.
  const perAgent = await sql<{ id: string; prod: number }>`
    select a.id, count(d.id) filter (where d.is_production)::int as prod
    from agents a left join deployments d on d.agent_id = a.id group by a.id`.execute(db);
  for (const r of perAgent.rows) expect(r.prod, `production deployments of ${r.id}`).toBeLessThanOrEqual(1);
  checks += perAgent.rows.length;

  // The agent's pointer and URL agree with its production row, both ways.
  const live = await sql<{
    id: string;
    name: string;
    acp_url: string | null;
    production_deployment_id: string | null;
    d_id: string | null;
    d_agent: string | null;
    d_prod: boolean | null;
    d_url: string | null;
    d_status: string | null;
    d_expired: boolean | null;
  }>`
    select a.id, a.name, a.acp_url, a.production_deployment_id,
           d.id as d_id, d.agent_id as d_agent, d.is_production as d_prod, d.acp_url as d_url,
           d.status::text as d_status, (d.expires_at is not null) as d_expired
    from agents a left join deployments d on d.id = a.production_deployment_id
    where a.status <> 'Deleted'`.execute(db);
  for (const r of live.rows) {
    if (r.production_deployment_id) {
      expect(r.d_id, `${r.name}: production row exists`).toBe(r.production_deployment_id);
      expect(r.d_agent, `${r.name}: production row belongs to it`).toBe(r.id);
      expect(r.d_prod, `${r.name}: production row is_production`).toBe(true);
      expect(r.d_status, `${r.name}: production row Ready`).toBe("Ready");
      expect(r.d_expired, `${r.name}: production row not deleted`).toBe(false);
      expect(r.acp_url, `${r.name}: acp_url agrees with production row`).toBe(r.d_url);
    }
    checks++;
  }
  const orphans = await sql<{ id: string; agent_id: string }>`
    select d.id, d.agent_id from deployments d join agents a on a.id = d.agent_id
    where d.is_production and a.status <> 'Deleted' and a.production_deployment_id is distinct from d.id`.execute(
    db,
  );
  expect(orphans.rows, "is_production rows the agent does not point at").toEqual([]);
  const production = await sql<{
    n: number;
  }>`select count(*)::int as n from deployments where is_production`.execute(db);
  checks += production.rows[0]!.n;

  // Creation is atomic: every live agent has an owner.
  const ownerless = await sql<{ id: string }>`
    select a.id from agents a where a.status <> 'Deleted'
      and not exists (select 1 from grants g where g.agent_id = a.id and g.role = 'owner')`.execute(db);
  expect(ownerless.rows, "live agents without an owner").toEqual([]);
  checks += live.rows.length;
  return checks;
}
