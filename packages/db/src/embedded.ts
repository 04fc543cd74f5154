import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Kysely } from "kysely";
import { store, type Database } from "./database.ts";
import { embeddedNotifier } from "./notify.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
import type { DB } from "./schema.ts";

/**
 * PostgreSQL settings of the embedded store. initdb's default shared_buffers
 * (128 MB) is allocated and zeroed inside the WASM heap at every start, so it
 * was resident from the first second whether used or not; a registry's
 * working set is a few MB, and the OS page cache still holds the files.
 */
export const EMBEDDED_SETTINGS = ["-c", "shared_buffers=16MB"];

/** `dataDir` is a directory, or `memory://` for a store that lives and dies with the process. */
export async function connectEmbedded(
  dataDir: string,
  loadDataDir?: Blob,
): Promise<Database & { pglite: PGlite }> {
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir, {
    // Durable: every commit is flushed before the call returns.
    relaxedDurability: false,
    startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
    ...(loadDataDir ? { loadDataDir } : {}),
  });
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  // One process owns the embedded store: an in-process emitter is every replica there is.
  const notifier = embeddedNotifier();
  return { ...store(db, "embedded", notifier, () => ({ total: 1, idle: 1, waiting: 0 })), pglite };
}
