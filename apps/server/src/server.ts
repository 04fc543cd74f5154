import { randomUUID } from 'node:crypto';
import { appRouter, createContextInner, FEED_CHANNEL, FeedHub, HealthChecker, type LifecycleEvents } from '@agentex/api';
import type { Database } from '@agentex/db';
import type { TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { fastifyTRPCOpenApiPlugin } from 'trpc-to-openapi';
import type { EventsConfig, HealthConfig } from './config.ts';
import { installDocs } from './docs.ts';
import { installEventsRoute } from './events-route.ts';
import { createMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
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
  /** Change feed limits (defaults: see config.ts). */
  feed?: Partial<EventsConfig>;
  /** Health checks of registered URLs; off unless given (main.ts passes the configuration). */
  health?: HealthConfig | null;
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

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: opts.logLevel ?? 'info', ...(opts.logStream ? { stream: opts.logStream } : {}) },
    bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 5000 },
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

  // The change feed: every replica reads the outbox when any replica NOTIFYs a commit.
  const feed = new FeedHub({
    db: opts.database.db,
    subscribe: (channel, handler) => opts.database.subscribe(channel, handler),
    retentionMs: opts.feed?.retentionMs ?? 24 * 3_600_000,
    maxLag: opts.feed?.maxLag ?? 1_000,
    maxPerPrincipal: opts.feed?.maxPerPrincipal ?? 32,
    heartbeatMs: opts.feed?.heartbeatMs ?? 15_000,
    pollMs: opts.feed?.pollMs ?? 2_000,
    log: app.log,
  });
  await feed.start();
  const announce = (lastEventId: number) => {
    feed.committed(lastEventId);
    opts.database.notify(FEED_CHANNEL, String(lastEventId)).catch((err: unknown) => {
      // Other replicas still pick the event up at their next poll.
      app.log.warn({ err }, 'change feed: NOTIFY failed');
    });
  };
  const events: LifecycleEvents = {
    onEvent(event) {
      metrics.events.onEvent?.(event);
      opts.events?.onEvent?.(event);
    },
    onFeed(lastEventId) {
      announce(lastEventId);
      opts.events?.onFeed?.(lastEventId);
    },
  };

  const checker = opts.health
    ? new HealthChecker({
        db: opts.database.db,
        ...opts.health,
        log: app.log,
        onChange: (lastEventId) => {
          events.onEvent?.('health_changed');
          events.onFeed?.(lastEventId);
        },
      })
    : null;
  checker?.start();
  // Open streams end before the server waits for its connections to close; nothing here
  // waits on the database, so a probe stuck behind a row lock cannot hold the listener open.
  app.addHook('preClose', async () => {
    checker?.halt();
    feed.endStreams();
  });
  app.addHook('onClose', async () => {
    await checker?.stop();
    await feed.stop();
  });

  const createContext = ({ req }: { req: FastifyRequest }) =>
    createContextInner({
      db: opts.database.db,
      secretKey: opts.secretKey,
      token: bearer(req),
      requestId: req.id,
      log: req.log,
      events,
      feed,
      abortConnection: () => req.raw.socket?.destroy(),
    });

  installRestErrors(app);

  // Procedure failures are logged by the router's mapErrors; this catches the
  // rest (a transport failing before any procedure runs), which would otherwise
  // leave a 500 with nothing in the log.
  const onError = ({ error, path, req }: { error: TRPCError; path?: string | undefined; req: FastifyRequest }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR' && !path) req.log.error({ err: error.cause ?? error }, 'transport error');
  };

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: { router: appRouter, createContext, onError } satisfies FastifyTRPCPluginOptions<
      typeof appRouter
    >['trpcOptions'],
  });
  installEventsRoute(app, { database: opts.database, secretKey: opts.secretKey, feed, bearer });
  await app.register(fastifyTRPCOpenApiPlugin, { basePath: '/api', router: appRouter, createContext, onError });

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
