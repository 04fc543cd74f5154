import { z } from "zod";

const NUL = "\u0000";

/** Text that Postgres can store: no NUL bytes, no lone surrogates. */
export function text(max: number) {
  return z
    .string()
    .max(max)
    .refine((s) => !s.includes(NUL), "must not contain NUL bytes")
    .refine((s) => s.isWellFormed(), "must be well-formed Unicode");
}

export const AgentName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9-]+$/, "must match ^[a-z0-9-]+$ (lowercase letters, digits, hyphens)");

export const Uuid = z.uuid();

export const HttpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((s) => !s.includes(NUL), "must not contain NUL bytes");

const MAX_JSON_DEPTH = 16;
const MAX_JSON_BYTES = 64 * 1024;

function jsonProblem(value: unknown, depth = 0): string | null {
  if (depth > MAX_JSON_DEPTH) return `must not nest deeper than ${MAX_JSON_DEPTH} levels`;
  if (typeof value === "string") {
    if (value.includes(NUL)) return "must not contain NUL bytes";
    if (!value.isWellFormed()) return "must be well-formed Unicode";
    return null;
  }
  if (Array.isArray(value)) {
    for (const v of value) {
      const p = jsonProblem(v, depth + 1);
      if (p) return p;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = jsonProblem(k, depth + 1) ?? jsonProblem(v, depth + 1);
      if (p) return p;
    }
  }
  return null;
}

/** A JSON object that fits a jsonb column and stays small enough to serve in lists. */
export const JsonObject = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = jsonProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
  else if (JSON.stringify(value).length > MAX_JSON_BYTES) {
    ctx.addIssue({ code: "custom", message: `must be at most ${MAX_JSON_BYTES} bytes as JSON` });
  }
});

export const IsoTimestamp = z.iso.datetime({ offset: true });

export function iso(d: Date | string): string;
export function iso(d: Date | string | null): string | null;
export function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

export const DeletedResponse = z
  .object({ id: z.string(), message: z.string() })
  .meta({ id: "DeletedResponse" });
export type DeletedResponse = z.infer<typeof DeletedResponse>;

/** Opaque keyset cursor: the sort key and id of the last row of a page. */
export const Cursor = z.string().max(512);
