import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";
import { sendError } from "./rest-errors.ts";

/**
 * `/docs`: Swagger UI over `/api/openapi.json`, served from the swagger-ui-dist
 * npm package (no CDN, works offline). "Authorize" takes a bearer token and
 * "Try it out" calls the REST bridge from the page.
 */

const ASSETS_DIR = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Agent registry API</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`;

// Swagger UI styles inline and draws icons from data: URIs; nothing leaves the origin.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

export function installDocs(app: FastifyInstance): void {
  const files = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(join(ASSETS_DIR, name))]));

  const page = async (_req: unknown, reply: FastifyReply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", CSP)
      .header("cache-control", "no-cache")
      .send(HTML);
  app.get("/docs", page);
  app.get("/docs/", page);
  app.get("/docs/assets/init.js", async (_req, reply) =>
    reply.type("application/javascript; charset=utf-8").header("cache-control", "no-cache").send(INIT_JS),
  );
  app.get<{ Params: { file: string } }>("/docs/assets/:file", async (req, reply) => {
    const body = files.get(req.params.file);
    const type = ASSETS[req.params.file];
    if (!body || !type) return sendError(reply, 404, "asset not found");
    return reply.type(type).header("cache-control", "public, max-age=3600").send(body);
  });
}
