/** String fields that hold what no field may: NUL bytes, lone surrogates, malformed agent names, URLs that are not URLs. */
import { randomUUID } from "node:crypto";
import {
  LONE_HIGH,
  LONE_LOW,
  NUL,
  collect,
  enc,
  fixtureRegister,
  validRegister,
  validRegisterBuild,
  type Case,
  type Fixture,
} from "./case.ts";

export function stringCases(fx: Fixture): Case[] {
  return collect((add) => {
    // --- NUL bytes and lone surrogates in every string field ----------------
    const stringFields: Array<[string, string, () => Record<string, unknown>, string[]]> = [
      ["POST", "/api/agents/register-build", validRegisterBuild, ["name", "description", "agent_input_type"]],
      [
        "POST",
        "/api/agents/register",
        validRegister,
        ["name", "description", "acp_url", "acp_type", "agent_id", "agent_input_type"],
      ],
      [
        "POST",
        `/api/agents/${fx.agentId}/deployments`,
        () => ({}),
        ["docker_image", "sgp_deploy_id", "helm_release_name"],
      ],
      [
        "POST",
        "/api/principals",
        () => ({ name: `p-${randomUUID().slice(0, 8)}`, kind: "user" }),
        ["name", "kind"],
      ],
      ["POST", `/api/principals/${fx.principalId}/tokens`, () => ({}), ["name"]],
      ["PUT", `/api/agents/${fx.agentId}/grants/${fx.principalId}`, () => ({}), ["role"]],
      ["POST", "/api/agent_api_keys", () => ({ agent_id: fx.agentId, name: "k" }), ["name", "api_key_type"]],
      ["POST", "/api/agent_api_keys", () => ({ name: "k" }), ["agent_name"]],
    ];
    const badStrings: Array<[string, (ok: string) => string]> = [
      ["NUL byte", (ok) => `${ok}${NUL}tail`],
      ["only NUL", () => NUL],
      ["lone high surrogate", (ok) => `${ok}${LONE_HIGH}`],
      ["lone low surrogate", (ok) => `${LONE_LOW}${ok}`],
    ];
    const okValue: Record<string, string> = {
      name: "fine-name",
      description: "fine",
      acp_url: "http://fine.svc",
      acp_type: "async",
      agent_id: randomUUID(),
      agent_input_type: "json",
      docker_image: "img:1",
      sgp_deploy_id: "sgp",
      helm_release_name: "rel",
      kind: "user",
      role: "viewer",
      api_key_type: "external",
      agent_name: "fine-name",
    };
    for (const [method, path, base, fields] of stringFields) {
      for (const field of fields) {
        for (const [label, make] of badStrings) {
          add({
            name: `${label} in ${field} → ${method} ${path}`,
            method,
            path,
            body: { ...base(), [field]: make(okValue[field] ?? "x") },
            status: 422,
            fields: [field],
          });
        }
      }
    }
    const metadataRoutes: Array<[string, string, () => Record<string, unknown>]> = [
      ["POST", "/api/agents/register-build", validRegisterBuild],
      ["POST", "/api/agents/register", validRegister],
      ["POST", `/api/agents/${fx.agentId}/deployments`, () => ({})],
    ];
    for (const [method, path, base] of metadataRoutes) {
      for (const [label, make] of badStrings) {
        add({
          name: `${label} in registration_metadata key → ${path}`,
          method,
          path,
          body: { ...base(), registration_metadata: { [make("k")]: "v" } },
          status: 422,
          fields: ["registration_metadata"],
        });
        add({
          name: `${label} in registration_metadata value → ${path}`,
          method,
          path,
          body: { ...base(), registration_metadata: { k: make("v") } },
          status: 422,
          fields: ["registration_metadata"],
        });
        add({
          name: `${label} in nested registration_metadata → ${path}`,
          method,
          path,
          body: { ...base(), registration_metadata: { a: { b: [1, { c: make("v") }] } } },
          status: 422,
          fields: ["registration_metadata"],
        });
      }
    }
    add({
      name: "NUL in registration_metadata.deployment_id (deployment-scoped register)",
      method: "POST",
      path: "/api/agents/register",
      body: fixtureRegister(fx, { registration_metadata: { deployment_id: `${fx.deploymentId}${NUL}` } }),
      status: 422,
      fields: ["registration_metadata"],
    });
    // JSON escapes that decode to NUL / lone surrogates, sent raw.
    add({
      name: "escaped \\u0000 in name (raw JSON)",
      method: "POST",
      path: "/api/agents/register-build",
      body: '{"name":"a\\u0000b","description":"x"}',
      raw: true,
      status: 422,
      fields: ["name"],
    });
    add({
      name: "escaped \\u0000 in description (raw JSON)",
      method: "POST",
      path: "/api/agents/register-build",
      body: '{"name":"nul-desc","description":"a\\u0000b"}',
      raw: true,
      status: 422,
      fields: ["description"],
    });
    add({
      name: "escaped lone surrogate in description (raw JSON)",
      method: "POST",
      path: "/api/agents/register-build",
      body: '{"name":"sur-desc","description":"a\\ud800b"}',
      raw: true,
      status: 422,
      fields: ["description"],
    });
    add({
      name: "escaped \\u0000 in metadata key (raw JSON)",
      method: "POST",
      path: "/api/agents/register-build",
      body: '{"name":"nul-key","description":"x","registration_metadata":{"a\\u0000":1}}',
      raw: true,
      status: 422,
      fields: ["registration_metadata"],
    });
    add({
      name: "invalid UTF-8 bytes in body",
      method: "POST",
      path: "/api/agents/register-build",
      body: Buffer.concat([
        Buffer.from('{"name":"bad-'),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('","description":"x"}'),
      ]),
      raw: true,
      headers: { "content-type": "application/json" },
      status: [400, 422],
    });

    // --- names: non-ASCII, over-long, malformed ------------------------------
    for (const name of [
      "agént",
      "агент",
      "代理",
      "robot-🤖",
      "UPPER",
      "has space",
      "under_score",
      "dot.name",
      "a/b",
      "",
      "a".repeat(64),
      "a".repeat(10_000),
      "é".repeat(63),
      "-".repeat(64),
    ]) {
      const label = name.length > 20 ? `${name.slice(0, 10)}…(${name.length})` : JSON.stringify(name);
      add({
        name: `bad name ${label} → register-build`,
        method: "POST",
        path: "/api/agents/register-build",
        body: { name, description: "x" },
        status: 422,
        fields: ["name"],
      });
      add({
        name: `bad name ${label} → register`,
        method: "POST",
        path: "/api/agents/register",
        body: { ...validRegister(), name },
        status: 422,
        fields: ["name"],
      });
      if (name) {
        add({
          name: `bad name ${label} → GET by name`,
          method: "GET",
          path: `/api/agents/name/${enc(name)}`,
          status: [404, 422],
        });
        add({
          name: `bad name ${label} → DELETE by name`,
          method: "DELETE",
          path: `/api/agents/name/${enc(name)}`,
          status: [404, 422],
        });
      }
    }
    add({
      name: "name of wrong type (number)",
      method: "POST",
      path: "/api/agents/register-build",
      body: { name: 12345, description: "x" },
      status: 422,
      fields: ["name"],
    });
    add({
      name: "name of wrong type (object)",
      method: "POST",
      path: "/api/agents/register-build",
      body: { name: { $ne: null }, description: "x" },
      status: 422,
      fields: ["name"],
    });
    add({
      name: "name of wrong type (array)",
      method: "POST",
      path: "/api/agents/register-build",
      body: { name: ["a", "b"], description: "x" },
      status: 422,
      fields: ["name"],
    });

    // --- URLs that are not URLs ---------------------------------------------
    for (const url of [
      "not a url",
      "javascript:alert(1)",
      "ftp://files.example.com/agent",
      "file:///etc/passwd",
      "data:text/html,<script>alert(1)</script>",
      "http://",
      "//no-scheme.example.com",
      "example.com",
      "",
      "http://exa mple.com",
      `http://x.com/${"p".repeat(3000)}`,
      "http://x.com\u0000.evil",
    ]) {
      const label = url.length > 40 ? `${url.slice(0, 20)}…(${url.length})` : JSON.stringify(url);
      add({
        name: `acp_url ${label}`,
        method: "POST",
        path: "/api/agents/register",
        body: { ...validRegister(), acp_url: url },
        status: 422,
        fields: ["acp_url"],
      });
    }
    add({
      name: "acp_url javascript: on deployment-scoped register",
      method: "POST",
      path: "/api/agents/register",
      body: fixtureRegister(fx, {
        acp_url: "javascript:alert(1)",
        registration_metadata: { deployment_id: fx.deploymentId },
      }),
      status: 422,
      fields: ["acp_url"],
    });
    add({
      name: "acp_url missing",
      method: "POST",
      path: "/api/agents/register",
      body: { name: "no-url", description: "x", acp_type: "sync" },
      status: 422,
      fields: ["acp_url"],
    });
    add({
      name: "acp_url a number",
      method: "POST",
      path: "/api/agents/register",
      body: { ...validRegister(), acp_url: 8000 },
      status: 422,
      fields: ["acp_url"],
    });
  });
}
