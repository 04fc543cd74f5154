import type { Me } from "@agentex/client";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { consoleClient, isUnauthenticated } from "./api.ts";
import { Shell } from "./components/Shell.tsx";
import { AdminPage } from "./pages/AdminPage.tsx";
import { AgentPage } from "./pages/AgentPage.tsx";
import { AgentsPage } from "./pages/AgentsPage.tsx";
import { SignIn } from "./pages/SignIn.tsx";
import { useRoute } from "./router.ts";
import { clearToken, readToken, saveToken } from "./session.ts";
import { SessionContext } from "./session-context.tsx";

interface SignedIn {
  token: string;
  me: Me;
}

export function App() {
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((reason?: string) => {
    clearToken();
    setSignedIn(null);
    setNotice(reason ?? null);
  }, []);

  // Any 401, from any query or mutation, ends the session: the token was revoked, expired or disabled.
  const queryClient = useMemo(() => {
    const onError = (err: unknown) => {
      if (isUnauthenticated(err))
        signOut("Your session ended (the token is no longer valid). Sign in again.");
    };
    return new QueryClient({
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
      defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: 5_000 } },
    });
  }, [signOut]);

  const client = useMemo(() => (signedIn ? consoleClient(signedIn.token) : null), [signedIn]);

  if (!signedIn || !client) {
    return (
      <SignIn
        initialToken={readToken()}
        notice={notice}
        onSignedIn={(token, me) => {
          saveToken(token);
          queryClient.clear();
          setNotice(null);
          setSignedIn({ token, me });
        }}
      />
    );
  }

  return (
    <QueryClientProvider client={queryClient}>
      <SessionContext.Provider value={{ client, me: signedIn.me, signOut: () => signOut("Signed out.") }}>
        <Shell>
          <Routed />
        </Shell>
      </SessionContext.Provider>
    </QueryClientProvider>
  );
}

function Routed() {
  const route = useRoute();
  switch (route.page) {
    case "agent":
      return <AgentPage key={route.id} agentId={route.id} />;
    case "admin":
      return <AdminPage />;
    default:
      return <AgentsPage />;
  }
}
