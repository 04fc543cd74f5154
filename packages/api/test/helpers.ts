import { createTestDatabase, type TestDatabase } from "@agentex/db/testing";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { authenticate, createCaller, createContextInner, type Caller } from "../src/index.ts";
import { insertPrincipal } from "../src/queries/principals.ts";
import { issueToken } from "../src/queries/tokens.ts";

export const SECRET = Buffer.from("test-secret-key-of-at-least-32-chars!!", "utf8");

export interface Fixture {
  db: TestDatabase;
  /** A caller acting as `principal` (no HTTP). */
  as(principal: Caller): ReturnType<typeof createCaller>;
  /** A caller that presents a raw bearer token, as the server would. */
  withToken(token: string | null): ReturnType<typeof createCaller>;
  principal(opts?: {
    admin?: boolean;
    can_create_agents?: boolean;
    kind?: "user" | "service_account";
  }): Promise<{
    principal: Caller;
    token: string;
  }>;
}

/** One migrated database per test file, on whichever store this run targets. */
export function useFixture(): Fixture {
  let db!: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });
  return {
    get db() {
      return db;
    },
    as: (principal) => createCaller(createContextInner({ db: db.db, secretKey: SECRET, principal })),
    withToken: (token) => createCaller(createContextInner({ db: db.db, secretKey: SECRET, token })),
    async principal(opts = {}) {
      const row = await insertPrincipal(db.db, {
        name: `p-${randomBytes(5).toString("hex")}`,
        kind: opts.kind ?? "user",
        admin: opts.admin ?? false,
        can_create_agents: opts.can_create_agents ?? true,
      });
      const { token } = await issueToken(db.db, row!.id, "test");
      const principal = await authenticate(db.db, token);
      return { principal: principal!, token };
    },
  };
}

export function uniqueName(prefix = "agent"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Expects a promise to reject with a tRPC error of `code`; returns the error. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; issues?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string; issues?: unknown };
  }
  throw new Error("expected the call to fail, but it succeeded");
}
