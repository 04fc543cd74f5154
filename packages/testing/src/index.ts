export { TEST_STORE } from "@agentex/db/testing";
export { registryClient, type Json, type RegistryClient } from "./http.ts";
export { startRegistry, useRegistry, type Registry, type RegistryProcess } from "./registry.ts";
export { startProxy, type Fault, type Proxy } from "./proxy.ts";
export { HealthTarget, waitFor } from "./health-target.ts";
export { freePort, readAll, serverEnv } from "./loopback.ts";
