import { bootstrapAdmin } from "@agentex/core";
import { createTestDatabase, type TestDatabase } from "@agentex/db/testing";
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { registryClient, type Json, type RegistryClient } from "@agentex/testing";
import { afterAll, beforeAll } from "vitest";
import { buildServer, type ServerOptions } from "../src/index.ts";

export type { Json };

export const SECRET = Buffer.from("test-secret-key-of-at-least-32-chars!!", "utf8");

export interface TestServer extends RegistryClient {
  app: FastifyInstance;
  db: TestDatabase;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** An admin's bearer token. */
  adminToken: string;
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
  Object.assign(
    state,
    registryClient(() => state),
  );
  return state;
}
