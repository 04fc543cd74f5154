/** Requests malformed around the body: path ids that are not ids, bogus cursors and tRPC calls, duplicated query keys, garbage credentials. */
import { randomUUID } from "node:crypto";
import {
  BODY_LIMIT,
  NUL,
  bigBody,
  collect,
  enc,
  validRegisterBuild,
  type Case,
  type Fixture,
} from "./case.ts";

const cursor = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

export function requestCases(fx: Fixture): Case[] {
  return collect((add) => {
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
        ["GET", `/api/agents/${fx.agentId}/deployments/{}`],
        ["POST", `/api/agents/${fx.agentId}/deployments/{}/promote`],
        ["DELETE", `/api/agents/${fx.agentId}/deployments/{}`],
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
      [
        "scope ok, key out of range",
        cursor({ s: validScope, k: "294277-01-01 00:00:00+00", i: randomUUID() }),
      ],
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
      [
        "agents cursor on deployments",
        cursor({ s: validScope, k: "2024-01-01 00:00:00+00", i: randomUUID() }),
      ],
      [
        "scope ok, key not a timestamp",
        cursor({
          s: `deployments:${fx.agentId}:created_at:desc`,
          k: "1; drop table deployments",
          i: randomUUID(),
        }),
      ],
    ] as const) {
      add({
        name: `bogus cursor (${label}) → deployments.listPage`,
        method: "GET",
        path: `/trpc/deployments.listPage?input=${enc(JSON.stringify({ agent_id: fx.agentId, cursor: c }))}`,
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
    add({
      name: "tRPC unknown procedure",
      method: "GET",
      path: "/trpc/agents.nope",
      status: 404,
      trpc: true,
    });
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
      body: bigBody(BODY_LIMIT + 10),
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
      path: `/api/agent_api_keys?agent_id=${fx.agentId}&agent_id=${randomUUID()}`,
      status: 422,
      fields: ["agent_id"],
    });
    add({
      name: "duplicated limit on deployments",
      method: "GET",
      path: `/api/agents/${fx.agentId}/deployments?limit=1&limit=1`,
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
  });
}
