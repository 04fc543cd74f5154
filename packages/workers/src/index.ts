// The server process's background work: the runner, and the workers it runs.
export { Workers, type WorkersOptions, type WorkerStats } from "./runner.ts";
export { LeaseKeeper, LEASE_CHANNEL, type LeaseKeeperOptions } from "./lease-keeper.ts";
export type { Worker, WorkerLease } from "./worker.ts";
export { FeedHub, FEED_CHANNEL, type FeedOptions } from "./feed/hub.ts";
export { EventRetention, type EventRetentionOptions } from "./event-retention.ts";
export { HealthChecker, probe, probeUrl, type HealthCheckerOptions } from "./health-checker.ts";
export { AuthCache, AUTH_CHANNEL, type AuthCacheOptions, type AuthCacheStore } from "./auth-cache.ts";
