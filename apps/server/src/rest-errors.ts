import type { FastifyError, FastifyInstance } from 'fastify';

interface ErrorBody {
  status_code: number;
  message: string;
  code: string;
  issues?: unknown[];
  request_id: string;
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'PARSE_ERROR',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'PARSE_ERROR',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

/**
 * Every error leaving the server carries the SPEC body. Procedure errors were
 * shaped by the router's errorFormatter; this flattens the REST bridge's copy
 * to `{status_code, message, code, issues?}` and gives the same shape to
 * errors Fastify raises before a route runs (bad JSON, too large, wrong type).
 */
export function installRestErrors(app: FastifyInstance) {
  // Agentex clients POST actions such as promote with no body at all.
  app.removeContentTypeParser('application/json');
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, {});
    json(req, body as string, done);
  });
  app.addHook('preHandler', async (request) => {
    if (request.originalUrl.startsWith('/api/') && request.body === undefined && !request.headers['content-type']) {
      request.headers['content-type'] = 'application/json';
      request.body = {};
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || !request.originalUrl.startsWith('/api/') || typeof payload !== 'string') return payload;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(payload) as Record<string, unknown>;
    } catch {
      return payload;
    }
    if (typeof parsed.message !== 'string' || 'request_id' in parsed) return payload;
    const data = (parsed.data ?? {}) as { code?: unknown; issues?: unknown };
    const issues = Array.isArray(parsed.issues) ? parsed.issues : Array.isArray(data.issues) ? data.issues : undefined;
    const body: ErrorBody = {
      status_code: reply.statusCode,
      message: reply.statusCode >= 500 && reply.statusCode !== 503 ? `internal error (request id ${request.id})` : parsed.message,
      code: typeof parsed.code === 'string' ? parsed.code : typeof data.code === 'string' ? data.code : 'INTERNAL_SERVER_ERROR',
      ...(issues ? { issues } : {}),
      request_id: request.id,
    };
    reply.header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(body);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'unhandled error');
    const body: ErrorBody = {
      status_code: status,
      message: status >= 500 ? `internal error (request id ${request.id})` : error.message,
      code: FASTIFY_CODES[error.code] ?? (status === 413 ? 'PAYLOAD_TOO_LARGE' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST'),
      request_id: request.id,
    };
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      status_code: 404,
      message: `route ${request.method} ${request.url.split('?')[0]} not found`,
      code: 'NOT_FOUND',
      request_id: request.id,
    };
    return reply.code(404).send(body);
  });
}
