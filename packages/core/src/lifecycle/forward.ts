import { createHmac, timingSafeEqual } from "node:crypto";
import type { AgentRow, DB, Kysely } from "@agentex/db";
import { hashCredential, openSecret } from "../crypto.ts";
import { findLiveAgent } from "../queries/agents.ts";
import { isLiveExternalKey, liveSigningKeys } from "../queries/keys.ts";

/**
 * Who may push a request through `/agents/forward/name/{agent_name}/...` to an
 * agent's production URL (Agentex's webhook ingress). Exactly one of:
 * - an external key of that agent: `X-Agent-API-Key` or `Authorization: AgentKey <key>`;
 * - GitHub: `X-Hub-Signature-256`, HMAC-SHA256 of the raw body under the secret
 *   of the agent's `github` key named by `repository.full_name`;
 * - Slack: `X-Slack-Signature` v0 over `v0:<timestamp>:<body>` under the secret
 *   of the agent's `slack` key named by `api_app_id`, timestamp within 5 minutes.
 *   A signed `url_verification` challenge is answered directly.
 * An unknown agent is treated as an agent with no keys, so no answer tells
 * whether a name exists; only an authenticated caller learns that the agent
 * has no URL.
 */

export type ForwardDecision =
  | { kind: "forward"; agent: AgentRow & { acp_url: string } }
  | { kind: "challenge"; challenge: string }
  | {
      kind: "refuse";
      status: 400 | 401 | 403 | 404;
      code: string;
      message: string;
      outcome: "bad_request" | "unauthenticated" | "no_url";
    };

export interface ForwardRequest {
  agentName: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Seconds since the epoch (injectable for tests). */
  nowSeconds?: number;
}

const AGENT_NAME = /^[a-z0-9-]{1,63}$/;
const NO_AGENT = "00000000-0000-0000-0000-000000000000";
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

const bad = (message: string): ForwardDecision => ({
  kind: "refuse",
  status: 400,
  code: "BAD_REQUEST",
  message,
  outcome: "bad_request",
});
const unauthenticated = (message: string): ForwardDecision => ({
  kind: "refuse",
  status: 401,
  code: "UNAUTHORIZED",
  message,
  outcome: "unauthenticated",
});

function header(headers: ForwardRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

function hmacHex(secret: string, ...parts: Buffer[]): string {
  const mac = createHmac("sha256", Buffer.from(secret, "utf8"));
  for (const part of parts) mac.update(part);
  return mac.digest("hex");
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Slack posts JSON (Events API) or a form (slash commands, interactivity: `payload=<json>`). */
function slackPayload(body: Buffer, contentType: string | undefined): Record<string, unknown> | undefined {
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType ?? "")) {
    const form = new URLSearchParams(body.toString("utf8"));
    const inner = form.get("payload");
    if (inner !== null) {
      const parsed = parseJson(Buffer.from(inner, "utf8"));
      return isObject(parsed) ? parsed : undefined;
    }
    return Object.fromEntries(form.entries());
  }
  const parsed = parseJson(body);
  return isObject(parsed) ? parsed : undefined;
}

async function secretsOf(
  db: Kysely<DB>,
  secretKey: Buffer,
  agent: AgentRow | undefined,
  type: "github" | "slack",
  name?: string,
) {
  if (!agent) return [];
  const rows = await liveSigningKeys(db, agent.id, type, name);
  return rows.flatMap((r) => {
    const secret = r.sealed_secret ? openSecret(secretKey, r.sealed_secret, r.id) : null;
    return secret === null ? [] : [secret];
  });
}

export async function decideForward(
  db: Kysely<DB>,
  secretKey: Buffer,
  req: ForwardRequest,
): Promise<ForwardDecision> {
  const agent = AGENT_NAME.test(req.agentName) ? await findLiveAgent(db, { name: req.agentName }) : undefined;
  const now = req.nowSeconds ?? Math.floor(Date.now() / 1000);
  const contentType = header(req.headers, "content-type");

  const authorization = header(req.headers, "authorization");
  const agentKey =
    header(req.headers, "x-agent-api-key") || /^AgentKey\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  const githubSignature = header(req.headers, "x-hub-signature-256");
  const slackSignature = header(req.headers, "x-slack-signature");
  const slackTimestamp = header(req.headers, "x-slack-request-timestamp");

  let verdict: ForwardDecision | null = null;
  if (agentKey) {
    // An unknown agent costs the same lookup as a known one: timing tells nothing either.
    const ok =
      agentKey.length <= 256 &&
      (await isLiveExternalKey(db, agent?.id ?? NO_AGENT, hashCredential(agentKey))) &&
      agent !== undefined;
    if (!ok) return unauthenticated(`Invalid API key for agent '${req.agentName}'.`);
  } else if (githubSignature) {
    if (req.body.length === 0) return bad("Empty payload in GitHub webhook.");
    const payload = parseJson(req.body);
    if (payload === undefined) return bad("Failed to parse GitHub webhook payload as JSON.");
    const repository = isObject(payload) ? payload["repository"] : undefined;
    if (!isObject(repository)) return bad("GitHub webhook payload missing repository info.");
    const fullName = repository["full_name"];
    if (typeof fullName !== "string" || !fullName)
      return bad("GitHub webhook payload missing repository name.");
    const secrets = await secretsOf(db, secretKey, agent, "github", fullName);
    const valid = secrets.some((secret) => sameText(`sha256=${hmacHex(secret, req.body)}`, githubSignature));
    if (!valid) return unauthenticated("Invalid GitHub webhook signature");
  } else if (slackSignature) {
    if (!slackTimestamp) return unauthenticated("Missing X-Slack-Request-Timestamp header.");
    if (!/^\d{1,12}$/.test(slackTimestamp)) return bad("Invalid X-Slack-Request-Timestamp header value.");
    if (Math.abs(now - Number(slackTimestamp)) > SLACK_MAX_SKEW_SECONDS)
      return bad("Slack webhook request has bad timestamp.");
    const payload = slackPayload(req.body, contentType);
    if (!payload) return bad("Invalid Slack verification request.");
    const base = Buffer.from(`v0:${slackTimestamp}:`, "utf8");
    const verifies = (secret: string) => sameText(`v0=${hmacHex(secret, base, req.body)}`, slackSignature);
    // Slack's url_verification carries no api_app_id: any of the agent's Slack secrets may sign it.
    if (payload["type"] === "url_verification" && typeof payload["challenge"] === "string") {
      const secrets = await secretsOf(db, secretKey, agent, "slack");
      if (!secrets.some(verifies)) return unauthenticated("Invalid Slack webhook signature");
      return { kind: "challenge", challenge: payload["challenge"] };
    }
    const appId = payload["api_app_id"];
    if (typeof appId !== "string" || !appId) return bad("Slack webhook payload missing API app ID.");
    const secrets = await secretsOf(db, secretKey, agent, "slack", appId);
    if (!secrets.some(verifies)) return unauthenticated("Invalid Slack webhook signature");
  } else {
    verdict = {
      kind: "refuse",
      status: 403,
      code: "FORBIDDEN",
      message: "Missing authentication for forward request.",
      outcome: "unauthenticated",
    };
  }
  if (verdict) return verdict;
  if (!agent?.acp_url) {
    return {
      kind: "refuse",
      status: 404,
      code: "NOT_FOUND",
      message: `Agent ${req.agentName} not found or has no ACP URL.`,
      outcome: "no_url",
    };
  }
  return { kind: "forward", agent: agent as AgentRow & { acp_url: string } };
}
