import { z } from "zod";
import { invalid } from "../errors.ts";
import { Cursor } from "./common.ts";

export const OrderDirection = z.enum(["asc", "desc"]);
export type OrderDirection = z.infer<typeof OrderDirection>;

/** The largest page any list returns (documented in the README). */
export const MAX_PAGE_SIZE = 1000;
export const MAX_PAGE_NUMBER = 1_000_000;

export const PageLimit = z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50);

/**
 * The paging fields of a REST list that keeps Agentex's bare-array shape:
 * `limit` (default 50), offset pages by `page_number`, or an opaque keyset
 * `cursor` (handed out in the `x-next-cursor` header), ordered by one of
 * `orderBy` (the first is the default), newest first by default.
 * `page_number` has no schema default, so `pageOf` can tell it was sent.
 */
export function pagingFields<const O extends readonly [string, ...string[]]>(orderBy: O) {
  return {
    limit: PageLimit,
    page_number: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_PAGE_NUMBER)
      .optional()
      .meta({ description: "1-based page (default 1); or page with `cursor`" }),
    order_by: z.enum(orderBy).default(orderBy[0]),
    order_direction: OrderDirection.default("desc"),
    cursor: Cursor.optional().meta({
      description:
        'Opaque keyset cursor from the `x-next-cursor` response header (or the `Link: rel="next"` URL): pages stay fast at any depth. Only with the `order_by` and `order_direction` it was issued under; not with `page_number`.',
    }),
  };
}

export type PageStart = { cursor: string } | { offset: number };

/**
 * Where a list page starts: after `cursor`, or at `page_number` (default 1).
 * Both at once is a 422 naming `cursor`, whatever the page number: neither is
 * silently preferred. (A cursor from another ordering is refused where it is
 * decoded, against its scope: `pageScope`.)
 */
export function pageOf(input: {
  limit: number;
  page_number?: number | undefined;
  cursor?: string | undefined;
}): PageStart {
  if (input.cursor !== undefined && input.page_number !== undefined) {
    throw invalid([{ field: "cursor", message: "give either cursor or page_number, not both" }]);
  }
  if (input.cursor !== undefined) return { cursor: input.cursor };
  return { offset: ((input.page_number ?? 1) - 1) * input.limit };
}
