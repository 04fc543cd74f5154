import { TRPCClientError } from "@trpc/client";
import { codeForStatus } from "./codes.ts";
import type { AppRouter, FieldIssue } from "./router.ts";

/** One offending input field, as the server names it (422 responses). */
export type { FieldIssue };

/**
 * The server's tRPC error codes, plus the client's own for failures that
 * never got an answer from the server.
 */
export type AgentexErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_SUPPORTED"
  | "REQUEST_TIMEOUT"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "PAYLOAD_TOO_LARGE"
  | "URI_TOO_LONG"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNPROCESSABLE_CONTENT"
  | "TOO_MANY_REQUESTS"
  | "REQUEST_HEADER_FIELDS_TOO_LARGE"
  | "INTERNAL_SERVER_ERROR"
  | "NOT_IMPLEMENTED"
  | "BAD_GATEWAY"
  | "SERVICE_UNAVAILABLE"
  | "GATEWAY_TIMEOUT"
  /** No response: connection refused or reset, DNS failure, ... */
  | "NETWORK_ERROR"
  /** No response within the client's `timeoutMs`. */
  | "TIMEOUT"
  /** The caller aborted the call through its own `signal`. */
  | "ABORTED"
  /** A response arrived but was not one the client understands. */
  | "BAD_RESPONSE"
  /** 409 from a compare-and-swap promote/rollback: production is not what was expected (see `current_deployment_id`). */
  | "PRODUCTION_CHANGED"
  /** 422: the idempotency key was already used with a different request. */
  | "IDEMPOTENCY_KEY_REUSED"
  | (string & {});

/**
 * Thrown by the client's fetch when a response is an HTTP error that is not a
 * tRPC error body (a proxy's 502/503 page, a server that is shutting down).
 * It becomes the `cause` of the AgentexError.
 */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly requestId: string | null,
    readonly retryAfterMs: number | null,
    message: string,
  ) {
    super(message);
    this.name = "HttpStatusError";
  }
}

/** The client's timeout fired before the response was complete. */
export class RequestTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/** The `data` of the server's error shape (its errorFormatter); any field may be missing from a foreign body. */
type ServerErrorData = Partial<NonNullable<TRPCClientError<AppRouter>["data"]>>;

/** Keys of the error data every error has; anything else is a detail of that error. */
const SHAPE_DATA_KEYS = new Set(["code", "httpStatus", "path", "request_id", "issues", "stack"]);

function asRecord(v: unknown): Record<string, unknown> | null {
  return v && typeof v === "object" ? (v as Record<string, unknown>) : null;
}

/** Milliseconds from a Retry-After header (seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Every failed call of an Agentex client rejects with one of these: the
 * server's error body (`status_code`, `code`, `issues`, `request_id`) or the
 * client's own reason (`NETWORK_ERROR`, `TIMEOUT`, ...; `status_code` null).
 *
 * It is a TRPCClientError too, so `shape`, `data` and `meta` stay available
 * and code written against plain tRPC keeps working.
 */
export class AgentexError extends TRPCClientError<AppRouter> {
  /** HTTP status of the response; null when none arrived. */
  readonly status_code: number | null;
  readonly code: AgentexErrorCode;
  /** Field issues of a validation error (422); empty otherwise. */
  readonly issues: FieldIssue[];
  /** The server's request id (also in its logs), when a response arrived. */
  readonly request_id: string | null;
  /** The procedure called, e.g. `agents.get`. */
  readonly path: string | null;
  /** How many HTTP attempts were made (more than 1 after retries). */
  readonly attempts: number;
  /** Suggested wait before retrying (from Retry-After), if the server sent one. */
  readonly retry_after_ms: number | null;
  /** Extra fields of the server's error (e.g. `current_deployment_id` of a PRODUCTION_CHANGED); empty otherwise. */
  readonly details: Record<string, unknown>;

