import { useEffect, useState } from "react";

/**
 * Hash routes (`#/agents`, `#/agents/<id>`, `#/admin`): deep links work without
 * the server knowing the console's routes, and back/forward just work.
 */
export type Route = { page: "agents" } | { page: "agent"; id: string } | { page: "admin" };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "agents" && parts[1]) return { page: "agent", id: parts[1] };
  if (parts[0] === "admin") return { page: "admin" };
  return { page: "agents" };
}

export function href(route: Route): string {
  switch (route.page) {
    case "agent":
      return `#/agents/${encodeURIComponent(route.id)}`;
    case "admin":
      return "#/admin";
    default:
      return "#/agents";
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
