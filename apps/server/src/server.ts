import { randomUUID } from 'node:crypto';
import { AuthCache, appRouter, createContextInner, type AuthCacheOptions, type LifecycleEvents } from '@agentex/api';
import type { Database } from '@agentex/db';
import type { TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { installDocs } from './docs.ts';
import { createMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { installRestBridge } from './rest-bridge.ts';
import { installTrpcFastPath } from './trpc-fast.ts';
import { frameworkErrors, installRestErrors } from './rest-errors.ts';

export interface ServerOptions {
  database: Database;
  secretKey: Buffer;
  logLevel?: string;
  bodyLimitBytes?: number;
  events?: LifecycleEvents;
  /** When set, `/metrics` requires `Authorization: Bearer <metricsToken>`; otherwise it is open (restrict it at the network). */
  metricsToken?: string | null;
  /** Where log lines go (tests); stdout by default. */
  logStream?: { write(line: string): void };
  /**
   * The in-process cache of authenticated principals (default: 10,000 entries,
   * 5 s); `false` asks the database on every call. Invalidated at once on this
   * replica and over LISTEN/NOTIFY on the others.
   */
  authCache?: Pick<AuthCacheOptions, 'max' | 'ttlMs'> | false;
  /** Extra routes (metrics, docs) registered by the host. */
  plugins?: Array<(app: FastifyInstance) => void | Promise<void>>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function bearer(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1]) return match[1];
  }
  // Agentex agents send their key in this header.
  const agentKey = req.headers['x-agent-api-key'];
  return typeof agentKey === 'string' && agentKey ? agentKey : null;
}

/** REST lists keep their bare-array body; the next page is announced in headers. */
function setNextCursor(req: FastifyRequest, reply: FastifyReply, cursor: string) {
  const url = new URL(req.originalUrl, 'http://localhost');
  url.searchParams.delete('page_number');
  url.searchParams.set('cursor', cursor);
  reply.header('x-next-cursor', cursor);
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: opts.logLevel ?? 'info', ...(opts.logStream ? { stream: opts.logStream } : {}) },
    bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // REST path parameters are validated by their procedures (a uuid, a 63-char name): let an
    // over-long one reach that check (a 422 naming the field); Node's header limit bounds the URL.
    routerOptions: { maxParamLength: 16_384 },
    frameworkErrors,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });

  const metrics = createMetrics({ database: opts.database, token: opts.metricsToken ?? null });
  metrics.install(app);
  const events: LifecycleEvents = {
    onEvent(event) {
      metrics.events.onEvent?.(event);
      opts.events?.onEvent?.(event);
    },
  };

  const auth =
    opts.authCache === false
      ? null
      : new AuthCache(opts.database, { ...opts.authCache, onError: (err) => app.log.warn({ err }, 'auth cache: invalidation channel') });
  if (auth) {
    await auth.start();
    app.addHook('onClose', () => auth.stop());
  }

  const createContext = ({ req, res }: { req: FastifyRequest; res: FastifyReply }) =>
    createContextInner({
      auth,
      onNextCursor: req.originalUrl.startsWith('/api/') ? (cursor) => setNextCursor(req, res, cursor) : null,
      db: opts.database.db,
      secretKey: opts.secretKey,
      token: bearer(req),
      requestId: req.id,
      log: req.log,
      events,
    });

  installRestErrors(app);

  // Procedure failures are logged by the router's mapErrors; this catches the
  // rest (a transport failing before any procedure runs), which would otherwise
  // leave a 500 with nothing in the log.
  const onError = ({ error, path, req }: { error: TRPCError; path?: string | undefined; req: FastifyRequest }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR' && !path) req.log.error({ err: error.cause ?? error }, 'transport error');
  };

  installTrpcFastPath(app, { prefix: '/trpc', router: appRouter, createContext });
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: { router: appRouter, createContext, onError } satisfies FastifyTRPCPluginOptions<
      typeof appRouter
    >['trpcOptions'],
  });
  installRestBridge(app, { prefix: '/api', router: appRouter, createContext });

  const document = openApiDocument();
  app.get('/api/openapi.json', async () => document);
  installDocs(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = await opts.database.ping(2_000);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', store: opts.database.kind });
  });

  for (const plugin of opts.plugins ?? []) await plugin(app);
  return app;
}
