import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { AppRouter, RouterInputs, RouterOutputs } from '@agentex/api';

export type { AppRouter, RouterInputs, RouterOutputs };
export type Agent = RouterOutputs['agents']['get'];
export type RegisteredAgent = RouterOutputs['agents']['register'];
export type Deployment = RouterOutputs['deployments']['get'];
export type Grant = RouterOutputs['grants']['set'];

export interface ClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:8000 (the client talks to `${url}/trpc`). */
  url: string;
  /** Bearer token: a principal's token or an agent API key. */
  token?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** A tRPC client typed end to end from the server's router (type-only import: no server code ships). */
export function createClient(opts: ClientOptions): TRPCClient<AppRouter> {
  const base = opts.url.replace(/\/+$/, '');
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/trpc`,
        headers: () => ({
          ...opts.headers,
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        }),
      }),
    ],
  });
}
