/** Bodies that are not a request: malformed JSON, poisoned prototypes, non-objects, wrong content types, oversized and deeply nested bodies. */
import { randomUUID } from "node:crypto";
import {
  BODY_LIMIT,
  bigBody,
  collect,
  validRegister,
  validRegisterBuild,
  type Case,
  type Fixture,
} from "./case.ts";

function nested(depth: number, open: string, close: string, inner = "1") {
  return open.repeat(depth) + inner + close.repeat(depth);
}

export function bodyCases(fx: Fixture): Case[] {
  return collect((add) => {
    const bodyRoutes: Array<[string, string, () => Record<string, unknown>]> = [
      ["POST", "/api/agents/register-build", validRegisterBuild],
      ["POST", "/api/agents/register", validRegister],
      ["POST", `/api/agents/${fx.agentId}/deployments`, () => ({ docker_image: "img:1" })],
      ["POST", "/api/principals", () => ({ name: `p-${randomUUID().slice(0, 8)}`, kind: "user" })],
      ["PUT", `/api/agents/${fx.agentId}/grants/${fx.principalId}`, () => ({ role: "viewer" })],
      [
        "POST",
        "/api/agent_api_keys",
        () => ({ agent_id: fx.agentId, name: `k-${randomUUID().slice(0, 8)}` }),
      ],
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
      path: `/api/agents/${fx.agentId}/deployments/${fx.deploymentId}/promote`,
      body: "{}",
      raw: true,
      headers: { "content-type": "text/plain" },
      status: 415,
    });

    // --- bodies over the limit ---------------------------------------------
    const overhead = bigBody(0).length;
    // Exactly at the limit the body is read (and refused by the field's own limit): the limit is 1 MiB, not less.
    add({
      name: "body of exactly 1 MiB",
      method: "POST",
      path: "/api/agents/register-build",
      body: bigBody(BODY_LIMIT - overhead),
      raw: true,
      status: 422,
      fields: ["description"],
    });
    add({
      name: "body 1 byte over 1 MiB",
      method: "POST",
      path: "/api/agents/register-build",
      body: bigBody(BODY_LIMIT - overhead + 1),
      raw: true,
      status: 413,
    });
    add({
      name: "body of 5 MiB",
      method: "POST",
      path: "/api/agents/register-build",
      body: bigBody(5 * BODY_LIMIT),
      raw: true,
      status: 413,
    });
    add({
      name: "metadata body over 1 MiB on deployments.create",
      method: "POST",
      path: `/api/agents/${fx.agentId}/deployments`,
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
        path: `/api/agents/${fx.agentId}/deployments`,
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
  });
}
