/**
 * A background job of the server process, run by `Workers` (runner.ts). The
 * runner owns every timer: a worker says how often it ticks and whether it
 * is a singleton, and the runner starts it, ticks it (never two ticks of one
 * worker at once), and halts and stops it at shutdown.
 *
 * Two kinds run on every replica:
 * - per replica (no `lease`): each replica does its own share, e.g. serving
 *   its own subscribers, keeping its own cache, probing the targets it claims
 *   row by row;
 * - singleton (`lease`): ticks only on the replica holding the named lease
 *   (queries/leases.ts), which moves to another replica when the holder dies
 *   (after `ttlMs`) or stops (at once).
 */
export interface Worker {
  /** Names the worker in logs and stats. */
  readonly name: string;
  /** `tick` runs this often (from the start of one to the start of the next); none: it never ticks. */
  readonly intervalMs?: number;
  /** Makes the worker a singleton across replicas. */
  readonly lease?: WorkerLease;
  /** Called once, in the runner's order; a throw stops the runner's start (and the server's). */
  start?(): Promise<void>;
  /**
   * One round of work. A throw is logged and counted, and the next tick comes
   * as usual. `signal` aborts when the runner halts or a singleton's lease is
   * lost: work not yet begun should not begin.
   */
  tick?(signal: AbortSignal): Promise<unknown>;
  /** Takes no new work; returns at once (called before the HTTP server waits for its connections). */
  halt?(): void;
  /** After the last tick ended: lets go of what this replica holds (listeners, row claims). */
  stop?(): Promise<void>;
}

export interface WorkerLease {
  /** The `worker_leases` row: one per singleton job, the same on every replica. */
  name: string;
  /** How long a holder keeps the job without renewing; a dead holder's job moves after this. */
  ttlMs: number;
}
