import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { connectEmbedded, connectPostgres, migrateToLatest, type Database } from "@agentex/db";
import type { Config } from "./config.ts";
import { COMPILED_MIGRATIONS_DIR, loadEmbeddedImage } from "./embedded-image.ts";

export interface Store {
  database: Database;
  secretKey: Buffer;
}

/**
 * The embedded store keeps its own secret beside the data, so derived agent
 * keys survive restarts; a shared Postgres needs the secret from the operator.
 */
function embeddedSecret(dataDir: string): Buffer {
  if (dataDir.startsWith("memory://")) return randomBytes(32);
  const file = join(dataDir, "secret.key");
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
  return Buffer.from(readFileSync(file, "utf8").trim(), "utf8");
}

/**
 * One server per data directory. PGlite has no inter-process lock (its own
 * postmaster.pid check cannot see other processes from inside WASM), so a
 * second server started on the same directory would open it too and both
 * would write the same files: corruption. A pid file held for the life of the
 * process refuses the second one; a pid file left by a killed process (its
 * pid no longer runs, or it ran on another host, where it cannot be checked)
 * is taken over, so a store left by SIGKILL still opens. Returns the release
 * function.
 */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, "agentex.pid");
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, me, { flag: "wx" });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(file, "utf8").trim() === me) unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.once("exit", release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder = "";
    try {
      holder = readFileSync(file, "utf8").trim();
    } catch {
      // removed meanwhile: try again
    }
    const [pid, host] = holder.split("@");
    const holderPid = Number(pid);
    if (
      host === hostname() &&
      Number.isInteger(holderPid) &&
      holderPid > 0 &&
      holderPid !== process.pid &&
      isRunning(holderPid)
    ) {
      throw new Error(
        `AGENTEX_DATA_DIR ${dataDir} is in use by another agentex process (pid ${holderPid}); stop it first`,
      );
    }
    try {
      unlinkSync(file); // stale: its process is gone
    } catch {
      // someone else removed it
    }
  }
  throw new Error(`AGENTEX_DATA_DIR ${dataDir}: could not take the lock file ${file}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The embedded data directory holds every row and credential hash, so it is
 * kept as PostgreSQL keeps its own: the directory 0700, its files 0600, the
 * process umask 077 so files created later are private too. A directory that
 * others can read, or that another user owns, is refused with one clear line.
 */
function secureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const st = statSync(dataDir);
  const mode = st.mode & 0o777;
  if (mode & 0o077) {
    throw new Error(
      `AGENTEX_DATA_DIR ${dataDir} is accessible by other users (mode ${mode.toString(8).padStart(4, "0")}); it holds every row and credential hash: run chmod 700 ${dataDir}`,
    );
  }
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
    throw new Error(
      `AGENTEX_DATA_DIR ${dataDir} is owned by uid ${st.uid}, not by this process (uid ${process.getuid()}); run the server as its owner`,
    );
  }
  try {
    process.umask(0o077);
  } catch {
    // worker threads cannot change the umask; restrictTree below still applies
  }
}

/** Removes group/other permissions from everything under `dir` (PGlite creates its files with the default mode). */
function restrictTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictTree(path);
    else if (entry.isFile()) chmodSync(path, statSync(path).mode & 0o700);
  }
}

export async function openStore(config: Config, onPoolError?: (err: Error) => void): Promise<Store> {
  if (config.databaseUrl) {
    const database = connectPostgres({
      url: config.databaseUrl,
      max: config.dbPoolMax,
      acquireTimeoutMs: config.dbAcquireTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      ...(onPoolError ? { onPoolError } : {}),
    });
    return { database, secretKey: Buffer.from(config.secretKey ?? "", "utf8") };
  }
  let release = () => {};
  if (!config.dataDir.startsWith("memory://")) {
    secureDataDir(config.dataDir);
    release = lockDataDir(config.dataDir);
  }
  let database: Database;
  try {
    // A fresh directory (or memory://) starts from the pre-built, pre-migrated image when there is one.
    const fresh = config.dataDir.startsWith("memory://") || !existsSync(join(config.dataDir, "PG_VERSION"));
    database = await connectEmbedded(config.dataDir, (fresh && loadEmbeddedImage()) || undefined);
  } catch (err) {
    release();
    throw err;
  }
  const close = database.close.bind(database);
  database.close = async () => {
    await close();
    release();
  };
  const secretKey = config.secretKey ? Buffer.from(config.secretKey, "utf8") : embeddedSecret(config.dataDir);
  if (!config.dataDir.startsWith("memory://")) restrictTree(config.dataDir);
  return { database, secretKey };
}

export async function migrate(store: Store): Promise<string[]> {
  // Compiled, the migrations compiled beside the server; from source, the repository's migrations/.
  const result = await migrateToLatest(store.database.db, COMPILED_MIGRATIONS_DIR ?? undefined);
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
