import type { AgentexClient, Me } from "@agentex/client";
import { createContext, useContext } from "react";

export interface Session {
  client: AgentexClient;
  me: Me;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}
