export { buildServer, type ServerOptions } from "./server.ts";
export { loadConfig, ConfigError, type Config } from "./config.ts";
export { openStore, migrate, type Store } from "./store.ts";
export { openApiDocument } from "./openapi.ts";
