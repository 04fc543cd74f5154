import type { Me } from "@agentex/client";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { consoleClient, describeError, isUnauthenticated, type ShownError } from "../api.ts";
import { ErrorNote } from "../components/ErrorNote.tsx";

interface Props {
  initialToken: string | null;
  notice: string | null;
  onSignedIn: (token: string, me: Me) => void;
}

/** A token is checked against `/me` before the console opens; it is kept for this tab only. */
export function SignIn({ initialToken, notice, onSignedIn }: Props) {
  const [token, setToken] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const resumed = useRef(false);

  const check = async (candidate: string) => {
    setPending(true);
    setError(null);
    try {
      const me = await consoleClient(candidate).me.get.query();
      onSignedIn(candidate, me);
    } catch (err) {
      setError(
        isUnauthenticated(err)
          ? {
              ...describeError(err),
              message: "That token was not accepted: it is unknown, revoked or expired.",
            }
          : describeError(err),
      );
    } finally {
      setPending(false);
    }
  };

  // A reload of this tab resumes the session it already had.
  useEffect(() => {
    if (initialToken && !resumed.current) {
      resumed.current = true;
      void check(initialToken);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initialToken]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) void check(token.trim());
  };

  return (
    <main className="signin">
      <h1>Agent registry console</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <p id="signin-help">
          Sign in with an API token (<code>agx_pat_…</code>). It is kept for this browser tab only and is
          forgotten when the tab closes or you sign out.
        </p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
          autoFocus
        />
        <button type="submit" disabled={pending || !token.trim()} aria-busy={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
        {error && <ErrorNote error={error} />}
      </form>
    </main>
  );
}
