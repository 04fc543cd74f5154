/**
 * The bad-input corpus, over real HTTP. Every case must be refused with a 4xx
 * carrying the SPEC error body, with no internals in the text (no stack, no
 * SQL, no file paths), answered before a generous deadline (a hang fails the
 * case; nothing here asserts speed), and leave every table unchanged.
 * The cases are data, listed by kind in bad-input/*.cases.ts.
 */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SQL_FRAGMENTS, buildCorpus, type Case, type Fixture } from "./bad-input/corpus.ts";
import { INTERNALS, rawRequest, scrub } from "./bad-input/wire.ts";
import { useServer } from "./helpers.ts";

/** A case that has not answered by then is hanging. */
const DEADLINE_MS = 8_000;

interface Issue {
  field: string;
  message: string;
}
/** The SPEC error body of a REST refusal. */
interface RestError {
  code: string;
  message: string;
  request_id: string;
  status_code: number;
  issues?: Issue[];
}
/** tRPC's error envelope (plain JSON), shaped by the same errorFormatter. */
interface TrpcError {
  error: { message: string; data: { httpStatus: number; code: unknown; issues?: Issue[] } };
}

/** Stand-in ids: case names do not depend on the fixture, so the table of tests is known before it exists. */
const PLACEHOLDER: Fixture = {
  agentId: "A",
  agentName: "a",
  deploymentId: "D",
  prodDeploymentId: "P",
  principalId: "U",
};

/** The case names, numbered where they repeat. */
function testNames(): string[] {
  const seen = new Map<string, number>();
  return buildCorpus(PLACEHOLDER).map(({ name }) => {
    const k = (seen.get(name) ?? 0) + 1;
    seen.set(name, k);
    return k > 1 ? `${name} #${k}` : name;
  });
}

