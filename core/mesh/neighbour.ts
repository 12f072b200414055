/**
 * One neighbour as the link prober sees it: a sliding window of probes (RTT, loss, jitter), a
 * quality class, and the neighbour state machine with hysteresis. Pure state on a plain object
 * with the clock passed in, so the transitions are unit-testable without sockets.
 *
 * States: INITIALIZING (heard, not yet trusted) → ONLINE after `upProbes` consecutive probe
 * intervals with traffic; ONLINE ⇄ DEGRADED on window loss (enter ≥ 25 %, leave ≤ 10 %);
 * any → OFFLINE when nothing was heard for `deadProbes` probe intervals; OFFLINE → ONLINE again
 * only after `upProbes` good intervals. One lost probe changes nothing.
 *
 * @module
 */
import type { LinkQuality, NeighbourState } from "./view.ts";

/** Tunables of the prober. */
export interface ProbeTimers {
  intervalMs: number;
  /** Probe intervals of silence before OFFLINE. */
  deadProbes: number;
  /** Consecutive intervals with traffic before ONLINE. Default 3. */
  upProbes?: number;
  /** Probes in the sliding window. Default 20. */
  window?: number;
  /** Consecutive evaluations a new quality class must hold before it is adopted. Default 10. */
  qualityHold?: number;
}

/** Window loss at which ONLINE becomes DEGRADED, and at which DEGRADED recovers. */
export const DEGRADED_ENTER_LOSS = 0.25;
export const DEGRADED_LEAVE_LOSS = 0.1;

/** Thresholds of the quality classes (a class needs all three below its limits). */
export const QUALITY_THRESHOLDS: ReadonlyArray<
  { quality: LinkQuality; maxLoss: number; maxRttMs: number; maxJitterMs: number }
> = [
  { quality: "EXCELLENT", maxLoss: 0.01, maxRttMs: 20, maxJitterMs: 10 },
  { quality: "GOOD", maxLoss: 0.05, maxRttMs: 50, maxJitterMs: 25 },
  { quality: "FAIR", maxLoss: 0.15, maxRttMs: 150, maxJitterMs: 75 },
  { quality: "POOR", maxLoss: 0.4, maxRttMs: 500, maxJitterMs: 250 },
];

/** Score in [0, 1] of each quality class; link weight = 100 / (score + 1). */
export const QUALITY_SCORE: Readonly<Record<LinkQuality, number>> = {
  EXCELLENT: 1,
  GOOD: 0.75,
  FAIR: 0.5,
  POOR: 0.25,
  BAD: 0,
};

/**
 * Classifies link measurements.
 *
 * @param stats loss fraction in [0, 1], mean RTT and jitter in ms
 */
export function classifyQuality(
  stats: { loss: number; rttMs: number; jitterMs: number },
): LinkQuality {
  for (const t of QUALITY_THRESHOLDS) {
    if (stats.loss <= t.maxLoss && stats.rttMs <= t.maxRttMs && stats.jitterMs <= t.maxJitterMs) {
      return t.quality;
    }
  }
  return "BAD";
}

interface ProbeSample {
  seq: number;
  sentAt: number;
  rttMs: number | null;
}

/** A neighbour's live state (mutated by the functions below). */
export interface Neighbour {
  nodeId: string;
  routerAddress: string;
  controlPort: number;
  state: NeighbourState;
  /** Clock (ms) of the last packet heard, -Infinity if never. */
  lastHeard: number;
  /** Wall time (epoch ms) of the last packet heard, null if never. */
  lastSeenWall: number | null;
  consecutiveUp: number;
  heardSinceTick: boolean;
  samples: ProbeSample[];
  quality: LinkQuality;
  pendingQuality: LinkQuality | null;
  pendingCount: number;
}

/** Creates a neighbour first heard now. */
export function newNeighbour(
  id: { nodeId: string; routerAddress: string; controlPort: number },
): Neighbour {
  return {
    ...id,
    state: "INITIALIZING",
    lastHeard: -Infinity,
    lastSeenWall: null,
    consecutiveUp: 0,
    heardSinceTick: false,
    samples: [],
    quality: "GOOD",
    pendingQuality: null,
    pendingCount: 0,
  };
}

/** Records a probe we sent to the neighbour. */
export function recordProbeSent(n: Neighbour, seq: number, now: number, timers: ProbeTimers) {
  n.samples.push({ seq, sentAt: now, rttMs: null });
  const max = timers.window ?? 20;
  if (n.samples.length > max) n.samples.splice(0, n.samples.length - max);
}

/** Records any valid packet heard from the neighbour. */
export function recordHeard(n: Neighbour, now: number, wallNow: number): void {
  n.lastHeard = now;
  n.lastSeenWall = wallNow;
  n.heardSinceTick = true;
}

