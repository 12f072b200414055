import assert from "node:assert/strict";
import type { Lsa } from "../../../core/mesh/control_message.ts";
import { createLsdb, type LsaVerdict } from "../../../core/mesh/lsdb.ts";

const lsa = (origin: string, seq: number, age = 0): Lsa => ({
  origin,
  seq,
  age,
  router_address: "10.255.0.1",
  links: [],
});

Deno.test("lsdb dedups by origin and sequence number", async (t) => {
  const db = createLsdb({ maxAgeS: 60 });
  await t.step("first copy is new", () => assert.equal(db.offer(lsa("a", 5), 0), "new"));
  await t.step(
    "same seq is a duplicate",
    () => assert.equal(db.offer(lsa("a", 5), 10), "duplicate"),
  );
  await t.step("older seq is stale", () => assert.equal(db.offer(lsa("a", 4), 10), "stale"));
  await t.step("newer seq replaces", () => {
    assert.equal(db.offer(lsa("a", 6), 10), "new");
    assert.equal(db.get("a")!.lsa.seq, 6);
  });
  await t.step("an LSA at max age is expired and not stored", () => {
    assert.equal(db.offer(lsa("b", 1, 60), 10), "expired");
    assert.equal(db.get("b"), undefined);
  });
});

Deno.test("lsdb ages stored LSAs and purges origins that stop refreshing", () => {
  const db = createLsdb({ maxAgeS: 30 });
  db.offer(lsa("a", 1, 10), 0);
  db.offer(lsa("b", 1, 0), 0);
  const a = db.get("a")!;
  assert.equal(db.age(a, 5000), 15);
  assert.equal(db.outgoing(a, 5000).age, 15);
  assert.deepEqual(db.purge(19_000), []);
  assert.deepEqual(db.purge(20_000), ["a"]);
  assert.equal(db.size(), 1);
  // An aged-out origin may come back with any sequence number (e.g. after a restart).
  assert.equal(db.offer(lsa("a", 1), 20_000), "new");
});

Deno.test("property: flooding over a random graph with lsdb dedup delivers each LSA once per node and terminates", () => {
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let trial = 0; trial < 50; trial++) {
    const n = 3 + Math.floor(rand() * 20);
    const adj: number[][] = Array.from({ length: n }, () => []);
    const connect = (a: number, b: number) => {
      if (a === b || adj[a].includes(b)) return;
      adj[a].push(b);
      adj[b].push(a);
    };
    for (let i = 1; i < n; i++) connect(i, Math.floor(rand() * i));
    for (let e = 0; e < n; e++) connect(Math.floor(rand() * n), Math.floor(rand() * n));
    const dbs = Array.from({ length: n }, () => createLsdb({ maxAgeS: 60 }));
    const verdicts: Record<LsaVerdict, number> = { new: 0, duplicate: 0, stale: 0, expired: 0 };
    // Each node originates seq 1, some also seq 2, delivered in random interleavings.
    const queue: Array<{ to: number; from: number; lsa: Lsa }> = [];
    const origins: Array<[number, number]> = [];
    for (let o = 0; o < n; o++) {
      origins.push([o, 1]);
      if (rand() < 0.3) origins.push([o, 2]);
    }
    for (const [o, seq] of origins) {
      const l = lsa(`n${o}`, seq);
      dbs[o].offer(l, 0);
      for (const nb of adj[o]) queue.push({ to: nb, from: o, lsa: l });
    }
    let steps = 0;
    while (queue.length > 0) {
      assert.ok(++steps < 100_000, "flooding did not terminate");
      const { to, from, lsa: l } = queue.splice(Math.floor(rand() * queue.length), 1)[0];
      if (l.origin === `n${to}`) continue;
      const v = dbs[to].offer(l, 0);
      verdicts[v]++;
      if (v === "new") {
        for (const nb of adj[to]) if (nb !== from) queue.push({ to: nb, from: to, lsa: l });
      }
    }
    // Reference: every node ends with the highest seq of every origin.
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < n; o++) {
        const want = Math.max(...origins.filter(([x]) => x === o).map(([, s]) => s));
        assert.equal(dbs[i].get(`n${o}`)?.lsa.seq, want, `node ${i} origin ${o}`);
      }
    }
    // Dedup: a node accepts at most one copy of each (origin, seq).
    assert.ok(verdicts.new <= origins.length * (n - 1));
  }
});
