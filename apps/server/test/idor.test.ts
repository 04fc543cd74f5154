import { TEST_STORE } from "@agentex/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyDatabase, findLeaks, sha256Hex } from "./dump.ts";
import { useServer } from "./helpers.ts";
import { accessCases } from "./idor/access.cases.ts";
import { agentCases } from "./idor/agents.cases.ts";
import { ATTACKERS, type Attacker, type Case, type Expect } from "./idor/case.ts";
import { VIEWER_READABLE, createFixture, emptyFixture, ghostOf, secrets, snapshot } from "./idor/fixture.ts";
import { REST, TYPES, transports } from "./idor/transports.ts";
import { SPEC_ROUTES } from "./spec-routes.ts";

/**
 * IDOR suite over real HTTP. Principal A owns an agent with deployments, keys
 * and grants; every procedure is then tried against A's resources by callers
 * who must not touch them: B (may create agents, holds no grant), B's own
 * agent key, V (A's viewer), and callers with no or a forged credential.
 * Each try must get the refusal the contract names (404 when the caller may
 * not see the agent, 403 when it may see but not act, 409 for a held name,
 * 401 without a credential), must not leak A's fields, and must leave the
 * database exactly as it was. The table runs over the REST bridge (/api) and
 * over /trpc (GET for queries, POST for mutations). The cases are data, in
 * idor/*.cases.ts.
 */

const CODES: Record<number, string> = {
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
};

function expectationFor(c: Case, who: Attacker): Expect {
  if (who === "anonymous" || who === "forged-key") return 401;
  return who === "B" ? c.B : who === "B-agent-key" ? c.key : c.viewer;
}

describe(`IDOR over REST and tRPC (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const s = useServer();
  const fx = emptyFixture();
  const { A, B, V, agent, keys } = fx;
  const send = transports(s, fx);
  const cases: Case[] = [...agentCases(fx), ...accessCases(fx)];
  const counts: Record<string, Record<string, number>> = { rest: {}, trpc: {} };
  let baseline = "";

  beforeAll(async () => {
    await createFixture(s, fx);
    baseline = await snapshot(s.db.db);
  }, 60_000);

  it("the table covers every REST route of the SPEC and every procedure of the router", () => {
    const restRoutes = [...REST.values()].map((route) => `${route.method} ${route.path}`);
    for (const route of SPEC_ROUTES) expect(restRoutes, `SPEC route ${route} is served`).toContain(route);
    const covered = new Set(cases.map((c) => c.proc));
    expect(
      [...TYPES.keys()].filter((p) => !covered.has(p)),
      "procedures without an IDOR case",
    ).toEqual([]);
  });

  for (const transport of ["rest", "trpc"] as const) {
    describe(transport === "rest" ? "REST bridge /api" : "tRPC /trpc", () => {
      for (const c of cases) {
        if (transport === "rest" && !REST.has(c.proc)) continue;
        for (const who of ATTACKERS) {
          it(`${who}: ${c.name} (${c.proc})`, async () => {
            const input = c.input(who);
            const expected = expectationFor(c, who);
            const reply = await send[transport](c.proc, input, who);
            const status = typeof expected === "number" ? expected : expected.status;
            expect(reply.status, reply.text).toBe(status);
            if (typeof expected === "number") {
              expect(reply.code, reply.text).toBe(CODES[expected]);
              if (expected === 404) expect(reply.message).toMatch(/not found/);
              // A refusal echoes at most what the caller sent (a viewer may read the agent and its deployments).
              const sent = JSON.stringify(input ?? {});
              const readable = who === "viewer" ? VIEWER_READABLE : [];
              for (const [label, value] of Object.entries(secrets(fx))) {
                if (readable.includes(label) || sent.includes(value)) continue;
                expect(reply.text, `refusal leaks ${label}`).not.toContain(value);
              }
              if (expected === 404) {
                // Indistinguishable from asking about something that does not exist.
                const ghost = ghostOf(fx, input);
                const other = await send[transport](c.proc, ghost.input, who);
                expect(other.status, other.text).toBe(404);
                expect(other.code).toBe(reply.code);
                let translated = reply.message ?? "";
                for (const [real, fake] of ghost.map) translated = translated.split(real).join(fake);
                expect(other.message).toBe(translated);
              }
            } else {
              expected.check(reply.data, who);
            }
            expect(await snapshot(s.db.db), "the database changed").toBe(baseline);
            counts[transport]![String(status)] = (counts[transport]![String(status)] ?? 0) + 1;
          });
        }
      }
    });
  }

  it("A's credentials still work after every attempt", async () => {
    for (const token of [A.token, A.token2, keys.internal, keys.external]) {
      expect((await s.api("GET", `/api/agents/${agent.id}`, { token })).status).toBe(200);
    }
    const grants = await s.api("GET", `/api/agents/${agent.id}/grants`, { token: A.token });
    expect(
      grants.body.map((g: { principal_id: string; role: string }) => [g.principal_id, g.role]).sort(),
    ).toEqual(
      [
        [A.id, "owner"],
        [V.id, "viewer"],
      ].sort(),
    );
  });

  it("a copy of the database holds none of the credentials issued here", async () => {
    const credentials = {
      "admin token": s.adminToken,
      "A token": A.token,
      "A second token": A.token2,
      "B token": B.token,
      "V token": V.token,
      "A's internal key": keys.internal,
      "A's external key": keys.external,
      "B's internal key": B.agentKey,
    };
    const copies = await copyDatabase(s.db);
    const text = copies.map((c) => c.text).join("\n");
    // The copy really holds the credential tables: each credential's hash is there.
    for (const [label, credential] of Object.entries(credentials))
      expect(text, `hash of ${label} in the copy`).toContain(sha256Hex(credential));
    expect(findLeaks(copies, credentials)).toEqual([]);
    // Copying and scanning the embedded data directory on a shared machine: a generous limit, not a speed claim.
  }, 60_000);

  afterAll(() => {
    const total = (t: string) => Object.values(counts[t]!).reduce((a, b) => a + b, 0);
    const fmt = (t: string) =>
      Object.entries(counts[t]!)
        .sort()
        .map(([k, v]) => `${k}×${v}`)
        .join(" ");
    console.log(
      `IDOR summary (${TEST_STORE}): REST ${total("rest")} cases passed [${fmt("rest")}]; ` +
        `tRPC ${total("trpc")} cases passed [${fmt("trpc")}]; ${cases.length} request shapes × ${ATTACKERS.length} callers`,
    );
  });
});
