import type { TRPCLink } from "@trpc/client";
import type { AppRouter } from "./router.ts";
import { observable } from "@trpc/server/observable";
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
 * The client's terminating-side link: retries queries (never mutations) that
 * failed with a 503 or a network error, then turns any failure into an
 * AgentexError. Timeouts and the caller's aborts are not retried.
 */
export function agentexLink(opts: RetryOptions): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let attempt = 0;
        let stopped = false;
        let timer: ReturnType<typeof setTimeout> | undefined;
        let current: { unsubscribe(): void } | undefined;
        let onAbort: (() => void) | undefined;

        const run = () => {
          if (stopped) return;
          attempt += 1;
          current = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (raw) => {
              if (stopped) return;
              const err = AgentexError.fromUnknown(raw, { path: op.path, attempts: attempt });
              const retryable =
                op.type === "query" && err.transient && attempt <= opts.retries && !op.signal?.aborted;
              if (!retryable) {
                observer.error(err);
                return;
              }
              const delay = backoffDelay(attempt, opts, err.retry_after_ms);
              timer = setTimeout(() => {
                if (onAbort) op.signal?.removeEventListener("abort", onAbort);
                run();
              }, delay);
              // An abort while waiting ends the wait: the next attempt fails at once as ABORTED.
              onAbort = () => {
                clearTimeout(timer);
                run();
              };
              op.signal?.addEventListener("abort", onAbort, { once: true });
            },
          });
        };
        run();
        return () => {
          stopped = true;
          clearTimeout(timer);
          if (onAbort) op.signal?.removeEventListener("abort", onAbort);
          current?.unsubscribe();
        };
      });
}
