import { bootstrapAdmin } from "@agentex/core";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { buildServer } from "./server.ts";
import { migrate, openStore } from "./store.ts";

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`agentex: invalid configuration: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }

  const store = await openStore(config, (err) =>
    console.error(`agentex: database pool error: ${err.message}`),
  );
  const applied = await migrate(store);
  const app = await buildServer({
    database: store.database,
    secretKey: store.secretKey,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    metricsToken: config.metricsToken,
    bodyLimitBytes: config.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxConnections: config.maxConnections,
    trpcMaxBatch: config.trpcMaxBatch,
    feed: config.events,
    health: config.health,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });
  if (applied.length) app.log.info({ migrations: applied }, "migrations applied");

  const minted = await bootstrapAdmin(store.database.db, config.bootstrapToken ?? undefined);
  if (minted) {
    // Printed once, at the first start: only its hash is stored.
    process.stdout.write(
      `\n  Admin token (shown once; store it now):\n\n    ${minted.token}\n\n  export AGENTEX_TOKEN=${minted.token}\n\n`,
    );
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down: draining in-flight requests");
    const force = setTimeout(() => {
      app.log.error("drain timeout exceeded; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    // app.close() stops accepting and closes the keep-alive connections idle at
    // that moment, but a connection whose request was in flight stays open
    // (kept alive by the client) after its response, and the close would then
    // wait for the keep-alive timeout instead of the drain. Close each one as
    // soon as it goes idle.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
    reaper.unref();
    // Stops accepting; ends the open event streams (their clients are told to
    // reconnect and resume) and halts the workers; waits for the requests in
    // flight; then stops the workers, which release their leases so another
    // replica takes their jobs at once (server.ts, workers.ts).
    await app.close();
    clearInterval(reaper);
    await store.database.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { store: store.database.kind, data_dir: config.databaseUrl ? undefined : config.dataDir },
    `agent registry listening on http://${config.host}:${config.port} (REST /api, tRPC /trpc, docs /docs)`,
  );
}

main().catch((err: unknown) => {
  console.error("agentex: failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
