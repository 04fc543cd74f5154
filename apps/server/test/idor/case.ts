/** The shape of an IDOR case: one request about A's resources, and what each kind of caller must get. */

/** Who tries: B (may create agents, holds no grant), B's own agent key, A's viewer, no credential, a forged one. */
export type Attacker = "B" | "B-agent-key" | "viewer" | "anonymous" | "forged-key";
export const ATTACKERS: Attacker[] = ["B", "B-agent-key", "viewer", "anonymous", "forged-key"];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a reply's data is JSON of whichever procedure ran; each check reads what it expects
export type Data = any;

/** A refusal's status, or a success whose data the check inspects. */
export type Expect =
  401 | 403 | 404 | 409 | 412 | { status: 200; check: (data: Data, who: Attacker) => void };

export interface Case {
  name: string;
  proc: string;
  input: (who: Attacker) => Record<string, unknown> | undefined;
  /** Expectation for the principals with a credential; anonymous and forged always get 401. */
  B: Expect;
  key: Expect;
  viewer: Expect;
}