  private constructor(
    base: TRPCClientError<AppRouter>,
    fields: {
      status_code: number | null;
      code: AgentexErrorCode;
      issues: FieldIssue[];
      request_id: string | null;
      path: string | null;
      attempts: number;
      retry_after_ms: number | null;
      message: string;
      details?: Record<string, unknown>;
    },
  ) {
    super(fields.message, {
      ...(base.shape ? { result: { error: base.shape } } : {}),
      ...(base.cause ? { cause: base.cause } : {}),
      ...(base.meta ? { meta: base.meta } : {}),
    });
    // TRPCClientError pins its own prototype; restore ours.
    Object.setPrototypeOf(this, AgentexError.prototype);
    this.name = "AgentexError";
    this.status_code = fields.status_code;
    this.code = fields.code;
    this.issues = fields.issues;
    this.request_id = fields.request_id;
    this.path = fields.path;
    this.attempts = fields.attempts;
    this.retry_after_ms = fields.retry_after_ms;
    this.details = fields.details ?? {};
  }

  /**
   * For a PRODUCTION_CHANGED: the production deployment now (null: none), to
   * re-check and retry against. Undefined for any other error.
   */
  get current_deployment_id(): string | null | undefined {
    const value = this.details.current_deployment_id;
    return typeof value === "string" || value === null ? value : undefined;
  }

  /** Whether a retry of the same idempotent call may succeed. */
  get transient(): boolean {
    return this.code === "NETWORK_ERROR" || this.status_code === 503;
  }

  /** Converts whatever a tRPC link reported into an AgentexError. */
  static fromUnknown(err: unknown, opts: { path?: string | null; attempts?: number } = {}): AgentexError {
    if (err instanceof AgentexError) return err;
    const base = TRPCClientError.from<AppRouter>(
      err instanceof Error || asRecord(err) ? (err as Error) : new Error(String(err)),
    );
    const data = asRecord(base.data) as ServerErrorData | null;
    const shape = asRecord(base.shape);
    const response = asRecord(base.meta)?.response as Response | undefined;
    const cause: unknown = base.cause;
    const attempts = opts.attempts ?? 1;
    const path = opts.path ?? data?.path ?? null;
    const headerRequestId = response?.headers?.get("x-request-id") ?? null;
    const retryAfter = parseRetryAfter(response?.headers?.get("retry-after"));

    if (data && typeof data.httpStatus === "number") {
      const shapeIssues = shape?.issues;
      const issues = data.issues ?? (Array.isArray(shapeIssues) ? (shapeIssues as FieldIssue[]) : []);
      return new AgentexError(base, {
        status_code: data.httpStatus,
        code: data.code ?? codeForStatus(data.httpStatus),
        issues,
        request_id: data.request_id ?? headerRequestId,
        path,
        attempts,
        retry_after_ms: retryAfter,
        message: base.message,
        details: Object.fromEntries(Object.entries(data).filter(([k]) => !SHAPE_DATA_KEYS.has(k))),
      });
    }
    if (cause instanceof HttpStatusError) {
      return new AgentexError(base, {
        status_code: cause.status,
        code: codeForStatus(cause.status),
        issues: [],
        request_id: cause.requestId,
        path,
        attempts,
        retry_after_ms: cause.retryAfterMs,
        message: cause.message,
      });
    }
    const name = cause instanceof Error ? cause.name : "";
    let code: AgentexErrorCode = "NETWORK_ERROR";
    let message: string;
    if (name === "TimeoutError") {
      code = "TIMEOUT";
      message = cause instanceof RequestTimeoutError ? cause.message : "the request timed out";
    } else if (name === "AbortError") {
      code = "ABORTED";
      message = "the call was aborted";
    } else if (cause instanceof SyntaxError) {
      code = "BAD_RESPONSE";
      message = `unexpected response from the server: ${base.message}`;
    } else {
      const detail = asRecord(asRecord(cause)?.cause);
      const sys = typeof detail?.code === "string" ? ` (${detail.code})` : "";
      message = `could not reach the server${sys}: ${base.message}`;
    }
    return new AgentexError(base, {
      status_code: response ? response.status : null,
      code,
      issues: [],
      request_id: headerRequestId,
      path,
      attempts,
      retry_after_ms: null,
      message,
    });
  }
}

export function isAgentexError(err: unknown): err is AgentexError {
  return err instanceof AgentexError;
}
