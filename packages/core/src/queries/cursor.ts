import { invalid } from "../errors.ts";

/**
 * Opaque keyset cursor. The sort key travels as Postgres text (microsecond
 * timestamps survive the round trip, which a JS Date would not), and the
 * scope ties a cursor to the ordering it was issued for.
 */
export function encodeCursor(scope: string, key: string, id: string): string {
  return Buffer.from(JSON.stringify({ s: scope, k: key, i: id })).toString("base64url");
}

export function decodeCursor(cursor: string, scope: string): { key: string; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      s?: unknown;
      k?: unknown;
      i?: unknown;
    };
    if (
      parsed.s === scope &&
      typeof parsed.k === "string" &&
      typeof parsed.i === "string" &&
      /^[0-9a-f-]{36}$/i.test(parsed.i) &&
      !parsed.k.includes("\u0000")
    ) {
      return { key: parsed.k, id: parsed.i };
    }
  } catch {
    // fall through
  }
  throw invalid([{ field: "cursor", message: "is not a cursor issued for this listing and ordering" }]);
}

/**
 * A keyset page from `limit + 1` fetched rows: the first `limit`, and the
 * cursor after the last of them when the extra row shows that more follow.
 */
export function keysetPage<R>(
  rows: R[],
  limit: number,
  cursorAfter: (last: R) => string,
): { rows: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > limit && last ? cursorAfter(last) : null };
}

/** As `keysetPage`, for rows fetched with their `sort_key` (dropped from the page). */
export function sortKeyPage<R extends { id: string; sort_key: string }>(
  rows: R[],
  limit: number,
  scope: string,
): { rows: Omit<R, "sort_key">[]; nextCursor: string | null } {
  const page = keysetPage(rows, limit, (last) => encodeCursor(scope, last.sort_key, last.id));
  return { rows: page.rows.map(({ sort_key: _, ...row }) => row), nextCursor: page.nextCursor };
}
