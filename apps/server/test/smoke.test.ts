import { describe, expect, it } from "vitest";
import { TEST_STORE } from "@agentex/db/testing";
import { useServer } from "./helpers.ts";

describe(`server smoke (${TEST_STORE})`, () => {
  const s = useServer();

  it("answers health, readiness and the OpenAPI document without a token", async () => {
    expect((await s.api("GET", "/healthz", { token: null })).status).toBe(200);
    expect((await s.api("GET", "/readyz", { token: null })).body).toMatchObject({ status: "ready" });
    const doc = await s.api("GET", "/api/openapi.json", { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
  });

  it("refuses an unauthenticated call with the SPEC error body", async () => {
    const res = await s.api("GET", "/api/agents", { token: null });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      status_code: 401,
      message: expect.any(String),
      code: "UNAUTHORIZED",
      request_id: expect.any(String),
    });
  });
});
