/**
 * The bad-input corpus, over real HTTP. Every case must be refused with a 4xx
 * carrying the SPEC error body, with no internals in the text (no stack, no
 * SQL, no file paths), answered before a generous deadline (a hang fails the
 * case; nothing here asserts speed), and leave every table unchanged.
 */
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { TEST_STORE } from "@agentex/db/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServer } from "./helpers.ts";

/** A case that has not answered by then is hanging. */
const DEADLINE_MS = 8_000;
const BODY_LIMIT = 1024 * 1024;

interface Case {
  name: string;
  method: string;
  path: string;
  /** Raw body text (sent as is) or a value to JSON-encode. */
  body?: string | unknown;
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

const SQL_FRAGMENTS = [
  "'; drop table agents; --",
  "1 OR 1=1",
  "' OR '1'='1",
  "1; select pg_sleep(30)--",
  '") or ("a"="a',
];
const NUL = "\u0000";
const LONE_HIGH = "\ud800";
const LONE_LOW = "\udfff";

// Fixture ids, filled in before the corpus runs (cases are built lazily).
const fx = { agentId: "", agentName: "", deploymentId: "", prodDeploymentId: "", principalId: "" };

const enc = encodeURIComponent;
const validRegisterBuild = () => ({ name: `corpus-${randomUUID().slice(0, 8)}`, description: "corpus" });
const validRegister = () => ({
  name: `corpus-${randomUUID().slice(0, 8)}`,
  description: "corpus",
  acp_url: "http://corpus.svc:8000",
  acp_type: "async",
});
const cursor = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

function nested(depth: number, open: string, close: string, inner = "1") {
  return open.repeat(depth) + inner + close.repeat(depth);
}

function buildCorpus(): Case[] {
  const cases: Case[] = [];
  const add = (c: Case) => cases.push(c);
  const A = () => fx.agentId;
  const bodyRoutes: Array<[string, string, () => Record<string, unknown>]> = [
    ["POST", "/api/agents/register-build", validRegisterBuild],
    ["POST", "/api/agents/register", validRegister],
    ["POST", `/api/agents/${A()}/deployments`, () => ({ docker_image: "img:1" })],
    ["POST", "/api/principals", () => ({ name: `p-${randomUUID().slice(0, 8)}`, kind: "user" })],
    ["PUT", `/api/agents/${A()}/grants/${fx.principalId}`, () => ({ role: "viewer" })],
    ["POST", "/api/agent_api_keys", () => ({ agent_id: A(), name: `k-${randomUUID().slice(0, 8)}` })],
  ];

  // --- malformed JSON ----------------------------------------------------
  const malformed: Array<[string, string]> = [
    ["unterminated object", "{"],
    ["missing value", '{"name": }'],
    ["single quotes", "{'name': 'x'}"],
    ["trailing comma", '{"name": "x", "description": "y",}'],
    ["trailing garbage", '{"name": "x"} garbage'],
    ["bare word", "undefined"],
    ["NaN literal", '{"limit": NaN}'],
    ["comment", '{"name": "x" /* c */}'],
    ["unterminated string", '{"name": "x'],
    ["invalid escape", '{"name": "\\x41"}'],
    ["raw control char in string", '{"name": "a\u0001b"}'],
    ["two documents", "{}{}"],
  ];
  for (const [method, path] of bodyRoutes) {
    for (const [label, text] of malformed) {
      add({
        name: `malformed JSON (${label}) → ${method} ${path}`,
        method,
        path,
        body: text,
        raw: true,
        status: 400,
      });
    }
  }

  // --- prototype poisoning ------------------------------------------------
  add({
    name: "prototype poisoning via __proto__",
    method: "POST",
    path: "/api/principals",
    body: '{"name":"p-proto","kind":"user","__proto__":{"admin":true}}',
    raw: true,
    // Refused as a 422 naming the key, as /trpc refuses it (issue 9, item 11).
    status: 422,
    fields: ["__proto__"],
  });
  add({
    name: "prototype poisoning via constructor.prototype",
    method: "POST",
    path: "/api/principals",
    // `constructor` is plain data on both transports (never a prototype); the body is refused for its bad kind only.
    body: '{"name":"p-ctor","kind":"robot","constructor":{"prototype":{"admin":true}}}',
    raw: true,
    status: 422,
    fields: ["kind"],
  });

  // --- non-object bodies -------------------------------------------------
  for (const [method, path] of bodyRoutes) {
    for (const [label, text] of [
      ["array", "[]"],
      ["array of object", '[{"name":"x","description":"y"}]'],
      ["string", '"register me"'],
      ["number", "42"],
      ["boolean", "true"],
      ["null", "null"],
    ] as const) {
      add({
        name: `non-object body (${label}) → ${method} ${path}`,
        method,
        path,
        body: text,
        raw: true,
        status: [400, 422],
      });
    }
  }

  // --- wrong content types -----------------------------------------------
  const json = JSON.stringify(validRegisterBuild());
  for (const type of [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/jsonx",
    "application/octet-stream",
  ]) {
    const body = type.startsWith("application/x-www") ? "name=form-agent&description=x" : json;
    add({
      name: `content-type ${type}`,
      method: "POST",
      path: "/api/agents/register-build",
      body,
      raw: true,
      headers: { "content-type": type },
      status: 415,
    });
  }
  add({
    name: "content-type text/plain on promote",
    method: "POST",
    path: `/api/agents/${A()}/deployments/${fx.deploymentId}/promote`,
    body: "{}",
    raw: true,
    headers: { "content-type": "text/plain" },
    status: 415,
  });

  // --- bodies over the limit ---------------------------------------------
  const big = (n: number) => JSON.stringify({ name: "big-agent", description: "x".repeat(n) });
  const overhead = big(0).length;
  // Exactly at the limit the body is read (and refused by the field's own limit): the limit is 1 MiB, not less.
  add({
    name: "body of exactly 1 MiB",
    method: "POST",
    path: "/api/agents/register-build",
    body: big(BODY_LIMIT - overhead),
    raw: true,
    status: 422,
    fields: ["description"],
  });
  add({
    name: "body 1 byte over 1 MiB",
    method: "POST",
    path: "/api/agents/register-build",
    body: big(BODY_LIMIT - overhead + 1),
    raw: true,
    status: 413,
  });
  add({
    name: "body of 5 MiB",
    method: "POST",
    path: "/api/agents/register-build",
    body: big(5 * BODY_LIMIT),
    raw: true,
    status: 413,
  });
  add({
    name: "metadata body over 1 MiB on deployments.create",
    method: "POST",
    path: `/api/agents/${A()}/deployments`,
    body: JSON.stringify({ registration_metadata: { blob: "y".repeat(BODY_LIMIT + 10) } }),
    raw: true,
    status: 413,
  });
  // Under the HTTP limit but over the documented field limits: 422.
  add({
    name: "registration_metadata over 64 KiB",
    method: "POST",
    path: "/api/agents/register-build",
    body: { ...validRegisterBuild(), registration_metadata: { blob: "z".repeat(70 * 1024) } },
    status: 422,
    fields: ["registration_metadata"],
  });
  add({
    name: "description over 4096 chars",
    method: "POST",
    path: "/api/agents/register-build",
    body: { ...validRegisterBuild(), description: "d".repeat(4097) },
    status: 422,
    fields: ["description"],
  });

  // --- deeply nested JSON ------------------------------------------------
  for (const depth of [10_000, 100_000]) {
    add({
      name: `body nested ${depth} arrays deep`,
      method: "POST",
      path: "/api/agents/register-build",
      body: nested(depth, "[", "]"),
      raw: true,
      status: [400, 422],
    });
    add({
      name: `registration_metadata nested ${depth} objects deep`,
      method: "POST",
      path: "/api/agents/register-build",
      body: `{"name":"deep-${depth}","description":"x","registration_metadata":${nested(depth, '{"a":', "}")}}`,
      raw: true,
      status: [400, 422],
    });
    add({
      name: `deployment metadata nested ${depth} arrays deep`,
      method: "POST",
      path: `/api/agents/${A()}/deployments`,
      body: `{"registration_metadata":{"a":${nested(depth, "[", "]")}}}`,
      raw: true,
      status: [400, 422],
    });
    add({
      name: `description nested ${depth} deep`,
      method: "POST",
      path: "/api/agents/register",
      body: `{"name":"deep-x","description":${nested(depth, '{"a":', "}")},"acp_url":"http://x.svc","acp_type":"sync"}`,
      raw: true,
      status: [400, 422],
    });
  }
  add({
    name: "registration_metadata nested 17 deep (over the documented 16)",
    method: "POST",
    path: "/api/agents/register-build",
    body: `{"name":"deep-17","description":"x","registration_metadata":${nested(17, '{"a":', "}")}}`,
    raw: true,
    status: 422,
    fields: ["registration_metadata"],
  });

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
      `/api/agents/${A()}/deployments`,
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
    ["PUT", `/api/agents/${A()}/grants/${fx.principalId}`, () => ({}), ["role"]],
    ["POST", "/api/agent_api_keys", () => ({ agent_id: A(), name: "k" }), ["name", "api_key_type"]],
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
    ["POST", `/api/agents/${A()}/deployments`, () => ({})],
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
    body: {
      ...validRegister(),
      name: fx.agentName,
      agent_id: A(),
      registration_metadata: { deployment_id: `${fx.deploymentId}${NUL}` },
    },
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
    body: {
      ...validRegister(),
      name: fx.agentName,
      agent_id: A(),
      acp_url: "javascript:alert(1)",
      registration_metadata: { deployment_id: fx.deploymentId },
    },
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

  // --- numbers out of range -----------------------------------------------
  const badNumbers = [
    "1e309",
    "-1e309",
    "-1",
    "0",
    "1001",
    "99999999999999999999",
    "NaN",
    "Infinity",
    "1.5",
    "abc",
    "1e3x",
    " ",
    "--1",
    "1_000",
    "0x7fffffff",
  ];
  for (const v of badNumbers) {
    add({
      name: `GET /agents limit=${JSON.stringify(v)}`,
      method: "GET",
      path: `/api/agents?limit=${enc(v)}`,
      status: 422,
      fields: ["limit"],
    });
    add({
      name: `GET deployments limit=${JSON.stringify(v)}`,
      method: "GET",
      path: `/api/agents/${A()}/deployments?limit=${enc(v)}`,
      status: 422,
      fields: ["limit"],
    });
  }
  for (const v of ["0", "-1", "1e309", "99999999999999999999", "1000001", "NaN", "2.5", "abc"]) {
    add({
      name: `GET /agents page_number=${JSON.stringify(v)}`,
      method: "GET",
      path: `/api/agents?page_number=${enc(v)}`,
      status: 422,
      fields: ["page_number"],
    });
  }
  add({
    name: "limit as a JSON number in a tRPC query: 1e309 → Infinity",
    method: "GET",
    path: `/trpc/agents.list?input=${enc('{"limit":1e309}')}`,
    status: [400, 422],
    trpc: true,
  });
  add({
    name: "limit as a huge number over tRPC",
    method: "GET",
    path: `/trpc/agents.list?input=${enc('{"limit":99999999999999999999}')}`,
    status: 422,
    trpc: true,
  });
  add({
    name: "page_number huge over tRPC",
    method: "GET",
    path: `/trpc/agents.list?input=${enc('{"page_number":9007199254740993}')}`,
    status: 422,
    trpc: true,
  });

  // --- enums out of range --------------------------------------------------
  for (const v of [
    "id",
    "description",
    "NAME",
    "name;drop table agents",
    "created_at desc",
    "1",
    " ",
    "created_at,name",
  ]) {
    add({
      name: `order_by=${JSON.stringify(v)}`,
      method: "GET",
      path: `/api/agents?order_by=${enc(v)}`,
      status: 422,
      fields: ["order_by"],
    });
  }
  for (const v of ["ASC", "up", "descending", " ", "1", "asc;"]) {
    add({
      name: `order_direction=${JSON.stringify(v)}`,
      method: "GET",
      path: `/api/agents?order_direction=${enc(v)}`,
      status: 422,
      fields: ["order_direction"],
    });
  }
  for (const v of ["ready", "READY", "Running", " ", "Ready,Failed", "*"]) {
    add({
      name: `status=${JSON.stringify(v)}`,
      method: "GET",
      path: `/api/agents?status=${enc(v)}`,
      status: 422,
      fields: ["status"],
    });
  }
  add({
    name: "acp_type outside enum",
    method: "POST",
    path: "/api/agents/register",
    body: { ...validRegister(), acp_type: "streaming" },
    status: 422,
    fields: ["acp_type"],
  });
  add({
    name: "agent_input_type outside enum",
    method: "POST",
    path: "/api/agents/register-build",
    body: { ...validRegisterBuild(), agent_input_type: "xml" },
    status: 422,
    fields: ["agent_input_type"],
  });
  add({
    name: "principal kind agent (not creatable)",
    method: "POST",
    path: "/api/principals",
    body: { name: "p-agent", kind: "agent" },
    status: 422,
    fields: ["kind"],
  });
  add({
    name: "grant role admin",
    method: "PUT",
    path: `/api/agents/${A()}/grants/${fx.principalId}`,
    body: { role: "admin" },
    status: 422,
    fields: ["role"],
  });
  add({
    name: "api_key_type internal (not mintable by hand)",
    method: "POST",
    path: "/api/agent_api_keys",
    body: { agent_id: A(), name: "k-int", api_key_type: "internal" },
    status: 422,
    fields: ["api_key_type"],
  });
  // The bridge coerces plain z.boolean() inputs with Boolean(): "false" would be true.
  for (const flag of ["admin", "can_create_agents"]) {
    for (const v of ["false", "true", "", 0, 1, "yes", null, [], {}]) {
      add({
        name: `${flag} ${JSON.stringify(v)} (not a JSON boolean)`,
        method: "POST",
        path: "/api/principals",
        body: { name: `p-flag-${flag}`, kind: "user", [flag]: v },
        status: 422,
        fields: [flag],
      });
    }
  }

  // --- SQL fragments in every constrained string parameter -----------------
  for (const frag of SQL_FRAGMENTS) {
    const f = JSON.stringify(frag);
    add({
      name: `SQL ${f} in name → register-build`,
      method: "POST",
      path: "/api/agents/register-build",
      body: { name: frag, description: "x" },
      status: 422,
      fields: ["name"],
    });
    add({
      name: `SQL ${f} in name → register`,
      method: "POST",
      path: "/api/agents/register",
      body: { ...validRegister(), name: frag },
      status: 422,
      fields: ["name"],
    });
    add({
      name: `SQL ${f} in acp_url`,
      method: "POST",
      path: "/api/agents/register",
      body: { ...validRegister(), acp_url: frag },
      status: 422,
      fields: ["acp_url"],
    });
    add({
      name: `SQL ${f} in acp_type`,
      method: "POST",
      path: "/api/agents/register",
      body: { ...validRegister(), acp_type: frag },
      status: 422,
      fields: ["acp_type"],
    });
    add({
      name: `SQL ${f} in agent_id (body)`,
      method: "POST",
      path: "/api/agents/register",
      body: { ...validRegister(), agent_id: frag },
      status: 422,
      fields: ["agent_id"],
    });
    add({
      name: `SQL ${f} in agent_input_type`,
      method: "POST",
      path: "/api/agents/register-build",
      body: { ...validRegisterBuild(), agent_input_type: frag },
      status: 422,
      fields: ["agent_input_type"],
    });
    add({
      name: `SQL ${f} in registration_metadata.deployment_id`,
      method: "POST",
      path: "/api/agents/register",
      body: {
        ...validRegister(),
        name: fx.agentName,
        agent_id: A(),
        registration_metadata: { deployment_id: frag },
      },
      status: 422,
      fields: ["registration_metadata.deployment_id"],
    });
    add({
      name: `SQL ${f} in role`,
      method: "PUT",
      path: `/api/agents/${A()}/grants/${fx.principalId}`,
      body: { role: frag },
      status: 422,
      fields: ["role"],
    });
    add({
      name: `SQL ${f} in kind`,
      method: "POST",
      path: "/api/principals",
      body: { name: "p-sql", kind: frag },
      status: 422,
      fields: ["kind"],
    });
    add({
      name: `SQL ${f} in agent_name (api key)`,
      method: "POST",
      path: "/api/agent_api_keys",
      body: { agent_name: frag, name: "k" },
      status: 422,
      fields: ["agent_name"],
    });
    add({
      name: `SQL ${f} in api_key_type`,
      method: "POST",
      path: "/api/agent_api_keys",
      body: { agent_id: A(), name: "k", api_key_type: frag },
      status: 422,
      fields: ["api_key_type"],
    });
    // query parameters
    for (const q of ["limit", "page_number", "order_by", "order_direction", "status"]) {
      add({
        name: `SQL ${f} in ?${q}`,
        method: "GET",
        path: `/api/agents?${q}=${enc(frag)}`,
        status: 422,
        fields: [q],
      });
    }
    add({
      name: `SQL ${f} in deployments ?limit`,
      method: "GET",
      path: `/api/agents/${A()}/deployments?limit=${enc(frag)}`,
      status: 422,
      fields: ["limit"],
    });
    add({
      name: `SQL ${f} in ?agent_id (api keys)`,
      method: "GET",
      path: `/api/agent_api_keys?agent_id=${enc(frag)}`,
      status: 422,
      fields: ["agent_id"],
    });
    // path parameters
    const e = enc(frag);
    const pathCases: Array<[string, string, string]> = [
      ["GET", `/api/agents/${e}`, "agent_id"],
      ["DELETE", `/api/agents/${e}`, "agent_id"],
      ["GET", `/api/agents/name/${e}`, "agent_name"],
      ["DELETE", `/api/agents/name/${e}`, "agent_name"],
      ["POST", `/api/agents/${e}/deployments`, "agent_id"],
      ["GET", `/api/agents/${e}/deployments`, "agent_id"],
      ["GET", `/api/agents/${A()}/deployments/${e}`, "deployment_id"],
      ["POST", `/api/agents/${A()}/deployments/${e}/promote`, "deployment_id"],
      ["DELETE", `/api/agents/${A()}/deployments/${e}`, "deployment_id"],
      ["POST", `/api/agents/${e}/deployments/${fx.deploymentId}/promote`, "agent_id"],
      ["GET", `/api/agents/${e}/grants`, "agent_id"],
      ["PUT", `/api/agents/${A()}/grants/${e}`, "principal_id"],
      ["DELETE", `/api/agents/${A()}/grants/${e}`, "principal_id"],
      ["POST", `/api/principals/${e}/tokens`, "principal_id"],
      ["DELETE", `/api/tokens/${e}`, "token_id"],
      ["DELETE", `/api/agent_api_keys/${e}`, "id"],
    ];
    for (const [method, path, field] of pathCases) {
      add({
        name: `SQL ${f} in path {${field}} → ${method} ${path.replace(e, "…")}`,
        method,
        path,
        ...(method === "POST" || method === "PUT"
          ? { body: method === "PUT" ? { role: "viewer" } : {} }
          : {}),
        status: 422,
        fields: [field],
      });
    }
  }

  // --- path parameters that are not ids ------------------------------------
  const notIds: Array<[string, string]> = [
    ["word", "abc"],
    ["zero", "0"],
    ["negative", "-1"],
    ["uuid without dashes", randomUUID().replaceAll("-", "")],
    ["uuid in braces", `{${randomUUID()}}`],
    ["uuid with trailing junk", `${randomUUID()}x`],
    ["uuid with trailing space", enc(`${randomUUID()} `)],
    ["encoded slash", `abc%2Fdef`],
    ["encoded slash inside a uuid", `${randomUUID().slice(0, 8)}%2F${randomUUID().slice(9)}`],
    ["encoded dot-dot", "%2e%2e"],
    ["mixed-case encoded dot-dot", ".%2E"],
    ["dot-dot", ".."],
    ["single dot", "."],
    ["encoded single dot", "%2e"],
    ["backslash dot-dot", "x\\..\\.."],
    ["dot-dot twice", "%2e%2e/%2e%2e"],
    ["encoded backslash", "a%5Cb"],
    ["NUL", "%00"],
    ["uuid with NUL", `${randomUUID()}%00`],
    ["percent-encoded garbage", "%ZZ"],
    ["unicode", enc("агент")],
    ["4000 chars", "a".repeat(4000)],
    ["10000 chars", "b".repeat(10_000)],
  ];
  for (const [label, seg] of notIds) {
    for (const [method, tmpl] of [
      ["GET", "/api/agents/{}"],
      ["DELETE", "/api/agents/{}"],
      ["GET", "/api/agents/{}/deployments"],
      ["POST", "/api/agents/{}/deployments"],
      ["GET", `/api/agents/${A()}/deployments/{}`],
      ["POST", `/api/agents/${A()}/deployments/{}/promote`],
      ["DELETE", `/api/agents/${A()}/deployments/{}`],
      ["DELETE", "/api/tokens/{}"],
    ] as const) {
      add({
        name: `path param not an id (${label}) → ${method} ${tmpl}`,
        method,
        path: tmpl.replace("{}", seg),
        ...(method === "POST" ? { body: {} } : {}),
        status: [400, 404, 414, 422, 431],
      });
    }
  }
  add({
    name: "agent name path of 10000 chars",
    method: "GET",
    path: `/api/agents/name/${"n".repeat(10_000)}`,
    status: [404, 414, 422, 431],
  });
  add({
    name: "uppercase-uuid of no agent",
    method: "GET",
    path: `/api/agents/${randomUUID().toUpperCase()}`,
    status: 404,
  });
  add({
    name: "nil uuid",
    method: "GET",
    path: "/api/agents/00000000-0000-0000-0000-000000000000",
    status: [404, 422],
  });

  // --- bogus cursors over /trpc listPage ------------------------------------
  const validScope = "agents:created_at:desc:";
  const bogusCursors: Array<[string, string]> = [
    ["not base64", "!!!not-base64!!!"],
    ["base64 of garbage", cursor("garbage")],
    ["base64 of {}", cursor({})],
    ["base64 of JSON array", cursor([1, 2, 3])],
    ["wrong scope", cursor({ s: "agents:name:asc:", k: "a", i: randomUUID() })],
    ["scope ok, key not a timestamp", cursor({ s: validScope, k: "not-a-date", i: randomUUID() })],
    ["scope ok, key is SQL", cursor({ s: validScope, k: "'; drop table agents; --", i: randomUUID() })],
    ["scope ok, key 1 OR 1=1", cursor({ s: validScope, k: "1 OR 1=1", i: randomUUID() })],
    ["scope ok, key out of range", cursor({ s: validScope, k: "294277-01-01 00:00:00+00", i: randomUUID() })],
    ["scope ok, key with NUL", cursor({ s: validScope, k: `2024-01-01${NUL}`, i: randomUUID() })],
    ["scope ok, id all dashes", cursor({ s: validScope, k: "2024-01-01 00:00:00+00", i: "-".repeat(36) })],
    ["scope ok, id SQL", cursor({ s: validScope, k: "2024-01-01 00:00:00+00", i: "1' OR '1'='1" })],
    ["scope ok, id a number", cursor({ s: validScope, k: "2024-01-01 00:00:00+00", i: 7 })],
    ["over 512 chars", "c".repeat(600)],
    ["NUL in cursor", `abc${NUL}def`],
  ];
  for (const [label, c] of bogusCursors) {
    add({
      name: `bogus cursor (${label}) → agents.listPage`,
      method: "GET",
      path: `/trpc/agents.listPage?input=${enc(JSON.stringify({ cursor: c }))}`,
      status: 422,
      trpc: true,
    });
  }
  for (const [label, c] of [
    ["not base64", "!!!"],
    ["agents cursor on deployments", cursor({ s: validScope, k: "2024-01-01 00:00:00+00", i: randomUUID() })],
    [
      "scope ok, key not a timestamp",
      cursor({ s: `deployments:${A()}`, k: "1; drop table deployments", i: randomUUID() }),
    ],
  ] as const) {
    add({
      name: `bogus cursor (${label}) → deployments.listPage`,
      method: "GET",
      path: `/trpc/deployments.listPage?input=${enc(JSON.stringify({ agent_id: A(), cursor: c }))}`,
      status: 422,
      trpc: true,
    });
  }
  add({
    name: "tRPC input not JSON",
    method: "GET",
    path: "/trpc/agents.listPage?input=%7Bnot-json",
    status: 400,
    trpc: true,
  });
  add({
    name: "tRPC input wrong type",
    method: "GET",
    path: `/trpc/agents.listPage?input=${enc('"a string"')}`,
    status: [400, 422],
    trpc: true,
  });
  add({ name: "tRPC unknown procedure", method: "GET", path: "/trpc/agents.nope", status: 404, trpc: true });
  add({
    name: "tRPC mutation over GET",
    method: "GET",
    path: `/trpc/agents.registerBuild?input=${enc(JSON.stringify(validRegisterBuild()))}`,
    status: [400, 405],
    trpc: true,
  });
  add({
    name: "tRPC malformed JSON body",
    method: "POST",
    path: "/trpc/agents.registerBuild",
    body: '{"name":',
    raw: true,
    status: 400,
    trpc: true,
  });
  add({
    name: "tRPC body over the limit",
    method: "POST",
    path: "/trpc/agents.registerBuild",
    body: big(BODY_LIMIT + 10),
    raw: true,
    status: 413,
    trpc: true,
  });

  // --- duplicated query keys ------------------------------------------------
  for (const q of [
    "limit=1&limit=2",
    "status=Ready&status=Failed",
    "order_by=name&order_by=created_at",
    "order_direction=asc&order_direction=desc",
    "page_number=1&page_number=2",
    "order_by=name&order_by=name",
  ]) {
    const field = q.split("=")[0]!;
    add({
      name: `duplicated query key ${q}`,
      method: "GET",
      path: `/api/agents?${q}`,
      status: 422,
      fields: [field],
    });
  }
  add({
    name: "duplicated agent_id on api keys",
    method: "GET",
    path: `/api/agent_api_keys?agent_id=${A()}&agent_id=${randomUUID()}`,
    status: 422,
    fields: ["agent_id"],
  });
  add({
    name: "duplicated limit on deployments",
    method: "GET",
    path: `/api/agents/${A()}/deployments?limit=1&limit=1`,
    status: 422,
    fields: ["limit"],
  });

  // --- authentication garbage -----------------------------------------------
  for (const [label, value] of [
    ["empty bearer", "Bearer "],
    ["basic auth", "Basic dXNlcjpwYXNz"],
    ["bearer with SQL", "Bearer ' OR 1=1 --"],
    ["bearer of 10k chars", `Bearer ${"t".repeat(10_000)}`],
    ["two bearers", "Bearer a Bearer b"],
  ] as const) {
    add({
      name: `authorization: ${label}`,
      method: "POST",
      path: "/api/agents/register-build",
      body: validRegisterBuild(),
      anonymous: true,
      headers: { authorization: value },
      status: 401,
    });
  }
  add({
    name: "x-agent-api-key of SQL",
    method: "GET",
    path: "/api/agents",
    anonymous: true,
    headers: { "x-agent-api-key": "' OR 1=1 --" },
    status: 401,
  });

  return cases;
}

/**
 * One HTTP request with the path sent exactly as written: fetch would resolve
 * `%2e%2e` and friends before they reach the server.
 */
function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  signal: AbortSignal,
): Promise<{ status: number; text: string; headers: { get(name: string): string | null } }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString("utf8"),
          headers: { get: (name) => (res.headers[name.toLowerCase()] as string | undefined) ?? null },
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : typeof body === "string" ? Buffer.from(body, "utf8") : body);
  });
}

