import { isConnectionError, isUniqueViolation } from '@agentex/db';
import { initTRPC } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import type { ZodError } from 'zod';
import { authenticate } from './auth.ts';
import type { Context } from './context.ts';
import { DomainError, conflict, invalid, unauthenticated, unavailable, type FieldIssue } from './errors.ts';

const t = initTRPC
  .context<Context>()
  .meta<OpenApiMeta>()
  .create({
    isDev: false,
    /**
     * The single place where errors get their wire shape, for /trpc and /api
     * alike. A 500 says only "internal error" and the request id; its cause
     * was logged by `mapErrors`.
     */
    errorFormatter({ shape, error, ctx }) {
      const requestId = ctx?.requestId ?? null;
      const internal = error.code === 'INTERNAL_SERVER_ERROR';
      const message = internal ? `internal error (request id ${requestId ?? 'unknown'})` : error.message;
      const issues = error instanceof DomainError ? error.issues : undefined;
      return {
        message,
        code: shape.code,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path ?? null,
          request_id: requestId,
          ...(issues ? { issues } : {}),
        },
        status_code: shape.data.httpStatus,
        ...(issues ? { issues } : {}),
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

function zodIssues(err: ZodError): FieldIssue[] {
  return err.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message }));
}

function pgCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Turns failures that are not yet domain errors into them: input that failed
 * its schema (422 naming each field), a unique index that lost a race (409),
 * a database that is down or too slow (503). Anything left is a bug: logged
 * with its cause and answered as an opaque 500.
 */
const mapErrors = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (result.ok || result.error instanceof DomainError) return result;
  const { error } = result;
  const cause: unknown = error.cause;
  if (error.code === 'BAD_REQUEST' && cause instanceof Error && cause.name === 'ZodError') {
    throw invalid(zodIssues(cause as ZodError));
  }
  if (isUniqueViolation(cause, 'agents_live_name_uq')) throw conflict('an agent with that name already exists');
  if (isUniqueViolation(cause)) throw conflict('conflicts with an existing resource');
  if (isConnectionError(cause) || pgCode(cause) === '57014') throw unavailable();
  if (pgCode(cause).startsWith('22')) {
    throw invalid([{ field: '', message: 'a value is malformed or out of range' }]);
  }
  if (error.code === 'INTERNAL_SERVER_ERROR') {
    ctx.log.error({ err: cause ?? error, path, request_id: ctx.requestId }, 'internal error');
  }
  return result;
});

export const publicProcedure = t.procedure.use(mapErrors);

export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  let principal = ctx.principal;
  if (!principal) {
    if (!ctx.token) throw unauthenticated();
    principal = ctx.auth ? await ctx.auth.authenticate(ctx.token) : await authenticate(ctx.db, ctx.token);
    if (!principal) throw unauthenticated();
  }
  return next({ ctx: { principal } });
});

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.principal.admin) throw new DomainError('forbidden', 'only an admin may do this');
  return next();
});
