export * from "./schema.ts";
export * from "./connect.ts";
export { migrateToLatest, MIGRATIONS_DIR } from "./migrate.ts";
export { withTransaction, isRetryable } from "./tx.ts";
export { dbFailure, type DbFailure } from "./errors.ts";
export type { Kysely, Transaction } from "kysely";
