import { TRPCError } from "@trpc/server";
import {
  DomainError,
  authenticate,
  domainErrorOf,
  insertPrincipal,
  issueToken,
  type Caller,
} from "@agentex/core";
import { createTestDatabase, type TestDatabase } from "@agentex/db/testing";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { createCaller, createContextInner, toTRPCError } from "../src/index.ts";

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
export interface Rejection {
  /** The tRPC code the call failed with. */
  code: string;
  message: string;
  /** The domain error's fields, when a rule decided the failure. */
  kind?: string;
  issues?: unknown;
  reason?: string;
  details?: unknown;
}

/**
 * How a call failed: its tRPC code and message, with the domain error's own
 * fields beside them. A domain error straight from the core (a worker's
 * stream) reads as the tRPC error it travels as.
 */
export async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  try {
    await promise;
  } catch (thrown) {
    const err = thrown instanceof DomainError ? toTRPCError(thrown) : thrown;
    if (!(err instanceof TRPCError)) throw thrown;
    const domain = domainErrorOf(err);
    return {
      code: err.code,
      message: err.message,
      ...(domain
        ? { kind: domain.kind, issues: domain.issues, reason: domain.reason, details: domain.details }
        : {}),
    };
  }
  throw new Error("expected the call to fail, but it succeeded");
}
