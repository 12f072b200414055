/**
 * The liveness helper on a real veth link between two network namespaces: a silent cut
 * (iptables DROP, carrier up) is reported `down` within dead + one interval and `up` after the
 * restore; a quiet link does not flap for 20 s at 10 ms hellos. Needs root and iproute2/iptables.
 */
import assert from "node:assert/strict";
import { ensureLivenessBinary } from "../../native/ensure_built.ts";
import { must, run } from "../testbed/netns.ts";

const INTERVAL = 10;
const DEAD = 30;
const QUIET_S = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function missing(): Promise<string | null> {
  if (Deno.uid() !== 0) return "root";
  for (const tool of ["ip", "iptables"]) {
    const ok = await run(tool, ["-V"]).then((r) => r.code === 0, () => false);
    if (!ok) return tool;
  }
  return null;
}

interface Helper {
  lines: Array<{ line: string; at: number }>;
  write(line: string): Promise<void>;
  close(): Promise<void>;
}

function spawnHelper(bin: string, netns: string): Helper {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      netns,
      bin,
      "run",
      "--port",
      "6972",
      "--interval",
      String(INTERVAL),
      "--dead",
      String(DEAD),
      // As the agent runs it by default: SCHED_FIFO, so a loaded host does not starve hellos.
      "--realtime",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: Helper["lines"] = [];
  const reading = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push({ line: buf.slice(0, i), at: performance.now() });
        buf = buf.slice(i + 1);
      }
    }
  })();
  const w = child.stdin.getWriter();
  return {
    lines,
    write: (line) => w.write(new TextEncoder().encode(line + "\n")),
    async close() {
      await w.close().catch(() => {});
      await child.status;
      await reading;
    },
  };
}

const drop = (netns: string, op: "-A" | "-D", dev: string) =>
  run("ip", [
    "netns",
    "exec",
    netns,
    "sh",
    "-c",
    `iptables -w -t raw ${op} PREROUTING -i ${dev} -j DROP && ` +
    `iptables -w -t raw ${op} OUTPUT -o ${dev} -j DROP`,
  ]);

Deno.test("liveness helper on a veth link: silent cut down within dead + one interval, restore up, no flaps", async (t) => {
  const why = await missing();
  if (why) {
    console.log(`SKIP: liveness netns test needs ${why}`);
    if (Deno.env.get("CI") === "true") throw new Error(`CI needs ${why} for the netns test`);
    return;
  }
  const bin = await ensureLivenessBinary();
  const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0");
  const [na, nb] = [`x0lv${tag}-a`, `x0lv${tag}-b`];
  const [ia, ib] = [`x0lv${tag}a`, `x0lv${tag}b`];
  const [aa, ab] = ["10.254.7.0", "10.254.7.1"];
  const helpers: Helper[] = [];
  try {
    await must("ip", ["netns", "add", na]);
    await must("ip", ["netns", "add", nb]);
    await must("ip", ["link", "add", ia, "netns", na, "type", "veth", "peer", ib, "netns", nb]);
    await must("ip", ["-n", na, "addr", "add", `${aa}/31`, "dev", ia]);
    await must("ip", ["-n", nb, "addr", "add", `${ab}/31`, "dev", ib]);
    for (const [ns, dev] of [[na, ia], [nb, ib]]) {
      await must("ip", ["-n", ns, "link", "set", dev, "up"]);
      await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    const A = spawnHelper(bin, na), B = spawnHelper(bin, nb);
    helpers.push(A, B);
    // A flushes its protocol-99 routes through the link itself on `down`; B leaves them alone.
    await A.write(`link ${ab} ${aa} ${ia} none proto=99`);
    await B.write(`link ${aa} ${ab} ${ib} none`);
    await must("ip", ["-n", na, "route", "add", "10.254.99.1/32", "via", ab, "proto", "99"]);
    await must("ip", ["-n", nb, "route", "add", "10.254.99.2/32", "via", aa, "proto", "99"]);
    const routes99 = async (ns: string) =>
      (await must("ip", ["-n", ns, "route", "show", "proto", "99"])).trim();
    const verdicts = (h: Helper) =>
      h.lines.filter((l) => /^(up|down) /.test(l.line)).map((l) => l.line.split(" ")[0]);

    await t.step(`a quiet link comes up once and never flaps for ${QUIET_S} s`, async () => {
      await sleep(QUIET_S * 1000);
      assert.deepEqual(verdicts(A), ["up"]);
      assert.deepEqual(verdicts(B), ["up"]);
    });

    await t.step("a silent cut (carrier up) is down within dead + one interval", async () => {
      const before = performance.now();
      const [ra, rb] = await Promise.all([drop(na, "-A", ia), drop(nb, "-A", ib)]);
      assert.equal(ra.code + rb.code, 0, ra.stderr + rb.stderr);
      const cutAt = performance.now();
      await sleep(300);
      for (const h of [A, B]) {
        const down = h.lines.find((l) => l.line.startsWith("down "));
        assert.ok(down, "no down reported");
        // The cut took effect somewhere between `before` and `cutAt`.
        const after = down.at - cutAt;
        const atMost = down.at - before;
        assert.ok(
          after <= DEAD + INTERVAL + 15 && atMost >= DEAD - INTERVAL,
          `down ${after.toFixed(1)}..${atMost.toFixed(1)} ms after the cut`,
        );
      }
      assert.equal(await routes99(na), "", "A's helper did not flush its routes through the link");
      assert.match(await routes99(nb), /10\.254\.99\.2/);
    });

    await t.step("restored, it is up again after a few intervals", async () => {
      const [ra, rb] = await Promise.all([drop(na, "-D", ia), drop(nb, "-D", ib)]);
      assert.equal(ra.code + rb.code, 0, ra.stderr + rb.stderr);
      const restoredAt = performance.now();
      await sleep(500);
      for (const h of [A, B]) {
        assert.deepEqual(verdicts(h), ["up", "down", "up"]);
        const up = h.lines.filter((l) => l.line.startsWith("up ")).at(-1)!;
        assert.ok(up.at - restoredAt < 8 * INTERVAL + 30, `up ${up.at - restoredAt} ms later`);
      }
    });
  } finally {
    for (const h of helpers) await h.close();
    await run("ip", ["netns", "del", na]);
    await run("ip", ["netns", "del", nb]);
  }
});
