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

/** RTT samples kept (one every {@linkcode ECHO_EVERY} probes). */
const RTT_WINDOW = 8;

/** Every how many probes the prober asks for a reply (an RTT sample). */
export const ECHO_EVERY = 4;

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
  /** Sequence numbers of the neighbour's recent probes that arrived (loss window). */
  rxSeqs: number[];
  /** Highest probe sequence number heard and the first one of the current run. */
  maxSeq: number;
  firstSeq: number;
  /** Recent RTT samples in ms. */
  rtts: number[];
  quality: LinkQuality;
  pendingQuality: LinkQuality | null;
  pendingCount: number;
  /**
   * Until this clock time the neighbour is on probation: just after its first adjacency (a cold
   * start, when routers are busy starting up) it is declared dead only after
   * {@linkcode PROBATION_FACTOR} times the usual silence. A neighbour that returns from OFFLINE
   * gets no probation, so failures after the first minute are detected at full speed.
   */
  probationUntil: number;
}

/** How long a first adjacency is on probation, and how much longer its dead interval is. */
export const PROBATION_MS = 3000;
export const PROBATION_FACTOR = 4;

/** Creates a neighbour first heard now. */
export function newNeighbour(
  id: { nodeId: string; routerAddress: string; controlPort: number },
): Neighbour {
  return {
    nodeId: id.nodeId,
    routerAddress: id.routerAddress,
    controlPort: id.controlPort,
    state: "INITIALIZING",
    lastHeard: -Infinity,
    lastSeenWall: null,
    consecutiveUp: 0,
    heardSinceTick: false,
    rxSeqs: [],
    maxSeq: -1,
    firstSeq: -1,
    rtts: [],
    quality: "GOOD",
    pendingQuality: null,
    pendingCount: 0,
    probationUntil: -Infinity,
  };
}

/** Records any valid packet heard from the neighbour. */
export function recordHeard(n: Neighbour, now: number, wallNow: number): void {
  n.lastHeard = now;
  n.lastSeenWall = wallNow;
  n.heardSinceTick = true;
}

/** Records a probe the neighbour sent us (its sequence number feeds the loss window). */
export function recordProbeReceived(n: Neighbour, seq: number, timers: ProbeTimers): void {
  const w = timers.window ?? 20;
  if (n.maxSeq < 0 || seq + 4 * w < n.maxSeq || seq > n.maxSeq + 1_000_000) {
    // First probe, or the neighbour restarted and counts from the beginning again.
    n.rxSeqs = [];
    n.firstSeq = seq;
    n.maxSeq = seq;
  }
  if (seq > n.maxSeq) n.maxSeq = seq;
  if (!n.rxSeqs.includes(seq)) n.rxSeqs.push(seq);
  const floor = n.maxSeq - w;
  if (n.rxSeqs.length > w || n.rxSeqs[0] <= floor) n.rxSeqs = n.rxSeqs.filter((s) => s > floor);
}

/** Records a round-trip time measured from a reply. */
export function recordRtt(n: Neighbour, rttMs: number): void {
  n.rtts.push(Math.max(0, rttMs));
  if (n.rtts.length > RTT_WINDOW) n.rtts.shift();
}

/** Link measurements over the window. */
export interface LinkStats {
  rttMs: number | null;
  loss: number | null;
  jitterMs: number | null;
}

/**
 * Mean RTT and jitter (mean absolute difference of consecutive RTTs) over the RTT samples;
 * loss as the share of the neighbour's last `window` probe sequence numbers that never arrived.
 */
export function linkStats(n: Neighbour, timers: ProbeTimers): LinkStats {
  const w = timers.window ?? 20;
  const span = Math.min(w, n.maxSeq - n.firstSeq + 1);
  const loss = n.maxSeq < 0 || span <= 0 ? null : Math.max(0, 1 - n.rxSeqs.length / span);
  const rtts = n.rtts;
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
  const factor = n.lastHeard < n.probationUntil ? PROBATION_FACTOR : 1;
  return n.lastHeard + factor * timers.deadProbes * timers.intervalMs;
}

/** Marks the neighbour OFFLINE; the outage is not link loss, so the loss window restarts. */
function goOffline(n: Neighbour): void {
  n.state = "OFFLINE";
  n.consecutiveUp = 0;
  n.heardSinceTick = false;
  n.rxSeqs = [];
  n.maxSeq = -1;
  n.firstSeq = -1;
}

/**
 * Declares the neighbour OFFLINE when its dead deadline has passed (called from the dead timer,
 * between probe intervals). Returns the previous state when it changed, else null.
 */
export function checkDead(n: Neighbour, now: number, timers: ProbeTimers): NeighbourState | null {
  if (now < deadline(n, timers) || !isUsable(n)) return null;
  const before = n.state;
  goOffline(n);
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
    if (n.state !== "OFFLINE" && n.state !== "INITIALIZING") goOffline(n);
    return n.state === before ? null : before;
  }
  n.consecutiveUp = n.heardSinceTick ? n.consecutiveUp + 1 : 0;
  n.heardSinceTick = false;
  const stats = linkStats(n, timers);
  updateQuality(n, stats, timers);
  const { loss } = stats;
  const enoughSamples = n.rxSeqs.length >= 5;
  switch (n.state) {
    case "INITIALIZING":
    case "OFFLINE":
      if (n.consecutiveUp >= (timers.upProbes ?? 3)) {
        if (n.state === "INITIALIZING") n.probationUntil = now + PROBATION_MS;
        n.state = "ONLINE";
      }
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

function updateQuality(n: Neighbour, stats: LinkStats, timers: ProbeTimers): void {
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
