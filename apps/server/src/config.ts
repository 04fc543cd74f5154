import { isAbsolute, resolve } from "node:path";
import { POOL_DEFAULTS } from "@agentex/db";

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDir: string;
  bootstrapToken: string | null;
  secretKey: string | null;
  logLevel: string;
  logFormat: LogFormat;
  /** When set, `/metrics` requires it as a bearer token; unset, `/metrics` is open (restrict it at the network). */
  metricsToken: string | null;
  bodyLimitBytes: number;
  dbPoolMax: number;
  dbAcquireTimeoutMs: number;
  statementTimeoutMs: number;
  shutdownTimeoutMs: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  trpcMaxBatch: number;
  events: EventsConfig;
  /** Null when AGENTEX_HEALTH_CHECKS=off. */
  health: HealthConfig | null;
}

/** `pretty`: readable lines for a person at a terminal; `json`: one JSON object a line, for collectors. */
export type LogFormat = "pretty" | "json";

export interface EventsConfig {
  retentionMs: number;
  maxLag: number;
  maxPerPrincipal: number;
  heartbeatMs: number;
  pollMs: number;
}

export interface HealthConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  failures: number;
  successes: number;
}

/**
 * Every default value, written here only: loadConfig falls back to these, and
 * buildServer fills the options its caller leaves unset from them, so a server
 * built without a configuration (tests, an embedding host) behaves as one
 * started with an empty environment.
 */
export const DEFAULTS = {
  port: 8000,
  host: "127.0.0.1",
  dataDir: "./.agentex",
  logLevel: "info",
  /** Where stdout is not a terminal; on a terminal, LOG_FORMAT unset means `pretty`. */
  logFormat: "json",
  bodyLimitBytes: 1024 * 1024,
  dbPoolMax: POOL_DEFAULTS.max,
  dbAcquireTimeoutMs: POOL_DEFAULTS.acquireTimeoutMs,
  statementTimeoutMs: POOL_DEFAULTS.statementTimeoutMs,
  shutdownTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  trpcMaxBatch: 10,
  // Webhook forwarding: no variable sets these, only buildServer's options.
  forwardTimeoutMs: 30_000,
  forwardMaxResponseBytes: 32 * 1024 * 1024,
  events: {
    retentionMs: 24 * 3_600_000,
    maxLag: 1_000,
    maxPerPrincipal: 32,
    heartbeatMs: 15_000,
    pollMs: 2_000,
  },
  health: {
    path: "/healthz",
    intervalMs: 10_000,
    timeoutMs: 2_000,
    failures: 3,
    successes: 2,
  },
} as const;

/** Operator-chosen secrets must carry real entropy: a short one is brute-forced from its hash. */
export const MIN_OPERATOR_TOKEN = 32;

