import { randomBytes } from "node:crypto";

/** Parsed JSON of whichever route answered: each test reads the fields it expects. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above; unknown would need a cast at every read
export type Json = any;

/** What a test does with a running registry over HTTP, whichever way it was started. */
export interface RegistryClient {
  /** fetch against the server with JSON in and out; `token` null sends no Authorization. */
  api: (
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ) => Promise<{ status: number; body: Json; headers: Headers }>;
  /** Creates a principal over REST as the admin; returns its id and token. */
  principal: (opts?: {
    admin?: boolean;
    can_create_agents?: boolean;
    kind?: "user" | "service_account";
  }) => Promise<{ id: string; token: string }>;
}

/**
 * The JSON client of a registry at `server().url`, as `server().adminToken`
 * unless a call names its own token. Read at each call, so a fixture can hand
 * it out before its server is up.
 */
export function registryClient(server: () => { url: string; adminToken: string }): RegistryClient {
  const api: RegistryClient["api"] = async (method, path, o = {}) => {
    const { url, adminToken } = server();
    const token = o.token === undefined ? adminToken : o.token;
    const headers: Record<string, string> = { ...o.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(o.body !== undefined ? { body: typeof o.body === "string" ? o.body : JSON.stringify(o.body) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the raw text is the body
    }
    return { status: res.status, body, headers: res.headers };
  };
  const principal: RegistryClient["principal"] = async (o = {}) => {
    const res = await api("POST", "/api/principals", {
      body: {
        name: `p-${randomBytes(5).toString("hex")}`,
        kind: o.kind ?? "user",
        admin: o.admin ?? false,
        can_create_agents: o.can_create_agents ?? true,
      },
    });
    const body: unknown = res.body;
    const { id, token } = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
    if (res.status !== 200 || typeof id !== "string" || typeof token !== "string")
      throw new Error(`could not create principal: ${res.status} ${JSON.stringify(body)}`);
    return { id, token };
  };
  return { api, principal };
}