/** Records the reply to probe `seq` (ignored when the probe left the window). */
export function recordReply(n: Neighbour, seq: number, rttMs: number): void {
  const s = n.samples.find((p) => p.seq === seq);
  if (s && s.rttMs === null) s.rttMs = Math.max(0, rttMs);
}

/** Link measurements over the window. */
export interface LinkStats {
  rttMs: number | null;
  loss: number | null;
  jitterMs: number | null;
}

/**
 * RTT mean, loss fraction and jitter (mean absolute difference of consecutive RTTs) over the
 * window; a probe counts as lost only once two intervals passed without its reply.
 */
export function linkStats(n: Neighbour, now: number, timers: ProbeTimers): LinkStats {
  const grace = Math.max(2 * timers.intervalMs, 20);
  const settled = n.samples.filter((s) => s.rttMs !== null || now - s.sentAt > grace);
  const rtts = n.samples.filter((s) => s.rttMs !== null).map((s) => s.rttMs as number);
  const loss = settled.length === 0
    ? null
    : settled.filter((s) => s.rttMs === null).length / settled.length;
  const rttMs = rtts.length === 0 ? null : rtts.reduce((a, b) => a + b, 0) / rtts.length;
  let jitterMs: number | null = null;
  if (rtts.length >= 2) {
    let sum = 0;
    for (let i = 1; i < rtts.length; i++) sum += Math.abs(rtts[i] - rtts[i - 1]);
    jitterMs = sum / (rtts.length - 1);
  }
  return { rttMs, loss, jitterMs };
}

/** Clock time at which the neighbour is declared OFFLINE unless heard before. */
export function deadline(n: Neighbour, timers: ProbeTimers): number {
  return n.lastHeard + timers.deadProbes * timers.intervalMs;
}

/**
 * Declares the neighbour OFFLINE when its dead deadline has passed (called from the dead timer,
 * between probe intervals). Returns the previous state when it changed, else null.
 */
export function checkDead(n: Neighbour, now: number, timers: ProbeTimers): NeighbourState | null {
  if (now < deadline(n, timers) || !isUsable(n)) return null;
  const before = n.state;
  n.state = "OFFLINE";
  n.consecutiveUp = 0;
  n.heardSinceTick = false;
  return before;
}

/**
 * Advances the state machine; call once per probe interval (and at the dead deadline).
 * Returns the previous state when it changed, else null.
 *
 * @param n the neighbour
 * @param now current clock (ms)
 * @param timers probe timers
 */
export function evaluate(n: Neighbour, now: number, timers: ProbeTimers): NeighbourState | null {
  const before = n.state;
  if (now >= deadline(n, timers)) {
    n.consecutiveUp = 0;
    n.heardSinceTick = false;
    if (n.state !== "OFFLINE" && n.state !== "INITIALIZING") n.state = "OFFLINE";
    return n.state === before ? null : before;
  }
  n.consecutiveUp = n.heardSinceTick ? n.consecutiveUp + 1 : 0;
  n.heardSinceTick = false;
  updateQuality(n, now, timers);
  const { loss } = linkStats(n, now, timers);
  const enoughSamples = n.samples.length >= 5;
  switch (n.state) {
    case "INITIALIZING":
    case "OFFLINE":
      if (n.consecutiveUp >= (timers.upProbes ?? 3)) n.state = "ONLINE";
      break;
    case "ONLINE":
      if (enoughSamples && loss !== null && loss >= DEGRADED_ENTER_LOSS) n.state = "DEGRADED";
      break;
    case "DEGRADED":
      if (loss !== null && loss <= DEGRADED_LEAVE_LOSS) n.state = "ONLINE";
      break;
  }
  return n.state === before ? null : before;
}

function updateQuality(n: Neighbour, now: number, timers: ProbeTimers): void {
  const stats = linkStats(n, now, timers);
  if (stats.rttMs === null || stats.loss === null) return;
  const q = classifyQuality({
    loss: stats.loss,
    rttMs: stats.rttMs,
    jitterMs: stats.jitterMs ?? 0,
  });
  if (q === n.quality) {
    n.pendingQuality = null;
    n.pendingCount = 0;
    return;
  }
  if (q !== n.pendingQuality) {
    n.pendingQuality = q;
    n.pendingCount = 0;
  }
  n.pendingCount++;
  if (n.pendingCount >= (timers.qualityHold ?? 10)) {
    n.quality = q;
    n.pendingQuality = null;
    n.pendingCount = 0;
  }
}

/** Whether the neighbour carries traffic (advertised in our LSA). */
export function isUsable(n: Neighbour): boolean {
  return n.state === "ONLINE" || n.state === "DEGRADED";
}
