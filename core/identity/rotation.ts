/**
 * SVID rotation: a source of the current X.509-SVID that renews it at half its lifetime
 * ± 10 % jitter and tells subscribers (the mTLS listener) so new handshakes use the new
 * certificate while established sessions carry on untouched.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import { Counter, metric, registry } from "../telemetry/metrics.ts";
import { svidToTlsPem, type X509Svid } from "./svid.ts";
import type { BundleSet } from "./bundle.ts";

const log = getLogger(["x0", "identity"]);

const rotations = metric(
  "x0_identity_svid_rotations_total",
  () =>
    new Counter({
      name: "x0_identity_svid_rotations_total",
      help: "SVID rotations by outcome (ok, error)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
);

/** Certificate chain and key PEM for node:tls. */
export interface TlsPem {
  /** Chain PEM, leaf first. */
  readonly cert: string;
  /** PKCS#8 key PEM. */
  readonly key: string;
}

/** Where the mTLS transport gets our own SVID. */
export interface SvidSource {
  /** The current SVID. */
  current(): X509Svid;
  /** The current SVID as PEM for node:tls. */
  tls(): TlsPem;
  /** Calls `fn` after every rotation; returns an unsubscribe function. */
  subscribe(fn: (svid: X509Svid, pem: TlsPem) => void): () => void;
}

/** Where the mTLS transport gets the bundles it trusts peers with. */
export interface BundleSource {
  /** The current bundles, one per trust domain. */
  bundles(): BundleSet;
}

/**
 * Returns the delay from `now` until rotation: half the SVID lifetime with ± `jitter`
 * (fraction) applied, measured from notBefore; never negative.
 *
 * @param notBefore SVID start
 * @param notAfter SVID end
 * @param options clock, random source in [0,1), jitter fraction (default 0.1)
 */
export function rotationDelayMs(
  notBefore: Date,
  notAfter: Date,
  options: { now?: number; random?: () => number; jitter?: number } = {},
): number {
  const life = notAfter.getTime() - notBefore.getTime();
  const jitter = options.jitter ?? 0.1;
  const r = (options.random ?? Math.random)();
  const at = notBefore.getTime() + (life / 2) * (1 + jitter * (2 * r - 1));
  return Math.max(0, at - (options.now ?? Date.now()));
}

/** A {@link SvidSource} that never rotates (tests, SPIRE-fed agents update it by hand). */
export async function staticSvidSource(svid: X509Svid): Promise<
  SvidSource & {
    set(svid: X509Svid): Promise<void>;
  }
> {
  let cur = svid;
  let pem = await svidToTlsPem(svid);
  const subs = new Set<(s: X509Svid, p: TlsPem) => void>();
  return {
    current: () => cur,
    tls: () => pem,
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    async set(next) {
      pem = await svidToTlsPem(next);
      cur = next;
      for (const fn of subs) fn(cur, pem);
    },
  };
}

/** A rotating SVID source; call `stop()` to clear its timer. */
export interface RotatingSvidSource extends SvidSource {
  /** Renews now (tests, operator command); resolves with the new SVID. */
  rotateNow(): Promise<X509Svid>;
  /** Stops the rotation timer. */
  stop(): void;
}

/**
 * Starts a rotating SVID source: calls `renew` at half-life ± 10 % jitter; on failure retries
 * after a tenth of the remaining lifetime (at least 1 s) and keeps the old SVID meanwhile.
 *
 * @param initial the current SVID (with private key)
 * @param options `renew` produces the next SVID; `random` and `onRotate` for tests
 */
export async function rotatingSvidSource(
  initial: X509Svid,
  options: {
    renew: (current: X509Svid) => Promise<X509Svid>;
    random?: () => number;
    onRotate?: (svid: X509Svid) => void | Promise<void>;
  },
): Promise<RotatingSvidSource> {
  const inner = await staticSvidSource(initial);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = (delay: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
  };
  const rotate = async () => {
    const next = await options.renew(inner.current());
    await inner.set(next);
    await options.onRotate?.(next);
    rotations.inc({ outcome: "ok" });
    log.info("Rotated SVID {id}; valid until {notAfter}", {
      id: next.id.uri,
      notAfter: next.chain[0].notAfter.toISOString(),
    });
    return next;
  };
  const leaf = () => inner.current().chain[0];
  const planNext = () =>
    schedule(rotationDelayMs(leaf().notBefore, leaf().notAfter, { random: options.random }));
  async function tick() {
    try {
      await rotate();
      planNext();
    } catch (err) {
      rotations.inc({ outcome: "error" });
      const left = leaf().notAfter.getTime() - Date.now();
      log.warn("SVID rotation failed: {error}", { error: errorMessage(err) });
      schedule(Math.max(1000, left / 10));
    }
  }
  planNext();
  return {
    current: inner.current,
    tls: inner.tls,
    subscribe: inner.subscribe,
    async rotateNow() {
      const next = await rotate();
      planNext();
      return next;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
