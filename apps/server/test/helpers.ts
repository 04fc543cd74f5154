import { bootstrapAdmin } from "@agentex/core";
import { createTestDatabase, type TestDatabase } from "@agentex/db/testing";
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import { buildServer, type ServerOptions } from "../src/index.ts";

/** Parsed JSON of whichever route answered: each test reads the fields it expects. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above; unknown would need a cast at every read
export type Json = any;

export const SECRET = Buffer.from("test-secret-key-of-at-least-32-chars!!", "utf8");

export interface TestServer {
  app: FastifyInstance;
  db: TestDatabase;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** An admin's bearer token. */
  adminToken: string;
  /** fetch against the server with JSON in and out; `token` null sends no Authorization. */
  api(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{
    status: number;
    body: Json;
    headers: Headers;
  }>;
  /** Creates a principal over REST as the admin; returns its id and token. */
  principal(opts?: {
    admin?: boolean;
    can_create_agents?: boolean;
    kind?: "user" | "service_account";
  }): Promise<{
    id: string;
    token: string;
  }>;
}

/** A real HTTP server on an ephemeral port over a fresh test database, for one test file. */
export function useServer(extra: Partial<ServerOptions> = {}): TestServer {
  const state = {} as TestServer;
  beforeAll(async () => {
    const db = await createTestDatabase();
    const app = await buildServer({ database: db, secretKey: SECRET, logLevel: "silent", ...extra });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const adminToken = `agx_pat_test_admin_${randomBytes(12).toString("hex")}`;
    await bootstrapAdmin(db.db, adminToken);
    Object.assign(state, { app, db, url: `http://127.0.0.1:${port}`, adminToken });
  });
  afterAll(async () => {
    await state.app?.close();
    await state.db?.close();
  });
  state.api = async (method, path, opts = {}) => {
    const token = opts.token === undefined ? state.adminToken : opts.token;
    const headers: Record<string, string> = { ...opts.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(`${state.url}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined
        ? { body: typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) }
        : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the raw text is the body
    }
    return { status: res.status, body, headers: res.headers };
  };
  state.principal = async (opts = {}) => {
    const res = await state.api("POST", "/api/principals", {
      body: {
        name: `p-${randomBytes(5).toString("hex")}`,
        kind: opts.kind ?? "user",
        admin: opts.admin ?? false,
        can_create_agents: opts.can_create_agents ?? true,
      },
    });
    if (res.status !== 200)
      throw new Error(`could not create principal: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string, token: res.body.token as string };
  };
  return state;
}