describe(`bad-input corpus over HTTP (${TEST_STORE})`, () => {
  const s = useServer();
  const fx: Fixture = { agentId: "", agentName: "", deploymentId: "", prodDeploymentId: "", principalId: "" };
  let tables: string[] = [];
  let counted = 0;
  const statuses = new Map<number, number>();

  /** Row count and a content hash of every table: any insert, update or delete shows. */
  async function snapshot(): Promise<Record<string, string>> {
    const parts = tables.map(
      (t) =>
        sql`select ${t}::text as t, count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as v from ${sql.table(t)} x`,
    );
    const { rows } = await sql<{ t: string; v: string }>`${sql.join(parts, sql` union all `)}`.execute(
      s.db.db,
    );
    return Object.fromEntries(rows.map((r) => [r.t, r.v]));
  }

  beforeAll(async () => {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(
      s.db.db,
    );
    tables = rows.map((r) => r.table_name);
    expect(tables).toEqual(
      expect.arrayContaining([
        "agents",
        "deployments",
        "principals",
        "api_tokens",
        "grants",
        "agent_api_keys",
      ]),
    );

    // Fixture: an agent with a production deployment and a Ready one, and a second principal.
    const agent = await s.api("POST", "/api/agents/register-build", {
      body: { name: "corpus-fixture", description: "fixture" },
    });
    fx.agentId = agent.body.id;
    fx.agentName = agent.body.name;
    for (const key of ["prodDeploymentId", "deploymentId"] as const) {
      const dep = await s.api("POST", `/api/agents/${fx.agentId}/deployments`, {
        body: { docker_image: `img:${key}` },
      });
      fx[key] = dep.body.id;
      const reg = await s.api("POST", "/api/agents/register", {
        body: {
          name: fx.agentName,
          description: "fixture",
          acp_url: `http://${key.toLowerCase()}.svc`,
          acp_type: "async",
          agent_id: fx.agentId,
          registration_metadata: { deployment_id: dep.body.id },
        },
      });
      expect(reg.status).toBe(200);
    }
    expect(
      (await s.api("POST", `/api/agents/${fx.agentId}/deployments/${fx.prodDeploymentId}/promote`)).status,
    ).toBe(200);
    fx.principalId = (await s.principal()).id;
  });

  afterAll(() => {
    const summary = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([k, v]) => `${k}×${v}`)
      .join(" ");
    console.log(`[bad-input] ${TEST_STORE}: ${counted} cases refused cleanly (${summary})`);
  });

  const names = testNames();
  // Built from the real fixture ids on first use.
  let corpus: Case[] | null = null;

  it("has a corpus of a few hundred cases", () => {
    expect(names.length).toBeGreaterThan(300);
  });

  names.forEach((name, index) => {
    it(name, async () => {
      corpus ??= buildCorpus(fx);
      const c = corpus[index]!;
      const headers: Record<string, string> = { ...c.headers };
      if (!c.anonymous) headers.authorization ??= `Bearer ${s.adminToken}`;
      let body: string | Buffer | undefined;
      if (c.body !== undefined) {
        body = c.raw ? (c.body as string | Buffer) : JSON.stringify(c.body);
        headers["content-type"] ??= "application/json";
      }
      const before = await snapshot();
      const res = await rawRequest(s.url, c.method, c.path, headers, body, AbortSignal.timeout(DEADLINE_MS));
      const text = res.text;
      const allowed = Array.isArray(c.status) ? c.status : [c.status];
      expect(allowed, `${c.name}: ${res.status} ${text.slice(0, 300)}`).toContain(res.status);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);

      expect(res.headers.get("content-type") ?? "").toMatch(/application\/json/);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      let message: string;
      let issues: Issue[] | undefined;
      if (c.trpc && "error" in parsed) {
        // Errors raised before tRPC runs (body too large) carry the SPEC body instead.
        expect(Object.keys(parsed)).toEqual(["error"]);
        const err = (parsed as unknown as TrpcError).error;
        expect(err.data.httpStatus).toBe(res.status);
        expect(typeof err.data.code).toBe("string");
        expect(err.data).not.toHaveProperty("stack");
        message = err.message;
        issues = err.data.issues;
      } else {
        const keys = Object.keys(parsed).sort();
        expect(keys).toEqual(
          "issues" in parsed
            ? ["code", "issues", "message", "request_id", "status_code"]
            : ["code", "message", "request_id", "status_code"],
        );
        const rest = parsed as unknown as RestError;
        expect(rest.status_code).toBe(res.status);
        expect(typeof rest.code).toBe("string");
        expect(rest.code).toMatch(/^[A-Z_]+$/);
        expect(rest.request_id).toBe(res.headers.get("x-request-id"));
        message = rest.message;
        issues = rest.issues;
      }
      expect(typeof message).toBe("string");
      expect(message.length).toBeGreaterThan(0);
      if (res.status === 422) {
        expect(Array.isArray(issues), "a 422 lists its issues").toBe(true);
        for (const issue of issues!) {
          expect(typeof issue.field).toBe("string");
          expect(typeof issue.message).toBe("string");
        }
      }
      if (c.fields) {
        const named = (issues ?? []).map((i) => i.field);
        for (const f of c.fields)
          expect(
            named.some((n) => n === f || n.startsWith(`${f}.`)),
            `${c.name}: issues ${JSON.stringify(issues)}`,
          ).toBe(true);
      }
      const clean = scrub(text, c);
      for (const [what, re] of INTERNALS)
        expect(clean, `${c.name}: ${what} leaked in ${text.slice(0, 500)}`).not.toMatch(re);
      expect(text.length, "an error body stays small").toBeLessThan(20_000);

      expect(await snapshot(), `${c.name}: the database changed`).toEqual(before);
      counted++;
    });
  });

  it("is still healthy after the corpus, and the fixture is intact", async () => {
    expect((await s.api("GET", "/readyz", { token: null })).status).toBe(200);
    const agent = await s.api("GET", `/api/agents/${fx.agentId}`);
    expect(agent.status).toBe(200);
    expect(agent.body.production_deployment_id).toBe(fx.prodDeploymentId);
    const deps = await s.api("GET", `/api/agents/${fx.agentId}/deployments`);
    expect(deps.body.map((d: { id: string }) => d.id).sort()).toEqual(
      [fx.deploymentId, fx.prodDeploymentId].sort(),
    );
  });

  it("stores SQL fragments in free-text fields as plain data", async () => {
    for (const frag of SQL_FRAGMENTS) {
      const name = `sql-text-${randomUUID().slice(0, 8)}`;
      const res = await s.api("POST", "/api/agents/register-build", {
        body: { name, description: frag, registration_metadata: { [frag]: frag } },
      });
      expect(res.status).toBe(200);
      expect(res.body.description).toBe(frag);
      expect(res.body.registration_metadata).toEqual({ [frag]: frag });
      const dep = await s.api("POST", `/api/agents/${res.body.id}/deployments`, {
        body: { docker_image: frag, sgp_deploy_id: frag, helm_release_name: frag },
      });
      expect(dep.status).toBe(200);
      expect(dep.body).toMatchObject({ docker_image: frag, sgp_deploy_id: frag, helm_release_name: frag });
      const back = await s.api("GET", `/api/agents/${res.body.id}/deployments/${dep.body.id}`);
      expect(back.body.docker_image).toBe(frag);
    }
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from agents`.execute(s.db.db);
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1 + SQL_FRAGMENTS.length);
  });
});
