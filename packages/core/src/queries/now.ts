import { sql } from "kysely";

/**
 * The database's clock, for timestamps that lifecycle code writes: every
 * replica then stamps by the one clock that also orders the writes.
 */
export const dbNow = () => sql<Date>`now()`;
