import { HttpStatusError, RequestTimeoutError, parseRetryAfter } from "./errors.ts";

type Fetch = typeof globalThis.fetch;

/** Whether a JSON body is what the tRPC HTTP protocol answers (one envelope or a batch of them). */
function isTrpcEnvelope(json: unknown): boolean {
  const one = (v: unknown) => !!v && typeof v === "object" && ("error" in v || "result" in v);
  return Array.isArray(json) ? json.length > 0 && json.every(one) : one(json);
}

/**
 * Wraps fetch for the tRPC link:
 * - `timeoutMs`: each HTTP request (one attempt) gets its own AbortSignal
 *   that fires after that long, alongside the caller's signal;
 * - an HTTP error whose body is not a tRPC error (a proxy's 503 page, a server
 *   that is closing) is thrown as an HttpStatusError carrying the status, so
 *   it is classified (and retried) like the server's own errors.
 */
export function agentexFetch(opts: { fetch?: Fetch | undefined; timeoutMs?: number | undefined }): Fetch {
  const inner: Fetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs;
  return async (input, init = {}) => {
    let signal = init.signal ?? undefined;
    let timeout: AbortSignal | undefined;
    if (timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new RequestTimeoutError(timeoutMs)), timeoutMs);
      timer.unref?.();
      timeout = controller.signal;
      signal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    }
    let res: Response;
    try {
      res = await inner(input, { ...init, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (timeout?.aborted && !init.signal?.aborted) throw timeout.reason;
      throw err;
    }
    if (res.ok) return res;
    const text = await res
      .clone()
      .text()
      .catch(() => "");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (isTrpcEnvelope(json)) return res;
    const requestId = res.headers.get("x-request-id");
    const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
    throw new HttpStatusError(
      res.status,
      requestId,
      parseRetryAfter(res.headers.get("retry-after")),
      `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}${snippet ? `: ${snippet}` : ""}`,
    );
  };
}
