import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useSession } from "./session-context.tsx";

export type LiveState = "connecting" | "live" | "offline";

/**
 * Follows the change feed (tRPC subscription over SSE): whatever changes an
 * agent elsewhere (a promote from the CLI, a health flip, a new deployment)
 * refreshes the queries showing it, without a reload. The feed only carries
 * events of agents this principal may read.
 */
export function useLiveInvalidation(agentId: string | null): LiveState {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    // The state follows the stream's own callbacks only: the SDK's client always has a
    // subscription transport (SSE), and any failure of it arrives through onError.
    const sub = client.events.watch.subscribe(agentId ? { agent_id: agentId } : {}, {
      onStarted: () => setState("live"),
      onData: (event) => {
        setState("live");
        const id = event.data.agent_id;
        void queryClient.invalidateQueries({ queryKey: ["agents"] });
        if (id) void queryClient.invalidateQueries({ queryKey: ["agent", id] });
      },
      onError: () => setState("offline"),
      onConnectionStateChange: (s) =>
        setState(s.state === "pending" ? "live" : s.state === "connecting" ? "connecting" : "offline"),
    });
    return () => sub.unsubscribe();
  }, [client, queryClient, agentId]);
  return state;
}
