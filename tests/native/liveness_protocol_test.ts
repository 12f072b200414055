/**
 * The liveness helper over loopback (no root needed): a TypeScript peer speaking the wire
 * format with WebCrypto at 127.0.0.2, the helper at 127.0.0.1, driven through
 * core/mesh/fast_liveness.ts as the agent drives it.
 */
import assert from "node:assert/strict";
import { ensureLivenessBinary } from "../../native/ensure_built.ts";
import {
  type FastLiveness,
  livenessKey,
  type LivenessVerdict,
  startFastLiveness,
} from "../../core/mesh/fast_liveness.ts";
import type { ProbeAuth } from "../../core/mesh/prober.ts";
import { seededRandom } from "../../core/random/seeded_random.ts";
import {
  encodeLiveness,
  fromHex,
  livenessPeer,
  LOCAL,
  LOOPBACK_LINK as link,
  PEER,
} from "./liveness_peer.ts";
import { alive as processAlive } from "../testbed/netns.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const port = () => 20000 + Math.floor(Math.random() * 20000);

const hmacKey = () =>
  crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );

/** A ProbeAuth with one HMAC key per peer (as the identity keyring provides); `roll` replaces it. */
async function fakeAuth(): Promise<ProbeAuth & { roll(): Promise<void> }> {
  let key = await hmacKey();
  return {
    async roll() {
      key = await hmacKey();
    },
    has: (p) => p === PEER,
    async seal(_p, payload) {
      const tag = new Uint8Array(await crypto.subtle.sign("HMAC", key, new Uint8Array(payload)));
      return new Uint8Array([...payload, ...tag.subarray(0, 16)]);
    },
    open: () => Promise.resolve(null),
  };
}

interface Run {
  fast: FastLiveness;
  events: Array<{ verdict: LivenessVerdict; at: number }>;
  peer: Awaited<ReturnType<typeof livenessPeer>>;
  port: number;
  hellos(options: { key?: Uint8Array; hear?: boolean; ms: number }): Promise<number>;
  close(): Promise<void>;
}

async function run(options: { auth?: ProbeAuth; intervalMs?: number; deadMs?: number } = {}) {
  await ensureLivenessBinary();
  const p = port();
  const events: Run["events"] = [];
  const peer = await livenessPeer(PEER, p);
  const fast = await startFastLiveness([link], {
    port: p,
    intervalMs: options.intervalMs ?? 10,
    deadMs: options.deadMs ?? 30,
    upIntervals: 3,
    auth: options.auth,
    onChange: (_peer, verdict) => events.push({ verdict, at: performance.now() }),
  });
  const session = (Math.random() * 2 ** 32) >>> 0;
  let seq = 0;
  const r: Run = {
    fast,
    events,
    peer,
    port: p,
    /** Sends hellos every 10 ms for `ms`; returns the time of the last one. */
    async hellos({ key, hear = true, ms }) {
      const until = performance.now() + ms;
      let last = 0;
      while (performance.now() < until) {
        await peer.send(
          await encodeLiveness({ hear, session, seq: ++seq }, { key, from: PEER, to: LOCAL }),
          LOCAL,
        );
        last = performance.now();
        await sleep(10);
      }
      return last;
    },
    async close() {
      await fast.stop();
      await peer.close();
    },
  };
  return r;
}

const waitFor = async (cond: () => boolean, ms: number) => {
  const until = performance.now() + ms;
  while (!cond() && performance.now() < until) await sleep(5);
  return cond();
};

Deno.test("liveness helper: up after good hellos, down within dead + one interval of silence", async (t) => {
  const r = await run();
  try {
    await t.step("sends hellos to the peer, unauthenticated when probe auth is off", async () => {
      assert.ok(await waitFor(() => r.peer.received.length >= 3, 2000));
      const first = r.peer.received[0];
      assert.equal(first.length, 16);
      assert.equal(new TextDecoder().decode(first.subarray(0, 4)), "X0LV");
      assert.equal(first[5] & 1, 0);
    });
    let last = 0;
    await t.step("up after three intervals with hellos", async () => {
      const sending = r.hellos({ ms: 300 });
      assert.ok(await waitFor(() => r.fast.verdict(PEER) === "up", 300));
      last = await sending;
    });
    await t.step("down within dead (30 ms) + one interval after the last hello", async () => {
      assert.ok(await waitFor(() => r.fast.verdict(PEER) === "down", 500));
      const down = r.events.find((e) => e.verdict === "down")!;
      const late = down.at - last;
      // The helper's deadline is 30 ms after it read the hello; allow one interval and some
      // scheduling slack of this shared host.
      assert.ok(late >= 25 && late <= 30 + 10 + 15, `down ${late.toFixed(1)} ms after last`);
    });
    await t.step("up again only after hellos resume, as the helper's own stats say", async () => {
      await r.hellos({ ms: 150 });
      assert.equal(r.fast.verdict(PEER), "up");
      const s = await r.fast.stats() as { rx: number; links: Array<{ verdict: string }> };
      assert.ok(s.rx > 10);
      assert.equal(s.links[0].verdict, "up");
      assert.deepEqual(r.events.map((e) => e.verdict), ["up", "down", "up"]);
    });
  } finally {
    await r.close();
  }
});

