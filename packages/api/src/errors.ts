import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

/**
 * The one error vocabulary of the registry. Lifecycle and access code throw
 * these; each kind maps to exactly one tRPC code (and so one HTTP status) here,
 * and the errorFormatter shapes the body for both transports.
 */
export type DomainErrorKind =
  | "invalid" // 422
  | "unauthenticated" // 401
  | "forbidden" // 403
  | "not_found" // 404
  | "conflict" // 409
  | "precondition" // 412
  | "too_many" // 429
  | "unavailable"; // 503

const CODE: Record<DomainErrorKind, TRPC_ERROR_CODE_KEY> = {
  invalid: "UNPROCESSABLE_CONTENT",
  unauthenticated: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  not_found: "NOT_FOUND",
  conflict: "CONFLICT",
  precondition: "PRECONDITION_FAILED",
  too_many: "TOO_MANY_REQUESTS",
  unavailable: "SERVICE_UNAVAILABLE",
};

export interface FieldIssue {
  field: string;
  message: string;
}

/** Extra fields an error carries on the wire (e.g. `current_deployment_id` of a PRODUCTION_CHANGED). */
export type ErrorDetails = Record<string, string | number | boolean | null>;

export class DomainError extends TRPCError {
  readonly kind: DomainErrorKind;
  readonly issues: FieldIssue[] | undefined;
  /** A more specific wire `code` than the tRPC one (e.g. `PRODUCTION_CHANGED` for a 409). */
  readonly reason: string | undefined;
  readonly details: ErrorDetails | undefined;

  constructor(
    kind: DomainErrorKind,
    message: string,
    opts: { issues?: FieldIssue[]; cause?: unknown; reason?: string; details?: ErrorDetails } = {},
  ) {
    super({ code: CODE[kind], message, cause: opts.cause });
    this.kind = kind;
    this.issues = opts.issues;
    this.reason = opts.reason;
    this.details = opts.details;
  }
}

/** What an error says on the wire, whichever transport carries it. */
export interface WireError {
  status: number;
  /** The tRPC code, or a finer one (`PRODUCTION_CHANGED`), or the status's own for the server's own answers. */
  code: string;
  message: string;
  issues?: FieldIssue[] | undefined;
  details?: ErrorDetails | undefined;
}

/**
 * What a failure says on the wire: the status and code of its tRPC code (a
 * domain error's finer `reason` wins), its message, and a domain error's field
 * issues and details. A 500 says only "internal error" and the request id;
 * its cause is logged where it was caught.
 */
export function wireError(err: unknown, requestId: string | null): WireError {
  const error = err instanceof TRPCError ? err : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: err });
  const domain = error instanceof DomainError ? error : undefined;
  return {
    status: getHTTPStatusCodeFromError(error),
    code: domain?.reason ?? error.code,
    message:
      error.code === "INTERNAL_SERVER_ERROR"
        ? `internal error (request id ${requestId ?? "unknown"})`
        : error.message,
    issues: domain?.issues,
    details: domain?.details,
  };
}

/**
 * The SPEC error body, the one every error answer outside tRPC's envelope
 * has (REST, transport limits, unknown routes, docs, metrics, forwarding):
 * `status_code`, `message`, `code`, a 422's field `issues`, the error's own
 * details (`current_deployment_id`) and `request_id`. tRPC's envelope
 * carries the same fields (trpc.ts errorFormatter).
 */
export function errorBody(error: WireError, requestId: string) {
  return {
    status_code: error.status,
    message: error.message,
    code: error.code,
    ...(error.issues ? { issues: error.issues } : {}),
    ...error.details,
    request_id: requestId,
  };
}

/**
 * Compare-and-swap failure: production is not what the caller expected.
 * 409 with code `PRODUCTION_CHANGED` and the current id in the body.
 */
export const productionChanged = (expected: string | null, current: string | null) =>
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
