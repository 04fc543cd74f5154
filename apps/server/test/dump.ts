import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import type { TestDatabase } from "@agentex/db/testing";
import { sql } from "kysely";

/**
 * Copies of a test database as an attacker holding a backup would see them,
 * and the forms a leaked credential could take inside one.
 */

/** pg_dump for the Postgres run: the newest installed, else the wrapper. Never silently absent. */
export function findPgDump(): string {
  const candidates: string[] = [];
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`${base}/${v}/bin/pg_dump`);
  }
  candidates.push("/usr/bin/pg_dump");
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `pg_dump not found (looked in ${candidates.join(", ")}): install postgresql-client to run the credential dump test on Postgres`,
    );
  }
  return found;
}

export interface DatabaseCopy {
  /** What was dumped, for the report. */
  kind: string;
  /** The copy as text. */
  text: string;
  /** The copy as raw bytes (for the embedded store: the whole data directory). */
  raw: Buffer;
}

/**
 * Postgres: `pg_dump` of the test file's scratch database (schema and data).
 * Embedded: every row of every table as JSON text, plus the raw PGlite data
 * directory (heap files, WAL) so nothing that reached the store can hide.
 */
export async function copyDatabase(database: TestDatabase): Promise<DatabaseCopy[]> {
  if (database.kind === "postgres") {
    if (!database.url) throw new Error("the Postgres test database has no url; cannot run pg_dump");
    const text = execFileSync(findPgDump(), ["--no-owner", "--no-privileges", database.url], {
      encoding: "utf8",
      maxBuffer: 512 * 1024 * 1024,
    });
    return [{ kind: "pg_dump", text, raw: Buffer.from(text, "utf8") }];
  }
  const copies: DatabaseCopy[] = [];
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(database.db);
  const lines: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{
      row: string;
    }>`select row_to_json(t)::text as row from ${sql.table(table_name)} t`.execute(database.db);
    lines.push(`-- ${table_name}`);
    for (const r of rows.rows) lines.push(r.row);
  }
  const text = lines.join("\n");
  copies.push({ kind: "all rows of every table", text, raw: Buffer.from(text, "utf8") });
  const pglite = (database as unknown as { pglite?: { dumpDataDir(c: "none"): Promise<Blob> } }).pglite;
  if (!pglite)
    throw new Error(
      "the embedded test database does not expose its PGlite instance; cannot copy its data directory",
    );
  const raw = Buffer.from(await (await pglite.dumpDataDir("none")).arrayBuffer());
  copies.push({ kind: "PGlite data directory", text: "", raw });
  return copies;
}

/** The forms in which a credential could sit in a copy: itself, its secret part, base64/hex of either. */
export function leakForms(credential: string): string[] {
  const secretPart = credential.replace(/^agx_(pat|key)_/, "");
  const forms = new Set<string>([credential, secretPart]);
  for (const s of [credential, secretPart]) {
    const bytes = Buffer.from(s, "utf8");
    forms.add(bytes.toString("hex"));
    forms.add(bytes.toString("hex").toUpperCase());
    forms.add(bytes.toString("base64"));
    forms.add(bytes.toString("base64url"));
  }
  // The secret part is base64url of random bytes: those bytes, stored raw or re-encoded.
  if (/^[A-Za-z0-9_-]+$/.test(secretPart)) {
    const decoded = Buffer.from(secretPart, "base64url");
    if (decoded.length >= 16) {
      forms.add(decoded.toString("hex"));
      forms.add(decoded.toString("hex").toUpperCase());
      forms.add(decoded.toString("base64"));
    }
  }
  return [...forms].filter((f) => f.length >= 16);
}

export function sha256Hex(credential: string): string {
  return createHash("sha256").update(credential, "utf8").digest("hex");
}

/**
 * Every form searched for is made of base64/base64url/hex characters (and `_`), so only runs of
 * those characters in the raw bytes can hold one: extracting them once keeps the search over a
 * 40 MB data directory fast.
 */
function candidateRuns(raw: Buffer): string {
  return (raw.toString("latin1").match(/[A-Za-z0-9_+/=-]{16,}/g) ?? []).join("\n");
}

/** Each credential form found in any copy, as "copy kind: credential label (form)". */
export function findLeaks(copies: DatabaseCopy[], credentials: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const copy of copies) {
    const runs = candidateRuns(copy.raw);
    for (const [label, credential] of Object.entries(credentials)) {
      for (const form of leakForms(credential)) {
        if (!/^[A-Za-z0-9_+/=-]+$/.test(form))
          throw new Error(`a leak form of ${label} has characters the search does not cover`);
        if ((copy.text && copy.text.includes(form)) || runs.includes(form)) {
          leaks.push(
            `${copy.kind}: ${label} (${form === credential ? "verbatim" : `as ${form.slice(0, 10)}...`})`,
          );
        }
      }
    }
  }
  return leaks;
}
