import { TEST_STORE } from "@agentex/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import {
  githubSignature,
  ok,
  raw,
  registeredAgent,
  slackSignature,
  startUpstream,
  uniqueName,
  type Upstream,
} from "./fixtures.ts";

/**
 * Agentex's forwarding scenarios (test_agent_api_keys_api.py: forwarding_*),
 * against a real HTTP server standing in for the agent instead of a mocked
 * client, plus what a proxy must refuse (other URLs, hop-by-hop headers,
 * credentials) and its failures (404, 502, 504) with their metrics.
 * Deliberate differences (README): error bodies are the SPEC's, not
 * `{"detail"}`; an unknown agent answers like an agent without that key (no
 * name oracle); a Slack challenge must be signed.
 */
describe(`Agentex parity: forward to the production deployment (${TEST_STORE})`, () => {
  const s = useServer({ forwardTimeoutMs: 1_500, forwardMaxResponseBytes: 64 * 1024 });
  let upstream: Upstream;
  const agent = { id: "", name: "" };
  const keys = {
    external: "test-api-key-value",
    github: "github-secret-value-123",
    slack: "slack-secret-value-1234",
  };
  const fwd = (rest: string) => `/api/agents/forward/name/${agent.name}/${rest}`;

  beforeAll(async () => {
    upstream = await startUpstream("A", (req, res, body) => {
      const url = (req.url ?? "").replace(/^\/base/, "");
      if (url.startsWith("/slow")) return void setTimeout(() => res.end("late"), 4_000);
      if (url.startsWith("/big")) return void res.end("x".repeat(128 * 1024));
      if (url.startsWith("/status/")) {
        res.writeHead(Number(url.slice(8)), { "content-type": "application/json" });
        return void res.end(JSON.stringify({ message: "from the agent" }));
      }
      res.writeHead(200, { "content-type": "application/json", connection: "close", "x-upstream": "A" });
      res.end(
        JSON.stringify({ message: "Forwarded request successfully", method: req.method, url: req.url, body }),
      );
    });
    agent.name = uniqueName("test-agent");
    agent.id = (await registeredAgent(s, agent.name, `${upstream.url}/base`)).id;
    await ok(s, "POST", "/api/agent_api_keys", {
      body: { agent_id: agent.id, name: "test-api-key", api_key: keys.external },
    });
    await ok(s, "POST", "/api/agent_api_keys", {
      body: {
        agent_id: agent.id,
        name: "test-github-repository",
        api_key_type: "github",
        api_key: keys.github,
      },
    });
    await ok(s, "POST", "/api/agent_api_keys", {
      body: { agent_id: agent.id, name: "test-api-app-id", api_key_type: "slack", api_key: keys.slack },
    });
  });
  afterAll(() => upstream?.close());

  it("GET with X-Agent-API-Key reaches acp_url + path, query string kept", async () => {
    const res = await raw(s, "GET", fwd("some/path?query=value&x=%2F"), {
      headers: { "x-agent-api-key": keys.external },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      message: "Forwarded request successfully",
      method: "GET",
      url: "/base/some/path?query=value&x=%2F",
    });
  });

  it("POST with Authorization: AgentKey forwards the exact body; credentials and hop-by-hop headers are stripped", async () => {
    const body = '{"key": "value"}';
    const res = await raw(s, "POST", fwd("some/path"), {
      headers: {
        authorization: `AgentKey ${keys.external}`,
        "content-type": "application/json",
        cookie: "session=secret",
        "x-custom": "kept",
        "proxy-authorization": "Basic abc",
        connection: "x-drop-me",
        "x-drop-me": "1",
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ method: "POST", url: "/base/some/path", body });
    const got = upstream.received.at(-1)!;
    expect(got.headers["x-custom"]).toBe("kept");
    expect(got.headers["x-request-id"]).toBe(res.headers.get("x-request-id"));
    for (const h of ["authorization", "x-agent-api-key", "cookie", "proxy-authorization", "x-drop-me"])
      expect(got.headers[h], h).toBeUndefined();
    expect(res.headers.get("x-upstream")).toBe("A");
  });

  it("the agent's own status and error body pass through unchanged", async () => {
    const res = await raw(s, "GET", fwd("status/418"), { headers: { "x-agent-api-key": keys.external } });
    expect(res.status).toBe(418);
    expect(res.json).toEqual({ message: "from the agent" });
  });

  it("GitHub: payload checks, unknown repository, bad and good signatures (Agentex order and messages)", async () => {
    const cases: Array<{ body: string; sig?: string; status: number; message?: string }> = [
      { body: "", status: 400, message: "Empty payload in GitHub webhook." },
      { body: "invalid-json", status: 400, message: "Failed to parse GitHub webhook payload as JSON." },
      { body: '{"key": "value"}', status: 400, message: "GitHub webhook payload missing repository info." },
      {
        body: '{"repository": {"owner": "name"}}',
        status: 400,
        message: "GitHub webhook payload missing repository name.",
      },
      // Agentex: 404 "No API key found for GitHub repository ..."; here the same 401 as a bad signature (no key oracle).
      {
        body: '{"repository": {"full_name": "wrong-repository-name"}}',
        status: 401,
        message: "Invalid GitHub webhook signature",
      },
      {
        body: '{"repository": {"full_name": "test-github-repository"}}',
        status: 401,
        message: "Invalid GitHub webhook signature",
      },
    ];
    for (const c of cases) {
      const res = await raw(s, "POST", fwd("some/path"), {
        headers: { "x-hub-signature-256": c.sig ?? "test-github-signature" },
        body: c.body,
      });
      expect(res.status, c.body).toBe(c.status);
      expect(res.json).toMatchObject({ status_code: c.status, message: c.message });
      expect(typeof res.json.request_id).toBe("string");
    }
    const body = '{"repository": {"full_name": "test-github-repository"}}';
    const good = await raw(s, "POST", fwd("some/path"), {
      headers: {
        "x-hub-signature-256": githubSignature(keys.github, body),
        "content-type": "application/json",
      },
      body,
    });
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({ message: "Forwarded request successfully", body });
    // The signature covers the raw bytes: one more space and it fails.
    const tampered = await raw(s, "POST", fwd("some/path"), {
      headers: { "x-hub-signature-256": githubSignature(keys.github, body) },
      body: `${body} `,
    });
    expect(tampered.status).toBe(401);
  });

  it("Slack: timestamp checks, app id, bad and good v0 signatures, and the url_verification challenge", async () => {
    const now = Math.floor(Date.now() / 1000);
    const appBody = '{"api_app_id": "test-api-app-id"}';
    const cases: Array<{ headers: Record<string, string>; body: string; status: number; message: string }> = [
      {
        headers: { "x-slack-signature": "v0=bad", "x-slack-request-timestamp": String(now) },
        body: "invalid-json",
        status: 400,
        message: "Invalid Slack verification request.",
      },
      {
        headers: { "x-slack-signature": "v0=bad" },
        body: appBody,
        status: 401,
        message: "Missing X-Slack-Request-Timestamp header.",
      },
      {
        headers: {
          "x-slack-signature": "v0=bad",
          "x-slack-request-timestamp": "test-slack-request-timestamp",
        },
        body: appBody,
        status: 400,
        message: "Invalid X-Slack-Request-Timestamp header value.",
      },
      {
        headers: { "x-slack-signature": "v0=bad", "x-slack-request-timestamp": String(now - 600) },
        body: appBody,
        status: 400,
        message: "Slack webhook request has bad timestamp.",
      },
      {
        headers: { "x-slack-signature": "v0=bad", "x-slack-request-timestamp": String(now) },
        body: '{"key": "value"}',
        status: 400,
        message: "Slack webhook payload missing API app ID.",
      },
      {
        headers: { "x-slack-signature": "v0=bad", "x-slack-request-timestamp": String(now) },
        body: '{"api_app_id": "wrong-api-app-id"}',
        status: 401,
        message: "Invalid Slack webhook signature",
      },
      {
        headers: { "x-slack-signature": "v0=bad", "x-slack-request-timestamp": String(now) },
        body: appBody,
        status: 401,
        message: "Invalid Slack webhook signature",
      },
      // A replayed signature with a stale timestamp.
      {
        headers: {
          "x-slack-signature": slackSignature(keys.slack, now - 301, appBody),
          "x-slack-request-timestamp": String(now - 301),
        },
        body: appBody,
        status: 400,
        message: "Slack webhook request has bad timestamp.",
      },
    ];
    for (const c of cases) {
      const res = await raw(s, "POST", fwd("slack/events"), { headers: c.headers, body: c.body });
      expect(res.status, JSON.stringify(c)).toBe(c.status);
      expect(res.json.message).toBe(c.message);
    }
    const good = await raw(s, "POST", fwd("slack/events"), {
      headers: {
        "x-slack-signature": slackSignature(keys.slack, now, appBody),
        "x-slack-request-timestamp": String(now),
        "content-type": "application/json",
      },
      body: appBody,
    });
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({ url: "/base/slack/events", body: appBody });

    const form = `payload=${encodeURIComponent('{"api_app_id":"test-api-app-id","type":"block_actions"}')}`;
    const formRes = await raw(s, "POST", fwd("slack/interactivity"), {
      headers: {
        "x-slack-signature": slackSignature(keys.slack, now, form),
        "x-slack-request-timestamp": String(now),
        "content-type": "application/x-www-form-urlencoded",
      },
      body: form,
    });
    expect(formRes.status).toBe(200);

    const challenge = '{"token":"t","challenge":"test-challenge","type":"url_verification"}';
    const unsigned = await raw(s, "POST", fwd("slack/events"), {
      headers: { "x-slack-signature": "test-slack-signature", "x-slack-request-timestamp": String(now) },
      body: challenge,
    });
    expect(unsigned.status).toBe(401);
    const before = upstream.received.length;
    const answered = await raw(s, "POST", fwd("slack/events"), {
      headers: {
        "x-slack-signature": slackSignature(keys.slack, now, challenge),
        "x-slack-request-timestamp": String(now),
      },
      body: challenge,
    });
    expect(answered).toMatchObject({ status: 200, text: "test-challenge" });
    expect(upstream.received.length).toBe(before);
  });

  it("no credential is 403; a wrong key 401; a key of another agent 401; an unknown agent answers the same", async () => {
    const other = await registeredAgent(s, uniqueName("other"), upstream.url);
    const otherKey = await ok(s, "POST", "/api/agent_api_keys", { body: { agent_id: other.id, name: "k" } });
    const bearer = await raw(s, "GET", fwd("p"), { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(bearer.status).toBe(403);
    expect(bearer.json.message).toBe("Missing authentication for forward request.");
    expect((await raw(s, "GET", fwd("p"))).status).toBe(403);
    expect(
      (await raw(s, "GET", fwd("p"), { headers: { "x-agent-api-key": "invalid-api-key" } })).status,
    ).toBe(401);
    expect((await raw(s, "GET", fwd("p"), { headers: { "x-agent-api-key": otherKey.api_key } })).status).toBe(
      401,
    );
    const ghost = await raw(s, "GET", "/api/agents/forward/name/wrong-agent-name/some/path", {
      headers: { "x-agent-api-key": keys.external },
    });
    const real = await raw(s, "GET", fwd("some/path"), { headers: { "x-agent-api-key": "invalid-api-key" } });
    expect(ghost.status).toBe(401);
    expect(ghost.json.message.replace("wrong-agent-name", "X")).toBe(
      real.json.message.replace(agent.name, "X"),
    );
  });

  it('an authenticated caller of an agent without a URL gets 404 "not found or has no ACP URL"', async () => {
    const name = uniqueName("built-only");
    const built = await ok(s, "POST", "/api/agents/register-build", { body: { name, description: "x" } });
    await ok(s, "POST", "/api/agent_api_keys", {
      body: { agent_id: built.id, name: "k", api_key: "built-only-key-value" },
    });
    const res = await raw(s, "GET", `/api/agents/forward/name/${name}/x`, {
      headers: { "x-agent-api-key": "built-only-key-value" },
    });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({
      status_code: 404,
      code: "NOT_FOUND",
      message: `Agent ${name} not found or has no ACP URL.`,
    });
  });

  it("never any URL but the registered one: dot segments, encoded slashes, absolute URLs, Host headers", async () => {
    const before = upstream.received.length;
    for (const rest of [
      "..%2F..%2Fadmin",
      "%2e%2e/x",
      "a/%2e%2e/%2e%2e/x",
      "a%2Fb",
      "a%5Cb",
      "..",
      "a/./b",
    ]) {
      const res = await raw(s, "GET", fwd(rest), { headers: { "x-agent-api-key": keys.external } });
      expect(res.status, rest).toBe(400);
      expect(res.json.status_code).toBe(400);
    }
    expect(upstream.received.length).toBe(before);
    for (const rest of ["http://evil.example/x", "//evil.example/x", "@evil.example/x"]) {
      const res = await raw(s, "GET", fwd(rest), {
        headers: { "x-agent-api-key": keys.external, host: "evil.example" },
      });
      expect(res.status, rest).toBe(200);
      expect(upstream.received.at(-1)!.url.startsWith("/base/"), rest).toBe(true);
      expect(upstream.received.at(-1)!.headers.host).toBe(new URL(upstream.url).host);
    }
  });

  it("502 unreachable, 504 slow, a too-large response cut off; each counted by outcome", async () => {
    const gone = await startUpstream("gone");
    const name = uniqueName("gone");
    const g = await registeredAgent(s, name, gone.url);
    await ok(s, "POST", "/api/agent_api_keys", {
      body: { agent_id: g.id, name: "k", api_key: "gone-agent-key-value" },
    });
    await gone.close();
    const unreachable = await raw(s, "GET", `/api/agents/forward/name/${name}/x`, {
      headers: { "x-agent-api-key": "gone-agent-key-value" },
    });
    expect(unreachable.status).toBe(502);
    expect(unreachable.json).toMatchObject({ status_code: 502, code: "BAD_GATEWAY" });
    expect(unreachable.text).not.toContain(gone.url);

    const slow = await raw(s, "GET", fwd("slow"), { headers: { "x-agent-api-key": keys.external } });
    expect(slow.status).toBe(504);
    expect(slow.json).toMatchObject({ status_code: 504, code: "GATEWAY_TIMEOUT" });

    const big = await fetch(`${s.url}${fwd("big")}`, { headers: { "x-agent-api-key": keys.external } })
      .then((r) => r.text())
      .then(
        (t) => t.length,
        () => -1,
      );
    expect(big).toBeLessThan(128 * 1024);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const count = (outcome: string) =>
      Number(
        new RegExp(`agentex_forward_requests_total\\{outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1],
      );
    for (const outcome of [
      "forwarded",
      "challenge",
      "bad_request",
      "unauthenticated",
      "no_url",
      "unreachable",
      "timeout",
    ]) {
      expect(count(outcome), outcome).toBeGreaterThan(0);
    }
    expect(metrics).toMatch(
      /agentex_http_requests_total\{transport="rest",procedure="agents.forward",method="GET",status="504"\} \d+/,
    );
  });
});
