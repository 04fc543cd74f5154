/**
 * What the server and its clients agree on about a failed request. It imports
 * nothing: the published SDK carries a copy of it (the build inlines it), so
 * the SDK stays standalone.
 */

/** One offending input field, as the server names it (422 responses). */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * The SPEC error body, the one every error answer outside tRPC's envelope
 * has (REST, transport limits, unknown routes, docs, metrics, forwarding).
 */
export interface ErrorBody {
  status_code: number;
  message: string;
  code: string;
  /** A 422's offending fields. */
  issues?: FieldIssue[];
  request_id: string;
  /** The error's own details, e.g. a PRODUCTION_CHANGED's `current_deployment_id`. */
  [detail: string]: unknown;
}

/**
 * The error `code` for each HTTP status when nothing finer applies: the server
 * puts it in every error body it writes outside a procedure (transport limits,
 * unknown routes, webhook forwarding), and the client names a status the same
 * way when a response carries no tRPC error body (a proxy's page, a timeout).
 */
export const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  408: "REQUEST_TIMEOUT",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  414: "URI_TOO_LONG",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "UNPROCESSABLE_CONTENT",
  429: "TOO_MANY_REQUESTS",
  431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
  500: "INTERNAL_SERVER_ERROR",
  501: "NOT_IMPLEMENTED",
  502: "BAD_GATEWAY",
  503: "SERVICE_UNAVAILABLE",
  504: "GATEWAY_TIMEOUT",
};

export function codeForStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
}
