export * from "./schema.ts";
export * from "./database.ts";
export * from "./postgres.ts";
export * from "./embedded.ts";
export { migrateToLatest, MIGRATIONS_DIR } from "./migrate.ts";
export { afterCommit, withTransaction, isRetryable, savepoint, type AfterCommit } from "./tx.ts";
export { dbFailure, type DbFailure } from "./errors.ts";
export type { Kysely, Transaction } from "kysely";