/** Things no error text may carry. */
const INTERNALS: Array<[string, RegExp]> = [
  ["stack frame", /\bat (async )?[\w$.<>[\] ]+ \(|^\s+at /m],
  ["file path", /(\/[\w.@-]+){2,}\.(ts|js|mjs|cjs)\b|node_modules|file:\/\//],
  ["SQL", /\bselect\b.*\bfrom\b|\binsert into\b|\bupdate \w+ set\b|\bwhere\b.*=\s*\$\d|\$\d+::/i],
  ["database names", /postgres|pglite|kysely|pg_|relation "|violates|syntax error at/i],
  [
    "JS exception",
    /TypeError|ReferenceError|RangeError|SyntaxError|ZodError|Cannot read prop|undefined is not|Maximum call stack/,
  ],
  ["stack key", /"stack"/],
];

function scrub(text: string, c: Case): string {
  // The request's own input may legitimately be echoed (e.g. "Agent '…' not found"): do not count it.
  let out = text;
  for (const frag of SQL_FRAGMENTS) {
    out = out
      .split(frag)
      .join("")
      .split(JSON.stringify(frag).slice(1, -1))
      .join("")
      .split(encodeURIComponent(frag))
      .join("");
  }
  out = out.split(c.path.split("?")[0]!).join("");
  return out;
}

describe(`bad-input corpus over HTTP (${TEST_STORE})`, () => {
  const s = useServer();
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

  // Cases reference fixture ids, so the table is built inside each test's closure
  // from a first pass whose names do not depend on the ids.
  const names = (() => {
    const saved = { ...fx };
    Object.assign(fx, {
      agentId: "A",
      agentName: "a",
      deploymentId: "D",
      prodDeploymentId: "P",
      principalId: "U",
    });
    const list = buildCorpus().map((c) => c.name);
    Object.assign(fx, saved);
    return list;
  })();
  let corpus: Case[] | null = null;
  const nameCounts = new Map<string, number>();
  const uniqueNames = names.map((n) => {
    const k = (nameCounts.get(n) ?? 0) + 1;
    nameCounts.set(n, k);
    return k > 1 ? `${n} #${k}` : n;
  });

  it("has a corpus of a few hundred cases", () => {
    expect(names.length).toBeGreaterThan(300);
  });

  uniqueNames.forEach((name, index) => {
    it(name, async () => {
      corpus ??= buildCorpus();
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
      const parsed = JSON.parse(text) as Record<string, any>;
      let message: string;
      let issues: Array<{ field: string; message: string }> | undefined;
      if (c.trpc && "error" in parsed) {
        // tRPC's envelope (plain JSON), shaped by the same errorFormatter. Errors
        // raised before tRPC runs (body too large) carry the SPEC body instead.
        expect(Object.keys(parsed)).toEqual(["error"]);
        const err = parsed.error as Record<string, any>;
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
        expect(parsed.status_code).toBe(res.status);
        expect(typeof parsed.code).toBe("string");
        expect(parsed.code).toMatch(/^[A-Z_]+$/);
        expect(parsed.request_id).toBe(res.headers.get("x-request-id"));
        message = parsed.message;
        issues = parsed.issues;
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
    expect(deps.body.map((d: any) => d.id).sort()).toEqual([fx.deploymentId, fx.prodDeploymentId].sort());
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
