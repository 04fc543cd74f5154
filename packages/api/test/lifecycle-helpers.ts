import { randomUUID } from "node:crypto";
import type { DB, Kysely } from "@agentex/db";
import { sql } from "kysely";
import { uniqueName, type Fixture } from "./helpers.ts";

type Caller = ReturnType<Fixture["as"]>;

/** A deploy-time registration input for `name` (legacy unless metadata names a deployment). */
export function registerInput(
  name: string,
  overrides: Partial<Parameters<Caller["agents"]["register"]>[0]> = {},
) {
  return {
    name,
    description: `${name} description`,
    acp_url: `http://${name}.svc:8000`,
    acp_type: "async" as const,
    ...overrides,
  };
}

/** A fresh principal (with create permission), its caller, and an agent name nobody has used. */
export async function freshCaller(f: Fixture) {
  const { principal } = await f.principal();
  return { principal, caller: f.as(principal), name: uniqueName() };
}

/** A fresh principal (with create permission) and a BuildOnly agent it owns. */
export async function builtAgent(f: Fixture) {
  const { principal, caller, name } = await freshCaller(f);
  const agent = await caller.agents.registerBuild({ name, description: "" });
  return { caller, agent, principal };
}

/**
 * A Ready deployment of the agent: created Pending through the API, then
 * marked Ready by a deployment-scoped register, as a pod would at start.
 */
export async function readyDeployment(caller: Caller, agent: { id: string; name: string }, acpUrl?: string) {
  const created = await caller.deployments.create({
    agent_id: agent.id,
    docker_image: `img/${agent.name}:${randomUUID().slice(0, 8)}`,
  });
  const url = acpUrl ?? `http://${agent.name}-${created.id.slice(0, 8)}.svc:8000`;
  await caller.agents.register(
    registerInput(agent.name, {
      agent_id: agent.id,
      acp_url: url,
      registration_metadata: { deployment_id: created.id },
    }),
  );
  return caller.deployments.get({ agent_id: agent.id, deployment_id: created.id });
}

/**
 * The row's xmin: it changes on every write to the row, even one that sets
 * identical values, so "writes nothing" can be checked without timing.
 */
export async function rowVersion(
  db: Kysely<DB>,
  table: "agents" | "deployments",
  id: string,
): Promise<string> {
  const { rows } = await sql<{
    v: string;
  }>`select xmin::text as v from ${sql.table(table)} where id = ${id}`.execute(db);
  if (!rows[0]) throw new Error(`no ${table} row ${id}`);
  return rows[0].v;
}

/** Timestamps as Postgres text (microsecond precision, unlike a JS Date). */
export async function agentTimes(db: Kysely<DB>, id: string) {
  const { rows } = await sql<{ updated_at: string; registered_at: string | null; created_at: string }>`
    select updated_at::text, registered_at::text, created_at::text from agents where id = ${id}`.execute(db);
  if (!rows[0]) throw new Error(`no agent row ${id}`);
  return rows[0];
}

export async function agentRow(db: Kysely<DB>, id: string) {
  return db.selectFrom("agents").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function deploymentRow(db: Kysely<DB>, id: string) {
  return db.selectFrom("deployments").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function productionRows(db: Kysely<DB>, agentId: string) {
  return db
    .selectFrom("deployments")
    .selectAll()
    .where("agent_id", "=", agentId)
    .where("is_production", "=", true)
    .execute();
}

export async function keyRows(db: Kysely<DB>, agentId: string) {
  return db.selectFrom("agent_api_keys").selectAll().where("agent_id", "=", agentId).execute();
}

export async function grantRows(db: Kysely<DB>, agentId: string) {
  return db
    .selectFrom("grants")
    .selectAll()
    .where("agent_id", "=", agentId)
    .orderBy("principal_id")
    .execute();
}
