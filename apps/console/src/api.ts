import { AgentexError, createClient, type AgentexClient } from "@agentex/client";

/** The console talks to the server that serves it: same origin, so the CSP needs nothing else. */
export function consoleClient(token: string): AgentexClient {
  return createClient({ url: window.location.origin, token, retries: 2, timeoutMs: 30_000 });
}

/** What the page shows for a failed call: the API's message and its request id. */
export interface ShownError {
  message: string;
  code: string | null;
  requestId: string | null;
  status: number | null;
}

export function describeError(err: unknown): ShownError {
  if (err instanceof AgentexError) {
    return { message: err.message, code: err.code, requestId: err.request_id, status: err.status_code };
  }
  return {
    message: err instanceof Error ? err.message : String(err),
    code: null,
    requestId: null,
    status: null,
  };
}

export function isUnauthenticated(err: unknown): boolean {
  return err instanceof AgentexError && err.status_code === 401;
}
