import assert from "node:assert/strict";
import {
  canRunPrivileged,
  createVethPair,
  ipLinkShowsXdp,
  sendUdp,
  tcShowsIngressFilter,
} from "../core/ebpf/netns_fixture.ts";
import { cli } from "../core/ebpf/cli_runner.ts";

const privileged = await canRunPrivileged("ebpf CLI tests (netns + XDP)");

Deno.test({
  name: "ebpf attach / stats --json / detach: stats from a later process count exactly",
  ignore: !privileged,
  fn: async (t) => {
    const pair = await createVethPair();
    const where = ["--iface", pair.ifB, "--netns", pair.nsB];
    try {
      await t.step("attach exits and leaves the telemetry program attached", async () => {
        const r = await cli(["ebpf", "attach", ...where, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).program, "x0_telemetry");
        assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), true);
      });
      await t.step("stats --json reports exactly the packets sent", async () => {
        await sendUdp(pair.nsA, { from: pair.ipA, to: pair.ipB, port: 7200, count: 2500 });
        const r = await cli(["ebpf", "stats", ...where, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        const s = JSON.parse(r.stdout);
        assert.equal(s.program, "x0_telemetry");
        assert.equal(s.counters.source, "ebpf");
        assert.equal(s.counters.rxPackets, 2500);
        assert.equal(s.counters.ethertypes.ipv4, 2500);
        assert.deepEqual(s.counters.neighbours.map((n: { mac: string }) => n.mac), [pair.macA]);
      });
      await t.step("detach removes it: ip link shows no XDP program", async () => {
        const r = await cli(["ebpf", "detach", ...where, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).detached, "x0_telemetry");
        assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
      });
      await t.step("stats without a program falls back to /proc/net/dev", async () => {
        const s = JSON.parse((await cli(["ebpf", "stats", ...where, "--json"])).stdout);
        assert.equal(s.program, null);
        assert.equal(s.counters.source, "procfs");
        assert.ok(s.counters.rxPackets >= 2500);
      });
    } finally {
      await cli(["ebpf", "detach", ...where]);
      await pair.cleanup();
    }
  },
});

Deno.test("ebpf stats with libbpf missing prints /proc/net/dev counters and one warning", async () => {
  const r = await cli(["ebpf", "stats", "--iface", "lo", "--json"], {
    X0_LIBBPF: "/nonexistent/libbpf.so.1",
  });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.counters.source, "procfs");
  assert.match(s.ebpfUnavailable, /nonexistent/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

Deno.test("ebpf stats rejects bad input with one stderr line and exit code 1", async () => {
  for (
    const args of [
      ["--iface", "x0-no-such-if"],
      ["--iface", "bad/name"],
      ["--iface", "lo", "--netns", "x0-no-such-netns"],
      ["--iface", "lo", "--netns", "../etc"],
    ]
  ) {
    const r = await cli(["ebpf", "stats", ...args, "--json"]);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^Error: /);
  }
});

Deno.test({
  name: "ebpf attach --mode tc counts exactly and detach removes the TC filter",
  ignore: !privileged,
  fn: async () => {
    const pair = await createVethPair();
    const where = ["--iface", pair.ifB, "--netns", pair.nsB];
    try {
      const a = await cli(["ebpf", "attach", ...where, "--mode", "tc", "--json"]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(JSON.parse(a.stdout).program, "x0_telemetry_tc");
      assert.equal(await tcShowsIngressFilter(pair.nsB, pair.ifB), true);
      assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
      await sendUdp(pair.nsA, { from: pair.ipA, to: pair.ipB, port: 7201, count: 1200 });
      const s = JSON.parse((await cli(["ebpf", "stats", ...where, "--json"])).stdout);
      assert.equal(s.program, "x0_telemetry_tc");
      assert.equal(s.counters.rxPackets, 1200);
      const d = await cli(["ebpf", "detach", ...where, "--json"]);
      assert.deepEqual(JSON.parse(d.stdout).all, ["x0_telemetry_tc"]);
      assert.equal(await tcShowsIngressFilter(pair.nsB, pair.ifB), false);
    } finally {
      await cli(["ebpf", "detach", ...where]);
      await pair.cleanup();
    }
  },
});
