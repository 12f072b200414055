import assert from "node:assert/strict";
import { openLibbpf } from "../../../ffi/libbpf.ts";
import { ValidationError } from "../../../core/errors.ts";
import { chaosConfigFor, clearChaos, percentToPpm, setChaos } from "../../../core/ebpf/chaos.ts";
import { findAttached } from "../../../core/ebpf/program_loader.ts";
import { findTelemetry, readInterfaceStats } from "../../../core/ebpf/telemetry_reader.ts";
import { startEbpfTelemetry } from "../../../core/ebpf/telemetry.ts";
import { canRunPrivileged, createVethPair, deliver, ipLinkShowsXdp } from "./netns_fixture.ts";

const privileged = await canRunPrivileged("chaos injector tests (netns + XDP)");

Deno.test("percentToPpm() and chaosConfigFor() validate their input", () => {
  assert.equal(percentToPpm(0), 0);
  assert.equal(percentToPpm(12.5), 125_000);
  assert.equal(percentToPpm(100), 1_000_000);
  for (const bad of [-1, 100.01, NaN, Infinity]) {
    assert.throws(() => percentToPpm(bad), ValidationError);
  }
  assert.throws(() => chaosConfigFor({ iface: "x", percent: 5, ethertype: 0x10 }), /EtherType/);
  assert.throws(() => chaosConfigFor({ iface: "x", percent: 5, ipProto: 256 }), /IP protocol/);
  assert.deepEqual(chaosConfigFor({ iface: "x", percent: 5, ethertype: 0x0800, ipProto: 17 }), {
    dropPpm: 50_000,
    ethertype: 0x0800,
    ipProto: 17,
  });
});

for (const percent of [30, 70]) {
  Deno.test({
    name: `chaos injector drops ${percent} % ± 3 points of 10,000 packets, and counts every drop`,
    ignore: !privileged,
    fn: async () => {
      const libbpf = openLibbpf();
      const pair = await createVethPair();
      try {
        const r = setChaos(libbpf, { iface: pair.ifB, netns: pair.nsB, percent });
        assert.equal(r.action, "attached");
        const sent = 10_000;
        const received = await deliver(pair, 9100, sent);
        const dropRate = 100 * (sent - received) / sent;
        assert.ok(Math.abs(dropRate - percent) <= 3, `drop rate ${dropRate} % vs ${percent} %`);
        const stats = readInterfaceStats(libbpf, pair.ifB, pair.nsB);
        assert.equal(stats.program, "x0_chaos");
        assert.equal(stats.chaos?.dropped, sent - received, "injector counted exactly the losses");
        assert.equal(stats.chaos?.seen, sent);
        assert.equal(clearChaos(libbpf, { iface: pair.ifB, netns: pair.nsB }).action, "detached");
        assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
      } finally {
        await pair.cleanup();
      }
    },
  });
}

Deno.test({
  name: "chaos filters drop only the configured EtherType or IP protocol",
  ignore: !privileged,
  fn: async (t) => {
    const libbpf = openLibbpf();
    const pair = await createVethPair();
    try {
      await t.step("100 % of TCP leaves UDP untouched", async () => {
        setChaos(libbpf, { iface: pair.ifB, netns: pair.nsB, percent: 100, ipProto: 6 });
        assert.equal(await deliver(pair, 9200, 1000), 1000);
      });
      await t.step("100 % of ARP leaves IPv4 untouched", async () => {
        const r = setChaos(libbpf, {
          iface: pair.ifB,
          netns: pair.nsB,
          percent: 100,
          ethertype: 0x0806,
        });
        assert.equal(r.action, "configured");
        assert.equal(await deliver(pair, 9201, 1000), 1000);
      });
      await t.step("100 % of UDP over IPv4 drops everything sent", async () => {
        setChaos(libbpf, {
          iface: pair.ifB,
          netns: pair.nsB,
          percent: 100,
          ethertype: 0x0800,
          ipProto: 17,
        });
        const droppedBefore = readInterfaceStats(libbpf, pair.ifB, pair.nsB).chaos?.dropped ?? 0;
        assert.equal(await deliver(pair, 9202, 500), 0);
        assert.equal(
          readInterfaceStats(libbpf, pair.ifB, pair.nsB).chaos?.dropped,
          droppedBefore + 500,
        );
      });
      await t.step("bad input changes nothing", () => {
        const before = readInterfaceStats(libbpf, pair.ifB, pair.nsB).chaos?.config;
        assert.throws(
          () => setChaos(libbpf, { iface: pair.ifB, netns: pair.nsB, percent: 101 }),
          ValidationError,
        );
        assert.deepEqual(readInterfaceStats(libbpf, pair.ifB, pair.nsB).chaos?.config, before);
      });
    } finally {
      clearChaos(libbpf, { iface: pair.ifB, netns: pair.nsB });
      await pair.cleanup();
    }
  },
});

for (const mode of ["skb", "tc"] as const) {
  Deno.test({
    name:
      `chaos on an interface with ${mode} telemetry configures the telemetry program and shows as drops`,
    ignore: !privileged,
    fn: async () => {
      const libbpf = openLibbpf();
      const pair = await createVethPair();
      const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
      try {
        const tel = await startEbpfTelemetry({
          interfaces: [pair.ifB],
          netns: pair.nsB,
          stateDir,
          mode,
        });
        try {
          const r = setChaos(libbpf, { iface: pair.ifB, netns: pair.nsB, percent: 50 });
          assert.equal(r.program, mode === "tc" ? "x0_telemetry_tc" : "x0_telemetry");
          const received = await deliver(pair, 9300, 4000);
          const [c] = tel.counters();
          assert.equal(c.rxPackets, 4000);
          assert.equal(c.drops, 4000 - received);
          assert.equal(c.neighbours?.[0].drops, 4000 - received);
          assert.equal(clearChaos(libbpf, { iface: pair.ifB, netns: pair.nsB }).action, "reset");
          assert.equal(findTelemetry(libbpf, pair.ifB, pair.nsB)?.mode, mode);
          assert.equal(
            findAttached(libbpf, pair.ifB, pair.nsB)?.name,
            mode === "tc" ? undefined : "x0_telemetry",
          );
          assert.equal(await deliver(pair, 9301, 1000), 1000);
        } finally {
          tel.stop();
        }
      } finally {
        await pair.cleanup();
        await Deno.remove(stateDir, { recursive: true });
      }
    },
  });
}
