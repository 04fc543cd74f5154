// Process runtime beside the server: the change-feed hub, the health checker, the auth cache.
export { FeedHub, FEED_CHANNEL, type FeedOptions } from "./feed.ts";
export { HealthChecker, probe, probeUrl, type HealthCheckerOptions } from "./health-checker.ts";
export { AuthCache, AUTH_CHANNEL, type AuthCacheOptions, type AuthCacheStore } from "./auth-cache.ts";
