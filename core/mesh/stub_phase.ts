/**
 * The stub-router phase of a starting agent (RFC 6987): until the router has installed its own
 * routes, it advertises every link at MAX_LINK_COST, so neighbours still reach it as a
 * destination (they route at the cost they advertise themselves) but route through it only when
 * nothing else exists. Without it a restarted router is used as a transit hop as soon as its
 * links are back, while its kernel has no routes yet, and drops what it is sent.
 *
 * The phase ends ("converged") at the first moment when
 * 1. at least one neighbour is usable, and every neighbour heard on an interface (prober state
 *    INITIALIZING, ONLINE or DEGRADED, not vetoed by the liveness helper) is usable, with a full
 *    control session (its HELLO and whole database, closed by DB_END, received) and its LSA in
 *    our database listing its link back to us (the adjacency passes the two-way check, so our
 *    table routes over it: without that, a destination behind it would be routed the long way,
 *    possibly back through the neighbour that is about to send us its transit traffic), and
 * 2. the route table computed after the latest of those events (a session became full, a
 *    neighbour's LSA arrived) has been installed in the kernel (the `ip -batch` round trip
 *    returned; computed, when routes are not installed);
 * or, whatever happens, when the cap (`mesh.stub_on_start_ms`) runs out ("cap"). The agent
 * re-originates its LSA with normal costs at once.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { stubPhaseEnded, stubPhaseSeconds, stubRouter } from "./metrics.ts";
import type { NeighbourState } from "./view.ts";

const log = getLogger(["x0", "mesh"]);

/** Why a stub phase ended. */
export type StubEndReason = "converged" | "cap";

/** One interface as the end condition sees it. */
export interface StubLink {
  /** The prober's state of the neighbour on the interface, null when none was ever heard. */
  state: NeighbourState | null;
  /** The liveness helper declared the neighbour down. */
  vetoed: boolean;
  /** The neighbour carries traffic (ONLINE or DEGRADED, not vetoed). */
  usable: boolean;
  /** Its control session is full (HELLO and DB_END received). */
  full: boolean;
  /** Its LSA in our database lists a link back to us (two-way). */
  twoWay: boolean;
}

/**
 * Condition 1 of the phase's end: at least one usable neighbour, and every heard neighbour is
 * usable with a full, two-way adjacency. A neighbour still INITIALIZING holds the phase (its
 * database is coming); an OFFLINE one, or one the helper vetoed, does not (it carries nothing).
 *
 * @param links every mesh interface
 */
export function neighboursSynced(links: Iterable<StubLink>): boolean {
  let any = false;
  for (const l of links) {
    if (l.state === null || l.state === "OFFLINE" || l.vetoed) continue;
    if (!l.usable || !l.full || !l.twoWay) return false;
    any = true;
  }
  return any;
}

/** The phase's state machine (the agent feeds it events; it calls `onEnd` once). */
export interface StubPhase {
  /** Whether the router still advertises its links at MAX_LINK_COST. */
  active(): boolean;
  /**
   * A control session completed its database exchange, or a neighbour's LSA arrived: only a
   * table computed after this can end the phase.
   */
  noteSync(): void;
  /** A route table is being computed from the database as it is now; returns its token. */
  noteComputed(): number;
  /** The table with `token` is installed in the kernel (or computed, without kernel routes). */
  noteInstalled(token: number): void;
  /** Ends the phase when condition 1 (`neighboursReady`) and condition 2 hold. */
  check(neighboursReady: boolean): void;
  /** Clears the cap timer (agent stop); does not call `onEnd`, does not log. */
  stop(): void;
}

/**
 * Starts the phase; with `capMs` 0 it is disabled (never active, `onEnd` never called). It keeps
 * `mesh_stub_router` at 1 while active; its end is logged once (duration and reason) and counted
 * in `mesh_stub_phase_total{reason}` and `mesh_stub_phase_seconds`.
 *
 * @param capMs the safety cap: the phase ends by then whatever happens
 * @param options `onEnd(reason, ms)` called once when the phase ends (the agent re-originates),
 *   and a clock for tests
 */
export function startStubPhase(
  capMs: number,
  options: { onEnd(reason: StubEndReason, ms: number): void; now?: () => number },
): StubPhase {
  const now = options.now ?? (() => performance.now());
  const started = now();
  let active = capMs > 0;
  /** Database exchanges completed, the newest exchange counted into a computed table, installed. */
  let syncs = 0;
  let installed = 0;
  const end = (reason: StubEndReason) => {
    if (!active) return;
    active = false;
    clearTimeout(cap);
    const ms = now() - started;
    stubRouter.set(0);
    stubPhaseEnded.inc({ reason });
    stubPhaseSeconds.set(ms / 1000);
    log.info("Stub phase ended after {ms} ms ({reason}): advertising real link costs", {
      ms: Math.round(ms),
      reason,
    });
    options.onEnd(reason, ms);
  };
  const cap = active ? setTimeout(() => end("cap"), capMs) : undefined;
  stubRouter.set(active ? 1 : 0);
  return {
    active: () => active,
    noteSync() {
      syncs++;
    },
    noteComputed: () => syncs,
    noteInstalled(token) {
      installed = Math.max(installed, token);
    },
    check(neighboursReady) {
      if (active && neighboursReady && syncs > 0 && installed >= syncs) end("converged");
    },
    stop() {
      clearTimeout(cap);
      stubRouter.set(0);
    },
  };
}
