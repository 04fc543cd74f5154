/**
 * The token lives for this tab only (sessionStorage): closing the tab signs out,
 * and nothing is left behind in localStorage or cookies.
 */
const KEY = "agentex.console.token";

export function readToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