Deno.test("liveness helper: hellos without the HEAR flag (peer cannot hear us) never bring it up", async () => {
  const r = await run();
  try {
    await r.hellos({ hear: false, ms: 200 });
    assert.equal(r.fast.verdict(PEER), "unknown");
    // Ours say we hear the peer: the one-way problem is the peer's to report.
    assert.ok(r.peer.received.some((p) => (p[5] & 2) === 2));
  } finally {
    await r.close();
  }
});

Deno.test("liveness helper: authenticated hellos signed with WebCrypto verify; forged ones are counted", async (t) => {
  const auth = await fakeAuth();
  const r = await run({ auth });
  try {
    const key = fromHex(await livenessKey(auth, PEER));
    await t.step("the helper's own hellos carry a tag WebCrypto reproduces", async () => {
      assert.ok(await waitFor(() => r.peer.received.length >= 1, 2000));
      const got = r.peer.received.at(-1)!;
      assert.equal(got.length, 32);
      assert.equal(got[5] & 1, 1);
      const v = new DataView(got.buffer, got.byteOffset);
      const again = await encodeLiveness(
        { hear: (got[5] & 2) === 2, session: v.getUint32(8), seq: v.getUint32(12) },
        { key, from: LOCAL, to: PEER },
      );
      assert.deepEqual(got, again);
    });
    await t.step("forged hellos (wrong key) do not count", async () => {
      await r.hellos({ key: crypto.getRandomValues(new Uint8Array(32)), ms: 150 });
      assert.equal(r.fast.verdict(PEER), "unknown");
      const s = await r.fast.stats() as { rejected: Record<string, number> };
      assert.ok(s.rejected.auth >= 10, JSON.stringify(s));
    });
    await t.step("unauthenticated hellos are refused on an authenticated link", async () => {
      await r.hellos({ ms: 100 });
      assert.equal(r.fast.verdict(PEER), "unknown");
      const s = await r.fast.stats() as { rejected: Record<string, number> };
      assert.ok(s.rejected.mode >= 5, JSON.stringify(s));
    });
    await t.step("correctly signed hellos bring it up", async () => {
      await r.hellos({ key, ms: 150 });
      assert.equal(r.fast.verdict(PEER), "up");
    });
  } finally {
    await r.close();
  }
});

Deno.test("liveness helper: a key roll (new mTLS session) on an up link never takes it down", async (t) => {
  const auth = await fakeAuth();
  const r = await run({ auth });
  try {
    const k1 = fromHex(await livenessKey(auth, PEER));
    await r.hellos({ key: k1, ms: 150 });
    assert.equal(r.fast.verdict(PEER), "up");
    await auth.roll();
    const k2 = fromHex(await livenessKey(auth, PEER));
    const tagged = async (key: Uint8Array) => {
      const got = r.peer.received.at(-1)!;
      const v = new DataView(got.buffer, got.byteOffset);
      const again = await encodeLiveness(
        { hear: (got[5] & 2) === 2, session: v.getUint32(8), seq: v.getUint32(12) },
        { key, from: LOCAL, to: PEER },
      );
      return again.every((b, i) => b === got[i]);
    };
    await t.step("the peer still on the old key: accepted, and we keep sending it", async () => {
      // Long enough for the agent's key poll (250 ms) to hand the helper the new key.
      await r.hellos({ key: k1, ms: 600 });
      assert.equal(r.fast.verdict(PEER), "up");
      assert.ok(await tagged(k1), "helper switched keys before the peer did");
    });
    await t.step("the peer on the new key: accepted, and we switch to it", async () => {
      await r.hellos({ key: k2, ms: 150 });
      assert.equal(r.fast.verdict(PEER), "up");
      assert.ok(await tagged(k2), "helper still sends the old key");
    });
    assert.deepEqual(r.events.map((e) => e.verdict), ["up"]);
  } finally {
    await r.close();
  }
});

