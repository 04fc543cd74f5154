import type { FieldIssue } from "@agentex/wire";

/**
 * The one error vocabulary of the registry. Lifecycle and access code throw
 * these; each transport maps a kind to its own status once (HTTP_STATUS here
 * for both HTTP transports, packages/api for tRPC's codes).
 */
export type DomainErrorKind =
  | "invalid"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "precondition"
  | "too_many"
  | "unavailable";

export const HTTP_STATUS: Readonly<Record<DomainErrorKind, number>> = {
  invalid: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition: 412,
  too_many: 429,
  unavailable: 503,
};

export type { FieldIssue };

/** Extra fields an error carries on the wire (e.g. `current_deployment_id` of a PRODUCTION_CHANGED). */
export type ErrorDetails = Record<string, string | number | boolean | null>;

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  readonly issues: FieldIssue[] | undefined;
  /** A more specific wire `code` than its kind's own (e.g. `PRODUCTION_CHANGED` for a 409). */
  readonly reason: string | undefined;
  readonly details: ErrorDetails | undefined;

  constructor(
    kind: DomainErrorKind,
    message: string,
    opts: { issues?: FieldIssue[]; cause?: unknown; reason?: string; details?: ErrorDetails } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "DomainError";
    this.kind = kind;
    this.issues = opts.issues;
    this.reason = opts.reason;
    this.details = opts.details;
  }
}

/**
 * The domain error behind a failure, if any: the error itself, or the cause a
 * transport wrapped it in.
 */
export function domainErrorOf(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  if (err instanceof Error && err.cause instanceof DomainError) return err.cause;
  return undefined;
}

/**
 * Compare-and-swap failure: production is not what the caller expected.
 * 409 with code `PRODUCTION_CHANGED` and the current id in the body.
 */
export const staleProduction = (expected: string | null, current: string | null) =>
  new DomainError(
    "conflict",
    `production changed: expected ${expected === null ? "no production deployment" : `'${expected}'`}, ` +
      `but it is ${current === null ? "none" : `'${current}'`}`,
    { reason: "PRODUCTION_CHANGED", details: { current_deployment_id: current } },
  );

export const notFound = (what: string, ref: string) =>
  new DomainError("not_found", `${what} '${ref}' not found`);
export const conflict = (message: string) => new DomainError("conflict", message);
export const precondition = (message: string) => new DomainError("precondition", message);
export const forbidden = (message = "you may not perform this action on this resource") =>
  new DomainError("forbidden", message);
export const unauthenticated = (message = "missing or invalid bearer token") =>
  new DomainError("unauthenticated", message);
export const unavailable = () => new DomainError("unavailable", "the database is unavailable; retry shortly");

export function invalid(issues: FieldIssue[]): DomainError {
  const summary = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; ");
  return new DomainError("invalid", `invalid input: ${summary}`, { issues });
}
