/**
 * Link weight from measured link quality, as in the seed: weight = 100 / (quality_score + 1).
 *
 * quality_score is in [0, 5] (5 = a perfect link, 0 = a dead one):
 *
 *     quality_score = 5 * delivery^2 * 1 / (1 + rtt_ms / 100) * 1 / (1 + jitter_ms / 50)
 *
 * where delivery = 1 - loss_percent / 100. Delivery is squared because a probe and its reply
 * must both arrive (the ETX idea); RTT halves the score at 100 ms and jitter at 50 ms. So the
 * weight runs from 100 / 6 = 16.67 (0 ms, 0 % loss, 0 ms jitter) to 100 (100 % loss or an
 * infinite RTT), and grows strictly with RTT, loss and jitter.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** What the link prober measures on one link. */
export interface LinkMeasurement {
  /** Round-trip time in ms, >= 0 (Infinity when nothing came back). */
  rtt_ms: number;
  /** Lost probes in percent, 0..100. */
  loss_percent: number;
  /** Mean absolute RTT variation in ms, >= 0 (Infinity allowed). */
  jitter_ms: number;
}

/** Best possible quality score. */
export const MAX_QUALITY_SCORE = 5;
/** RTT (ms) that halves the score. */
export const RTT_HALF_MS = 100;
/** Jitter (ms) that halves the score. */
export const JITTER_HALF_MS = 50;

function check(name: string, value: number, max: number): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || value > max) {
    throw new ValidationError(
      `Invalid link measurement ${name}: ${value} (expected a number from 0 to ${max})`,
    );
  }
}

/** Quality score in [0, 5] from RTT, loss and jitter (formula in the module doc). */
export function qualityScore(m: LinkMeasurement): number {
  check("rtt_ms", m.rtt_ms, Infinity);
  check("loss_percent", m.loss_percent, 100);
  check("jitter_ms", m.jitter_ms, Infinity);
  const delivery = 1 - m.loss_percent / 100;
  const rtt = 1 / (1 + m.rtt_ms / RTT_HALF_MS);
  const jitter = 1 / (1 + m.jitter_ms / JITTER_HALF_MS);
  return MAX_QUALITY_SCORE * delivery * delivery * rtt * jitter;
}

/** Link weight for routing: 100 / (quality_score + 1), in [16.67, 100]. */
export function linkWeight(m: LinkMeasurement): number {
  return 100 / (qualityScore(m) + 1);
}
