/** The exit codes scripts can rely on, what help says about them, and which a server error maps to. */
import type { AgentexError } from "@agentex/client";

export const EXIT = {
  ok: 0,
  usage: 1,
  notFound: 2,
  conflict: 3,
  auth: 4,
  server: 5,
} as const;

export const EXIT_HELP = `Exit codes:
  0  ok
  1  usage error: bad command line, or input the server rejected as invalid (400/422)
  2  not found (404)
  3  conflict or failed precondition (409/412), e.g. promoting a deployment that is not Ready
  4  authentication or permission (401/403), or no token given
  5  server or network: 5xx, unreachable server, timeout`;

export function exitCodeFor(err: AgentexError): number {
  switch (err.status_code) {
    case 400:
    case 422:
      return EXIT.usage;
    case 404:
      return EXIT.notFound;
    case 409:
    case 412:
      return EXIT.conflict;
    case 401:
    case 403:
      return EXIT.auth;
    default:
      return EXIT.server;
  }
}
