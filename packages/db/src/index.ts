export * from "./schema.ts";
export * from "./connect.ts";
export { migrateToLatest, MIGRATIONS_DIR } from "./migrate.ts";
export { withTransaction, isRetryable, isUniqueViolation, isConnectionError } from "./tx.ts";
export type { Kysely, Transaction } from "kysely";
