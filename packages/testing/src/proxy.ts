/**
 * A small HTTP proxy on 127.0.0.1 in front of a server, for the client's
 * tests: it records the requests that reach it and lets a test answer the
 * next ones with faults (a 503, a dropped connection, a stall) before it
 * forwards again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Answers (or drops) a request instead of forwarding it; false forwards it after all. */
export type Fault = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface Proxy {
  url: string;
  /** Requests that reached the proxy under /trpc, as "METHOD path". */
  seen: string[];
  /** The same requests' full URLs (path and query). */
  urls: string[];
  /** The next requests get these faults, one each; then requests are forwarded. */
  faults: Fault[];
  /** Applied to every request once `faults` is empty (null: forward). */
  always: Fault | null;
  reset(): void;
}

/** A proxy to `target()` (read per request, so it may be set after this call). */
export function startProxy(target: () => string): {
  start(): Promise<void>;
  stop(): Promise<void>;
  proxy: Proxy;
} {
  let server: Server;
  const proxy: Proxy = {
    url: "",
    seen: [],
    urls: [],
    faults: [],
    always: null,
    reset() {
      this.seen.length = 0;
      this.urls.length = 0;
      this.faults.length = 0;
      this.always = null;
    },
  };
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string" && !["host", "connection", "content-length"].includes(k)) headers.set(k, v);
    }
    const upstream = await fetch(`${target()}${req.url}`, {
      method: req.method,
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out).end(body);
  };
  return {
    proxy,
    async start() {
      server = createServer((req, res) => {
        void (async () => {
          if (req.url?.startsWith("/trpc/")) {
            proxy.seen.push(`${req.method} ${req.url.split("?")[0]}`);
            proxy.urls.push(req.url);
          }
          const fault = proxy.faults.shift() ?? proxy.always;
          if (fault && (await fault(req, res))) return;
          await forward(req, res);
        })().catch(() => res.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
