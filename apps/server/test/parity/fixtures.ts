import { createHmac, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Json, TestServer } from "../helpers.ts";

/** A fresh agent name (the test database is shared by a file's tests). */
export function uniqueName(base: string): string {
  return `${base}-${randomBytes(3).toString("hex")}`;
}

/** Status 200 or a thrown error naming the call, for fixture steps. */
export async function ok(
  s: TestServer,
  method: string,
  path: string,
  opts: Parameters<TestServer["api"]>[2] = {},
) {
  const res = await s.api(method, path, opts);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Agentex's fixture agent: registered (legacy) at `acpUrl`, so it has a production URL. */
export async function registeredAgent(s: TestServer, name: string, acpUrl = "http://test-acp:8000") {
  return ok(s, "POST", "/api/agents/register", {
    body: { name, description: "Test agent for integration testing", acp_url: acpUrl, acp_type: "sync" },
  });
}

/** A deployment registered by its pod at `acpUrl` (deployment-scoped register). */
export async function registeredDeployment(
  s: TestServer,
  agentName: string,
  acpUrl: string,
  metadata: Record<string, unknown> = {},
) {
  const deploymentId = randomUUID();
  await ok(s, "POST", "/api/agents/register", {
    body: {
      name: agentName,
      description: "Test agent for integration testing",
      acp_url: acpUrl,
      acp_type: "sync",
      registration_metadata: { deployment_id: deploymentId, ...metadata },
    },
  });
  return deploymentId;
}

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  url: string;
  label: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * A small real HTTP server standing in for a deployment. By default it answers
 * 200 with JSON naming itself and echoing what it got; `handle` may answer
 * otherwise.
 */
export async function startUpstream(
  label: string,
  handle?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
): Promise<Upstream> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (handle) return handle(req, res, body);
      res.writeHead(200, { "content-type": "application/json", "x-upstream": label });
      res.end(JSON.stringify({ label, method: req.method, url: req.url, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    label,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function githubSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function slackSignature(secret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

/**
 * A raw request to the server (forward route) through node:http, so the path
 * goes out byte for byte (fetch would resolve `%2e%2e` itself) and any header
 * may be set. No bearer token unless given in `headers`.
 */
export async function raw(
  s: TestServer,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string; json: Json; headers: Headers }> {
  const { hostname, port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, method, path, headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
          resolve({ status: res.statusCode ?? 0, text, json, headers });
        });
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}
