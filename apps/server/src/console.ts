import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, relative, sep } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendError } from "./rest-errors.ts";

/**
 * `/console`: the operator console (apps/console), a static single-page app
 * built by `pnpm build`. Every file is read once at start and served from
 * memory; the page may talk to this origin only (CSP), so it works offline.
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

// React renders no inline script; connect-src covers the tRPC calls and the change feed (SSE).
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function consoleDistDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve("@agentex/console/package.json");
    const dist = join(dirname(pkg), "dist");
    return existsSync(join(dist, "index.html")) ? dist : null;
  } catch {
    return null;
  }
}

function readTree(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(relative(root, full).split(sep).join("/"), readFileSync(full));
    }
  };
  walk(root);
  return files;
}

export function installConsole(app: FastifyInstance, dist = consoleDistDir()): void {
  const files = dist ? readTree(dist) : new Map<string, Buffer>();
  const index = files.get("index.html");

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!index) {
      return sendError(reply, 503, "the console is not built: run `pnpm build`");
    }
    return reply
      .type(TYPES[".html"]!)
      .header("content-security-policy", CONSOLE_CSP)
      .header("cache-control", "no-cache")
      .send(index);
  };
  app.get("/console", page);
  app.get("/console/", page);
  app.get<{ Params: { "*": string } }>("/console/*", async (req, reply) => {
    const path = req.params["*"];
    const body = files.get(path);
    const type = TYPES[extname(path)];
    if (!body || !type || path === "index.html") {
      return sendError(reply, 404, "console file not found");
    }
    // Vite names assets by content hash: they never change under one name.
    const immutable = path.startsWith("assets/");
    return reply
      .type(type)
      .header("content-security-policy", CONSOLE_CSP)
      .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache")
      .send(body);
  });
}
