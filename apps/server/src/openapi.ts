import { appRouter } from '@agentex/api';
import { generateOpenApiDocument } from 'trpc-to-openapi';

/** Routes outside the REST bridge that need no token; they live at the server root, not under `/api`. */
const ROOT = [{ url: '/', description: 'server root' }];

function publicGet(tag: string, summary: string, description: string, content: Record<string, unknown>) {
  return {
    servers: ROOT,
    get: {
      operationId: summary.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''),
      summary,
      description,
      tags: [tag],
      security: [],
      responses: { '200': { description: 'OK', content } },
    },
  };
}

const statusBody = (values: string[]) => ({
  'application/json': {
    schema: {
      type: 'object',
      properties: { status: { type: 'string', enum: values }, store: { type: 'string', enum: ['embedded', 'postgres'] } },
      required: ['status'],
    },
  },
});

const IDEMPOTENCY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Retry safely: the same key with the same request replays the first answer (status and body) without doing ' +
    'the work again (response header `idempotent-replayed: true`); with a different request it is a 422. Keys are ' +
    "the caller's own and kept 24 h; a duplicate sent while the first is in flight waits for it. 1-255 printable ASCII.",
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

/** Every mutation (POST/PUT/DELETE under /api) takes an Idempotency-Key header. */
function addIdempotencyHeader(paths: object) {
  for (const item of Object.values(paths) as Array<Record<string, unknown>>) {
    for (const method of ['post', 'put', 'patch', 'delete']) {
      const op = item[method] as { parameters?: unknown[] } | undefined;
      if (op) op.parameters = [...(op.parameters ?? []), IDEMPOTENCY_PARAMETER];
    }
  }
}

export function openApiDocument() {
  const doc = generateOpenApiDocument(appRouter, {
    title: 'Agent registry',
    description:
      'Agents are registered at build time (stable id, shareable before they run); deployments register their URLs; one deployment at a time is promoted to production. Wire-compatible with the Agentex REST API for agents and deployments.\n\nEvery operation under `/api` needs `Authorization: Bearer <token>` (use **Authorize**). Health, readiness, this document and the docs page are public.',
    version: '1.0.0',
    baseUrl: '/api',
    openApiVersion: '3.1.0',
  });
  const schemes = doc.components?.securitySchemes ?? {};
  schemes.Authorization = {
    type: 'http',
    scheme: 'bearer',
    description: 'A principal token (`agx_pat_...`) or an agent API key.',
  };
  addIdempotencyHeader(doc.paths ?? {});
  const readyz = publicGet('operations', 'Readiness', 'The store answers a ping; 503 when it does not.', statusBody(['ready', 'unavailable']));
  readyz.get.responses = {
    ...readyz.get.responses,
    '503': { description: 'The store is unreachable', content: statusBody(['unavailable']) },
  } as typeof readyz.get.responses;
  doc.paths = {
    ...doc.paths,
    '/healthz': publicGet('operations', 'Liveness', 'The process is up.', statusBody(['ok'])),
    '/readyz': readyz,
    '/api/openapi.json': publicGet('operations', 'OpenAPI document', 'This document.', { 'application/json': { schema: { type: 'object' } } }),
    '/docs': publicGet('operations', 'API reference', 'This interactive reference (HTML).', { 'text/html': { schema: { type: 'string' } } }),
  };
  return doc;
}
