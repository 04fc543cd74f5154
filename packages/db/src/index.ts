export * from "./schema.ts";
export * from "./connect.ts";
export { migrateToLatest, MIGRATIONS_DIR } from "./migrate.ts";
export { withTransaction, isRetryable, savepoint } from "./tx.ts";
export { dbFailure, type DbFailure } from "./errors.ts";
export type { Kysely, Transaction } from "kysely";
