import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from "@trpc/client";
import { EventSource } from "eventsource";
import type { AppRouter } from "./router.ts";
import { agentexFetch } from "./fetch.ts";
import { agentexLink } from "./retry.ts";

export { AgentexError, isAgentexError, type AgentexErrorCode, type FieldIssue } from "./errors.ts";
export { backoffDelay, type RetryOptions } from "./retry.ts";
export type * from "./types.ts";

/** The typed client: `client.agents.get.query({ agent_id })`, `client.deployments.promote.mutate(...)`, ... */
export type AgentexClient = TRPCClient<AppRouter>;

export interface ClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:8000 (the client talks to `${url}/trpc`). */
  url: string;
  /** Bearer token: a principal's token or an agent API key. */
  token?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * How many times a failed query is retried when the server answered 503 or
   * could not be reached (default 3; 0 turns it off). Mutations are never
   * retried: they may have taken effect.
   */
  retries?: number;
  /** First backoff delay in ms (default 200); doubles per retry, with jitter. */
  retryBaseDelayMs?: number;
  /** Largest backoff delay in ms (default 5000); also caps a server's Retry-After. */
  retryMaxDelayMs?: number;
  /**
   * Abort each HTTP request that has not completed after this many ms
   * (default: no timeout). The call then fails with code `TIMEOUT`; a timed-out
   * call is not retried. A call's own `signal` works as well.
   */
  timeoutMs?: number;
  /** A fetch implementation (default: the global fetch). */
  fetch?: typeof globalThis.fetch;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

/** Most calls the client puts in one /trpc batch: the server's default cap. */
export const MAX_BATCH_ITEMS = 10;

/**
 * A tRPC client typed end to end from the server's router (type-only import:
 * no server code ships). Every failed call rejects with an AgentexError.
 */
export function createClient(opts: ClientOptions): AgentexClient {
  const base = opts.url.replace(/\/+$/, "");
  // 0 (like leaving it out) means no timeout.
  const timeoutMs = nonNegative("timeoutMs", opts.timeoutMs, 0) || undefined;
  const headers = () => ({
    ...opts.headers,
    ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
  });
  const baseFetch = opts.fetch ?? globalThis.fetch;
  return createTRPCClient<AppRouter>({
    links: [
      agentexLink({
        retries: Math.floor(nonNegative("retries", opts.retries, 3)),
        baseDelayMs: nonNegative("retryBaseDelayMs", opts.retryBaseDelayMs, 200),
        maxDelayMs: nonNegative("retryMaxDelayMs", opts.retryMaxDelayMs, 5000),
      }),
      splitLink({
        condition: (op) => op.type === "subscription",
        // Subscriptions (events.watch) over SSE. The `eventsource` package is
        // used everywhere (Node 20 has no EventSource; a browser's cannot send
        // an Authorization header): it reconnects by itself, and tRPC resumes
        // from the last event id it saw. No request timeout applies to a stream.
        true: httpSubscriptionLink({
          url: `${base}/trpc`,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (url, init) => baseFetch(url, { ...init, headers: { ...init.headers, ...headers() } }),
          }),
        }),
        false: httpBatchLink({
          url: `${base}/trpc`,
          // The server refuses batches over AGENTEX_TRPC_MAX_BATCH (default 10): never send more.
          maxItems: MAX_BATCH_ITEMS,
          fetch: agentexFetch({ fetch: opts.fetch, timeoutMs }),
          headers,
        }),
      }),
    ],
  });
}
