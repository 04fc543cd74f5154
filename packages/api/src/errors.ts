import {
  type DomainError,
  domainErrorOf,
  type DomainErrorKind,
  type ErrorDetails,
  type FieldIssue,
} from "@agentex/core";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

/** Each domain error kind is exactly one tRPC code, and so one HTTP status. */
const TRPC_CODE: Record<DomainErrorKind, TRPC_ERROR_CODE_KEY> = {
  invalid: "UNPROCESSABLE_CONTENT",
  unauthenticated: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  not_found: "NOT_FOUND",
  conflict: "CONFLICT",
  precondition: "PRECONDITION_FAILED",
  too_many: "TOO_MANY_REQUESTS",
  unavailable: "SERVICE_UNAVAILABLE",
};

/** The tRPC error a domain error travels as; the domain error stays its cause. */
export function toTRPCError(err: DomainError): TRPCError {
  return new TRPCError({ code: TRPC_CODE[err.kind], message: err.message, cause: err });
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
  const domain = domainErrorOf(err);
  const error = domain
    ? toTRPCError(domain)
    : err instanceof TRPCError
      ? err
      : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: err });
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
