/**
 * The shape of a bad-input case and the values the case modules share. A case
 * is one request that must be refused; the runner (bad-input.test.ts) checks
 * the refusal. Cases are built after the fixture exists, from its ids.
 */
import { randomUUID } from "node:crypto";

export interface Case {
  name: string;
  method: string;
  path: string;
  /** Raw body text (sent as is) or a value to JSON-encode. */
  body?: unknown;
  raw?: boolean;
  headers?: Record<string, string>;
  /** Send no Authorization header. */
  anonymous?: boolean;
  /** Acceptable statuses (all 4xx). */
  status: number | number[];
  /** Fields that issues[].field must name (422 cases). */
  fields?: string[];
  /** A /trpc call: the body is tRPC's error envelope, not the REST body. */
  trpc?: boolean;
}

/** Ids of the fixture the runner creates: an agent with a production and a Ready deployment, and a second principal. */
export interface Fixture {
  agentId: string;
  agentName: string;
  deploymentId: string;
  prodDeploymentId: string;
  principalId: string;
}

/** Builds one module's cases in order. */
export function collect(build: (add: (c: Case) => void) => void): Case[] {
  const cases: Case[] = [];
  build((c) => cases.push(c));
  return cases;
}

export const BODY_LIMIT = 1024 * 1024;

export const SQL_FRAGMENTS = [
  "'; drop table agents; --",
  "1 OR 1=1",
  "' OR '1'='1",
  "1; select pg_sleep(30)--",
  '") or ("a"="a',
];
export const NUL = "\u0000";
export const LONE_HIGH = "\ud800";
export const LONE_LOW = "\udfff";

export const enc = encodeURIComponent;
export const validRegisterBuild = () => ({
  name: `corpus-${randomUUID().slice(0, 8)}`,
  description: "corpus",
});
export const validRegister = () => ({
  name: `corpus-${randomUUID().slice(0, 8)}`,
  description: "corpus",
  acp_url: "http://corpus.svc:8000",
  acp_type: "async",
});
/** A deployment-scoped register of the fixture agent, `fields` (usually the bad ones) on top. */
export const fixtureRegister = (fx: Fixture, fields: Record<string, unknown>) => ({
  ...validRegister(),
  name: fx.agentName,
  agent_id: fx.agentId,
  ...fields,
});
/** A register-build body whose description is `n` characters long. */
export const bigBody = (n: number) => JSON.stringify({ name: "big-agent", description: "x".repeat(n) });
