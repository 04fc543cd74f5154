import { Writable } from "node:stream";
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import pretty from "pino-pretty";
import type { LogFormat } from "./config.ts";

/**
 * Probe and scrape routes: load balancers, orchestrators and Prometheus call
 * them every few seconds, so at info their request lines would outnumber
 * everything else. Their lines are written at debug instead.
 */
const QUIET_ROUTES = new Set(["/healthz", "/healthcheck", "/readyz", "/metrics"]);

function quiet(request: FastifyRequest): boolean {
  return request.routeOptions.url !== undefined && QUIET_ROUTES.has(request.routeOptions.url);
}

/** Fastify's request lines, one level down for the quiet routes; a failed request still logs at error. */
class RequestLines extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>) {
    if (!quiet(request)) return super.incomingRequest(request, reply, metadata);
    request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ) {
    if (error || !quiet(request)) return super.requestCompleted(error, request, reply, metadata);
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, "request completed");
  }
}

export interface LogOptions {
  level: string;
  format: LogFormat;
  /** Where lines go instead of stdout. */
  stream?: { write(line: string): void } | undefined;
}

/** pino-pretty pipes into its destination, so a bare `{ write }` sink needs a stream around it. */
function writable(sink: { write(line: string): void }): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      sink.write(chunk.toString());
      done();
    },
  });
}

/**
 * The logger and request-line options for Fastify. Pretty lines are made in
 * this thread by pino-pretty used as a plain stream, written synchronously:
 * a pino transport would load pino-pretty by module name in a worker thread,
 * and the bundled server (dist/main.js) has it inlined, not as a package that
 * name resolves to; a synchronous write also keeps the last lines before
 * process.exit.
 */
export function loggerOptions(opts: LogOptions): Pick<FastifyServerOptions, "logger" | "logController"> {
  const stream =
    opts.format === "pretty"
      ? pretty({
          sync: true,
          // Colour only on a terminal that takes it (pino-pretty's own check of stdout).
          ...(opts.stream ? { destination: writable(opts.stream), colorize: false } : {}),
          translateTime: "SYS:HH:MM:ss.l",
          ignore: "pid,hostname",
          // One line an event, its fields after the message (an error's stack still gets its own lines).
          singleLine: true,
        })
      : opts.stream;
  return {
    logger: { level: opts.level, ...(stream ? { stream } : {}) },
    logController: new RequestLines(),
  };
}