Deno.test("liveness helper: garbage datagrams are counted and ignored, never crash it", async () => {
  const r = await run();
  try {
    const rand = seededRandom(11);
    const valid = await encodeLiveness({ hear: true, session: 1, seq: 1 }, {
      from: PEER,
      to: LOCAL,
    });
    const N = 3000;
    for (let i = 0; i < N; i++) {
      let d: Uint8Array;
      if (i % 3 === 0) {
        d = new Uint8Array(
          Array.from({ length: 1 + ((rand() * 63) | 0) }, () => (rand() * 256) | 0),
        );
      } else {
        // Mutate a valid hello: every field, one or two bytes at a time (never the seq field
        // alone, which would be a valid packet).
        d = new Uint8Array(valid);
        const j = [0, 1, 2, 3, 4, 5, 6, 7][(rand() * 8) | 0];
        d[j] ^= 1 + ((rand() * 255) | 0);
        if (i % 5 === 0) d = d.subarray(0, 1 + ((rand() * 15) | 0));
      }
      await r.peer.send(d, LOCAL);
      if (i % 20 === 0) await sleep(1);
    }
    await sleep(100);
    const s = await r.fast.stats() as { rx: number; rejected: Record<string, number> };
    assert.ok(s, "helper still answers");
    const rejected = Object.entries(s.rejected).filter(([k]) => k !== "source" && k !== "replay")
      .reduce((a, [, v]) => a + v, 0);
    // Loopback may drop a datagram of a burst when the helper is descheduled: every one that
    // arrived is counted, as a rejection or (a mutation that happens to be valid) as a hello.
    assert.ok(rejected + s.rx <= N && rejected + s.rx >= N * 0.99, JSON.stringify(s));
    assert.ok(s.rx <= 10, JSON.stringify(s));
    assert.equal(r.fast.verdict(PEER), "unknown");
  } finally {
    await r.close();
  }
});

Deno.test("liveness helper: a crashed helper is restarted and the verdict falls back to unknown", async () => {
  const r = await run();
  try {
    const sending = r.hellos({ ms: 1500 });
    assert.ok(await waitFor(() => r.fast.verdict(PEER) === "up", 500));
    const pid = r.fast.pid()!;
    Deno.kill(pid, "SIGKILL");
    assert.ok(await waitFor(() => r.fast.verdict(PEER) === "unknown", 500));
    assert.ok(await waitFor(() => r.fast.pid() !== null && r.fast.pid() !== pid, 1000));
    assert.ok(await waitFor(() => r.fast.verdict(PEER) === "up", 800));
    await sending;
  } finally {
    await r.close();
  }
});

Deno.test("liveness helper: bad command lines get an error line and change nothing", async () => {
  const bin = await ensureLivenessBinary();
  const child = new Deno.Command(bin, {
    args: ["run", "--port", String(port()), "--interval", "10", "--dead", "30"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  const lines = [
    "link",
    "link 127.0.0.2 127.0.0.1 lo abc",
    "link 127.0.0.2 127.0.0.2 lo none",
    "frobnicate",
    "x".repeat(5000),
    "\u0000\u00ff garbage",
    "stats",
  ];
  await w.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await w.close();
  const out = new TextDecoder().decode((await child.output()).stdout).trim().split("\n");
  assert.equal(out[0].split(" ")[0], "ready");
  assert.equal(out.filter((l) => l.startsWith("error")).length, 6, out.join("\n"));
  const stats = JSON.parse(out.at(-1)!.slice(6));
  assert.equal(stats.bad_commands, 6);
  assert.deepEqual(stats.links, []);
});

Deno.test("liveness helper: refuses timers where one lost hello could flap", async () => {
  const bin = await ensureLivenessBinary();
  const out = await new Deno.Command(bin, {
    args: ["run", "--port", "7000", "--interval", "20", "--dead", "30"],
    stdin: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /--dead >= 2 intervals/);
});

Deno.test("liveness helper: dies with its parent (kill -9 of the agent leaves no orphan)", async () => {
  const bin = await ensureLivenessBinary();
  // A stand-in parent that spawns the helper with piped stdin and then waits for ever.
  const script = `const c = new Deno.Command(${
    JSON.stringify(bin)
  }, { args: ["run", "--port", "${port()}"],
    stdin: "piped", stdout: "null" }).spawn(); console.log(c.pid); await new Promise(() => setInterval(() => {}, 1000));`;
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["eval", `--allow-run=${bin}`, script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const pid = Number((await reader.read()).value?.trim());
  assert.ok(pid > 0);
  // Not Deno.stat("/proc/..."): Deno refuses /proc paths without --allow-all.
  const alive = () => processAlive(pid);
  assert.ok(await alive());
  parent.kill("SIGKILL");
  await parent.status;
  await reader.cancel();
  const until = performance.now() + 2000;
  while (await alive() && performance.now() < until) await sleep(20);
  assert.equal(await alive(), false, "helper outlived its parent");
});