/** Invalid configuration: the message is the one line printed before the server exits. */
export class ConfigError extends Error {}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const LOG_FORMATS: readonly LogFormat[] = ["pretty", "json"];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got '${raw}')`);
  }
  return value;
}

function eventsConfig(env: NodeJS.ProcessEnv): EventsConfig {
  const d = DEFAULTS.events;
  return {
    retentionMs: int(env, "AGENTEX_EVENTS_RETENTION_MS", d.retentionMs, 1_000, 365 * 24 * 3_600_000),
    maxLag: int(env, "AGENTEX_EVENTS_MAX_LAG", d.maxLag, 1, 1_000_000),
    maxPerPrincipal: int(env, "AGENTEX_EVENTS_MAX_PER_PRINCIPAL", d.maxPerPrincipal, 1, 100_000),
    heartbeatMs: int(env, "AGENTEX_EVENTS_HEARTBEAT_MS", d.heartbeatMs, 100, 600_000),
    pollMs: int(env, "AGENTEX_EVENTS_POLL_MS", d.pollMs, 50, 600_000),
  };
}

function healthConfig(env: NodeJS.ProcessEnv): HealthConfig | null {
  const d = DEFAULTS.health;
  const switchValue = (env.AGENTEX_HEALTH_CHECKS || "on").toLowerCase();
  if (switchValue !== "on" && switchValue !== "off") {
    throw new ConfigError(`AGENTEX_HEALTH_CHECKS must be 'on' or 'off' (got '${env.AGENTEX_HEALTH_CHECKS}')`);
  }
  const path = env.AGENTEX_HEALTH_PATH || d.path;
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,255}$/.test(path)) {
    throw new ConfigError(
      `AGENTEX_HEALTH_PATH must be a URL path starting with '/' (no query or fragment, at most 256 characters; got '${path}')`,
    );
  }
  const intervalMs = int(env, "AGENTEX_HEALTH_INTERVAL_MS", d.intervalMs, 50, 86_400_000);
  const timeoutMs = int(env, "AGENTEX_HEALTH_TIMEOUT_MS", d.timeoutMs, 10, 600_000);
  if (timeoutMs >= intervalMs) {
    throw new ConfigError(
      `AGENTEX_HEALTH_TIMEOUT_MS must be less than AGENTEX_HEALTH_INTERVAL_MS (${timeoutMs} >= ${intervalMs})`,
    );
  }
  const failures = int(env, "AGENTEX_HEALTH_FAILURES", d.failures, 1, 1_000);
  const successes = int(env, "AGENTEX_HEALTH_SUCCESSES", d.successes, 1, 1_000);
  return switchValue === "off" ? null : { path, intervalMs, timeoutMs, failures, successes };
}

/**
 * `migrateOnly`: `pnpm migrate` touches no credentials, so it does not need the secret.
 * `terminal`: whether stdout is a terminal (LOG_FORMAT's default); process.stdout's own answer unless given.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  opts: { migrateOnly?: boolean; terminal?: boolean } = {},
): Config {
  const databaseUrl = env.DATABASE_URL || null;
  if (databaseUrl) {
    let url: URL;
    try {
      url = new URL(databaseUrl);
    } catch {
      throw new ConfigError("DATABASE_URL must be a postgres:// URL");
    }
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
      throw new ConfigError(`DATABASE_URL must use postgres:// or postgresql:// (got '${url.protocol}')`);
    }
  }
  const secretKey = env.AGENTEX_SECRET_KEY || null;
  if (secretKey !== null && secretKey.length < 32) {
    throw new ConfigError("AGENTEX_SECRET_KEY must be at least 32 characters");
  }
  if (databaseUrl && !secretKey && !opts.migrateOnly) {
    throw new ConfigError(
      "AGENTEX_SECRET_KEY is required when DATABASE_URL is set (every replica must share it)",
    );
  }
  const bootstrapToken = env.AGENTEX_BOOTSTRAP_TOKEN || null;
  if (
    bootstrapToken !== null &&
    (bootstrapToken.length < MIN_OPERATOR_TOKEN || bootstrapToken.length > 256)
  ) {
    throw new ConfigError(
      `AGENTEX_BOOTSTRAP_TOKEN must be ${MIN_OPERATOR_TOKEN} to 256 characters (a long random value, e.g. openssl rand -hex 32)`,
    );
  }
  // The Authorization header carries one whitespace-free token, and `agx_key_` credentials are
  // looked up as agent keys: such a bootstrap token could never authenticate.
  if (bootstrapToken !== null && (/\s/.test(bootstrapToken) || bootstrapToken.startsWith("agx_key_"))) {
    throw new ConfigError(
      "AGENTEX_BOOTSTRAP_TOKEN must contain no whitespace and must not start with 'agx_key_' (reserved for agent keys)",
    );
  }
  const logLevel = env.LOG_LEVEL || DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  const terminal = opts.terminal ?? process.stdout.isTTY === true;
  const wantedFormat = env.LOG_FORMAT || (terminal ? "pretty" : DEFAULTS.logFormat);
  const logFormat = LOG_FORMATS.find((f) => f === wantedFormat);
  if (!logFormat)
    throw new ConfigError(`LOG_FORMAT must be one of ${LOG_FORMATS.join(", ")} (got '${env.LOG_FORMAT}')`);
  const metricsToken = env.AGENTEX_METRICS_TOKEN || null;
  if (
    metricsToken !== null &&
    (metricsToken.length < MIN_OPERATOR_TOKEN || metricsToken.length > 256 || /\s/.test(metricsToken))
  ) {
    throw new ConfigError(
      `AGENTEX_METRICS_TOKEN must be ${MIN_OPERATOR_TOKEN} to 256 characters without spaces`,
    );
  }
  const rawDir = env.AGENTEX_DATA_DIR || DEFAULTS.dataDir;
  const dataDir =
    rawDir.startsWith("memory://") || isAbsolute(rawDir)
      ? rawDir
      : resolve(process.env.INIT_CWD ?? process.cwd(), rawDir);
  const requestTimeoutMs = int(env, "AGENTEX_REQUEST_TIMEOUT_MS", DEFAULTS.requestTimeoutMs, 100, 3_600_000);
  const headersTimeoutMs = int(env, "AGENTEX_HEADERS_TIMEOUT_MS", DEFAULTS.headersTimeoutMs, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `AGENTEX_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed AGENTEX_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  return {
    port: int(env, "PORT", DEFAULTS.port, 0, 65535),
    host: env.HOST || DEFAULTS.host,
    databaseUrl,
    dataDir,
    bootstrapToken,
    secretKey,
    logLevel,
    logFormat,
    metricsToken,
    bodyLimitBytes: int(env, "AGENTEX_BODY_LIMIT_BYTES", DEFAULTS.bodyLimitBytes, 1024, 64 * 1024 * 1024),
    dbPoolMax: int(env, "AGENTEX_DB_POOL_MAX", DEFAULTS.dbPoolMax, 1, 1000),
    dbAcquireTimeoutMs: int(env, "AGENTEX_DB_ACQUIRE_TIMEOUT_MS", DEFAULTS.dbAcquireTimeoutMs, 100, 600_000),
    statementTimeoutMs: int(env, "AGENTEX_STATEMENT_TIMEOUT_MS", DEFAULTS.statementTimeoutMs, 100, 3_600_000),
    shutdownTimeoutMs: int(env, "AGENTEX_SHUTDOWN_TIMEOUT_MS", DEFAULTS.shutdownTimeoutMs, 100, 600_000),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: int(env, "AGENTEX_KEEP_ALIVE_TIMEOUT_MS", DEFAULTS.keepAliveTimeoutMs, 100, 600_000),
    maxConnections: int(env, "AGENTEX_MAX_CONNECTIONS", DEFAULTS.maxConnections, 1, 1_000_000),
    trpcMaxBatch: int(env, "AGENTEX_TRPC_MAX_BATCH", DEFAULTS.trpcMaxBatch, 1, 1000),
    events: eventsConfig(env),
    health: healthConfig(env),
  };
}
