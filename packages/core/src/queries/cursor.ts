import { invalid } from "../errors.ts";

/**
 * Opaque keyset cursor. The sort key travels as Postgres text (microsecond
 * timestamps survive the round trip, which a JS Date would not), and the
 * scope ties a cursor to the listing and ordering it was issued for (see
 * `pageScope`). A key of several parts (a sort column and its tie-breakers)
 * travels as an array; a one-part key as the bare string.
 */
export function encodeCursor(scope: string, key: string | readonly string[], id: string): string {
  const k = typeof key === "string" || key.length !== 1 ? key : key[0];
  return Buffer.from(JSON.stringify({ s: scope, k, i: id })).toString("base64url");
}

const isText = (v: unknown): v is string => typeof v === "string" && !v.includes("\u0000");

/** The sort key (in `parts` parts) and id a cursor carries, if it was issued for `scope`; else a 422. */
export function decodeCursor(cursor: string, scope: string, parts = 1): { keys: string[]; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      s?: unknown;
      k?: unknown;
      i?: unknown;
    };
    const keys: unknown[] = Array.isArray(parsed.k) ? parsed.k : [parsed.k];
    if (
      parsed.s === scope &&
      keys.length === parts &&
      keys.every(isText) &&
      typeof parsed.i === "string" &&
      /^[0-9a-f-]{36}$/i.test(parsed.i)
    ) {
      return { keys, id: parsed.i };
    }
  } catch {
    // fall through
  }
  throw invalid([{ field: "cursor", message: "is not a cursor issued for this listing and ordering" }]);
}

/**
 * The scope of a list's cursors: the listing, its ordering and its filters. A
 * cursor is honoured only under the scope it was issued for, so one minted
 * under another order_by or order_direction is a 422, never a silently
 * reordered page.
 */
export function pageScope(
  list: string,
  order: { orderBy: string; direction: string },
  ...filters: string[]
): string {
  return [list, order.orderBy, order.direction, ...filters].join(":");
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

/** As `keysetPage`, for rows fetched with their `sort_key` (one part or several; dropped from the page). */
export function sortKeyPage<R extends { id: string; sort_key: string | string[] }>(
  rows: R[],
  limit: number,
  scope: string,
): { rows: Omit<R, "sort_key">[]; nextCursor: string | null } {
  const page = keysetPage(rows, limit, (last) => encodeCursor(scope, last.sort_key, last.id));
  return { rows: page.rows.map(({ sort_key: _, ...row }) => row), nextCursor: page.nextCursor };
}
