/**
 * The link-state database: the newest LSA of every origin, deduplicated by origin and sequence
 * number, with ages that grow while stored and origins that age out when they stop refreshing.
 *
 * @module
 */
import type { Lsa } from "./control_message.ts";

/** What the database did with an offered LSA. */
export type LsaVerdict = "new" | "duplicate" | "stale" | "expired";

/** One stored LSA. */
export interface LsdbEntry {
  lsa: Lsa;
  /** Clock (ms) when this copy was stored. */
  storedAt: number;
}

/** The database. */
export interface Lsdb {
  /**
   * Offers an LSA: stored when newer than what we hold ("new"); otherwise the reason it was
   * not. An LSA at or over the maximum age is "expired".
   */
  offer(lsa: Lsa, now: number): LsaVerdict;
  get(origin: string): LsdbEntry | undefined;
  /** Current age in seconds of a stored LSA. */
  age(entry: LsdbEntry, now: number): number;
  /** The LSA as it should be sent now (age brought up to date). */
  outgoing(entry: LsdbEntry, now: number): Lsa;
  entries(): LsdbEntry[];
  size(): number;
  /** Removes the LSAs that reached the maximum age; returns their origins. */
  purge(now: number): string[];
}

/**
 * Creates an empty database.
 *
 * @param options maximum age of an LSA in seconds
 */
export function createLsdb(options: { maxAgeS: number }): Lsdb {
  const db = new Map<string, LsdbEntry>();
  const age = (e: LsdbEntry, now: number) => e.lsa.age + Math.max(0, now - e.storedAt) / 1000;
  return {
    offer(lsa, now) {
      if (lsa.age >= options.maxAgeS) return "expired";
      const held = db.get(lsa.origin);
      if (held && age(held, now) < options.maxAgeS) {
        if (lsa.seq === held.lsa.seq) return "duplicate";
        if (lsa.seq < held.lsa.seq) return "stale";
      }
      db.set(lsa.origin, { lsa, storedAt: now });
      return "new";
    },
    get: (origin) => db.get(origin),
    age,
    outgoing: (e, now) => ({
      ...e.lsa,
      age: Math.min(86_400, Math.round(age(e, now) * 1000) / 1000),
    }),
    entries: () => [...db.values()],
    size: () => db.size,
    purge(now) {
      const removed: string[] = [];
      for (const [origin, e] of db) {
        if (age(e, now) >= options.maxAgeS) {
          db.delete(origin);
          removed.push(origin);
        }
      }
      return removed;
    },
  };
}
