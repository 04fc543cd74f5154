import { ConfigError, loadConfig } from "./config.ts";
import { migrate, openStore } from "./store.ts";

try {
  const config = loadConfig(process.env, { migrateOnly: true });
  const store = await openStore(config);
  const applied = await migrate(store);
  await store.database.close();
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
} catch (err) {
  console.error(err instanceof ConfigError ? `agentex: invalid configuration: ${err.message}` : err);
  process.exit(1);
}
