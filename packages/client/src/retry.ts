import { retryLink, type TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import type { AppRouter } from "./router.ts";
import { AgentexError } from "./errors.ts";

export interface RetryOptions {
  /** Retries after the first attempt (0 turns retrying off). */
  retries: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  /** Upper bound of any one delay (also caps a server's Retry-After). */
  maxDelayMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the exponential step, plus a
 * random share of the other half, so concurrent clients spread out. A
 * Retry-After from the server raises the delay (up to maxDelayMs).
 */
export function backoffDelay(
  retry: number,
  opts: RetryOptions,
  retryAfterMs: number | null = null,
  random = Math.random,
): number {
  const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (retry - 1));
  const jittered = step / 2 + random() * (step / 2);
  return Math.min(opts.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * The client's retry policy on tRPC's retryLink: queries (never mutations)
 * that failed with a 503 or a network error are retried with backoffDelay;
 * timeouts and the caller's aborts are not. Every failure leaves as an
 * AgentexError carrying the call's path and attempt count.
 *
 * retryLink asks `retryDelayMs` with the attempt number only, so each call
 * gets its own retryLink whose callbacks share that call's last failure: its
 * Retry-After (from the response headers, or from agentexFetch's
 * HttpStatusError for a body that is not tRPC's) sets the delay. retryLink's
 * wait does not watch the call's signal, so an abort during the wait ends the
 * call here, at once, as ABORTED.
 */
export function agentexLink(opts: RetryOptions): TRPCLink<AppRouter> {
  return (runtime) =>
    ({ op, next }) =>
      observable((observer) => {
        let failure: AgentexError | undefined;
        let waiting = false;
        const retrying = retryLink<AppRouter>({
          retry: ({ attempts, error }) => {
            failure = AgentexError.fromUnknown(error, { path: op.path, attempts });
            waiting =
              op.type === "query" && failure.transient && attempts <= opts.retries && !op.signal?.aborted;
            return waiting;
          },
          retryDelayMs: (attempts) => backoffDelay(attempts, opts, failure?.retry_after_ms),
        })(runtime);
        const call = retrying({
          op,
          next: (attempt) => {
            waiting = false;
            return next(attempt);
          },
        }).subscribe({
          next: (value) => observer.next(value),
          complete: () => observer.complete(),
          error: (raw) => observer.error(failure ?? AgentexError.fromUnknown(raw, { path: op.path })),
        });
        const onAbort = () => {
          if (!waiting) return; // an attempt in flight fails by itself, as ABORTED
          call.unsubscribe();
          const aborted = new DOMException("This operation was aborted", "AbortError");
          observer.error(AgentexError.fromUnknown(aborted, { path: op.path, attempts: failure?.attempts }));
        };
        op.signal?.addEventListener("abort", onAbort, { once: true });
        return () => {
          op.signal?.removeEventListener("abort", onAbort);
          call.unsubscribe();
        };
      });
}
