import type { ReactNode } from "react";
import { href, useRoute } from "../router.ts";
import { useSession } from "../session-context.tsx";

export function Shell({ children }: { children: ReactNode }) {
  const { me, signOut } = useSession();
  const route = useRoute();
  return (
    <>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href({ page: "agents" })}>
          Agent registry
        </a>
        <nav aria-label="Main">
          <a href={href({ page: "agents" })} aria-current={route.page !== "admin" ? "page" : undefined}>
            Agents
          </a>
          {me.admin && (
            <a href={href({ page: "admin" })} aria-current={route.page === "admin" ? "page" : undefined}>
              Principals &amp; tokens
            </a>
          )}
        </nav>
        <div className="who">
          <span>
            Signed in as <strong>{me.name}</strong>
            {me.admin ? " (admin)" : ""}
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="content" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
