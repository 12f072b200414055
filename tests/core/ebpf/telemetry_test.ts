import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { registry } from "../../../core/telemetry/metrics.ts";
import {
  interfaceCounters,
  readFallbackCounters,
  startEbpfTelemetry,
} from "../../../core/ebpf/telemetry.ts";
import { findAttached } from "../../../core/ebpf/program_loader.ts";
import { openLibbpf } from "../../../ffi/libbpf.ts";
import {
  canRunPrivileged,
  createVethPair,
  ipLinkShowsXdp,
  sendUdp,
  tcShowsIngressFilter,
} from "./netns_fixture.ts";

const privileged = await canRunPrivileged("eBPF telemetry tests (netns + XDP)");

/** Runs `fn` with logtape capturing x0.ebpf records. */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; records: LogRecord[] }> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { mem: (r: LogRecord) => records.push(r) },
    loggers: [
      { category: ["x0", "ebpf"], sinks: ["mem"], lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
    reset: true,
  });
  try {
    return { result: await fn(), records };
  } finally {
    await reset();
  }
}

function metricValue(text: string, name: string, labels: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").at(-1)) : null;
}

for (const mode of ["skb", "native", "tc"] as const) {
  Deno.test({
    name: `telemetry (${mode}) counts exactly the packets sent, per interface and neighbour`,
    ignore: !privileged,
    fn: async (t) => {
      const pair = await createVethPair();
      const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
      const sent = 1500;
      const size = 200;
      const frame = size + 8 + 20 + 14;
      try {
        const tel = await startEbpfTelemetry({
          interfaces: [pair.ifB],
          netns: pair.nsB,
          stateDir,
          mode,
        });
        try {
          assert.equal(tel.mode, "ebpf", String(tel.reason));
          assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), mode !== "tc");
          assert.equal(await tcShowsIngressFilter(pair.nsB, pair.ifB), mode === "tc");
          await t.step("counters equal the packets sent", async () => {
            assert.equal(
              await sendUdp(pair.nsA, {
                from: pair.ipA,
                to: pair.ipB,
                port: 7000,
                count: sent,
                size,
              }),
              sent,
            );
            const [c] = tel.counters();
            assert.equal(c.source, "ebpf");
            assert.equal(c.ethertypes?.ipv4, sent);
            assert.equal(c.protocols?.udp, sent);
            assert.equal(c.rxPackets, sent, "no other traffic: IPv6 off, static neighbours");
            assert.equal(c.rxBytes, sent * frame);
            assert.equal(c.drops, 0);
            assert.deepEqual(c.neighbours, [{
              mac: pair.macA,
              packets: sent,
              bytes: sent * frame,
              drops: 0,
            }]);
            const bucket = c.sizeHistogram?.find((b) => b.le === 256);
            assert.equal(bucket?.packets, sent);
            assert.equal(c.sizeHistogram?.reduce((s, b) => s + b.packets, 0), sent);
          });
          await t.step("/metrics exposes the same numbers", async () => {
            const text = await registry.metrics();
            const l = `iface="${pair.ifB}"`;
            assert.equal(metricValue(text, "ebpf_rx_packets_total", l), sent);
            assert.equal(metricValue(text, "ebpf_rx_bytes_total", l), sent * frame);
            assert.equal(metricValue(text, "ebpf_drops_total", l), 0);
            assert.equal(
              metricValue(text, "ebpf_neighbour_rx_packets_total", `${l},mac="${pair.macA}"`),
              sent,
            );
            assert.equal(metricValue(text, "ebpf_rx_frame_size_packets_total", `${l},le="128"`), 0);
            assert.equal(
              metricValue(text, "ebpf_rx_frame_size_packets_total", `${l},le="+Inf"`),
              sent,
            );
          });
        } finally {
          tel.stop();
        }
        await t.step("stop() detaches: ip link shows no XDP program, tc no filter", async () => {
          assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
          assert.equal(await tcShowsIngressFilter(pair.nsB, pair.ifB), false);
          const text = await registry.metrics();
          assert.equal(metricValue(text, "ebpf_rx_packets_total", `iface="${pair.ifB}"`), null);
        });
      } finally {
        await pair.cleanup();
        await Deno.remove(stateDir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "missing libbpf logs one line and falls back to /proc/net/dev counters",
  ignore: !privileged,
  fn: async () => {
    const pair = await createVethPair();
    const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
    try {
      const { result: tel, records } = await captureLogs(() =>
        startEbpfTelemetry({
          interfaces: [pair.ifB],
          netns: pair.nsB,
          stateDir,
          libraryPath: "/nonexistent/libbpf.so.1",
        })
      );
      try {
        assert.equal(tel.mode, "procfs");
        assert.match(String(tel.reason), /nonexistent\/libbpf\.so\.1/);
        assert.equal(records.length, 1, records.map((r) => r.message.join("")).join("\n"));
        assert.equal(records[0].level, "warning");
        assert.match(String(records[0].message.join("")), /falling back to \/proc\/net\/dev/);
        assert.equal(await ipLinkShowsXdp(pair.nsB, pair.ifB), false);
        const before = tel.counters()[0];
        assert.equal(before.source, "procfs");
        await sendUdp(pair.nsA, { from: pair.ipA, to: pair.ipB, port: 7001, count: 300 });
        const after = tel.counters()[0];
        assert.equal(after.rxPackets - before.rxPackets, 300);
        assert.deepEqual(readFallbackCounters([pair.ifB], { netns: pair.nsB }), [after]);
      } finally {
        tel.stop();
      }
    } finally {
      await pair.cleanup();
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "interfaceCounters() serves procfs counters for interfaces without telemetry",
  fn: () => {
    const [lo] = interfaceCounters(["lo"]);
    assert.equal(lo.iface, "lo");
    assert.equal(lo.source, "procfs");
    assert.ok(lo.rxPackets >= 0);
    assert.deepEqual(interfaceCounters(["x0-no-such-if"]), []);
  },
});

Deno.test({
  name: "startEbpfTelemetry() rejects unknown interfaces and changes nothing",
  ignore: !privileged,
  fn: async () => {
    const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
    try {
      await assert.rejects(
        startEbpfTelemetry({ interfaces: ["x0-no-such-if"], stateDir }),
        /Interface not found: x0-no-such-if/,
      );
      await assert.rejects(startEbpfTelemetry({ interfaces: [], stateDir }), /non-empty/);
      assert.deepEqual([...Deno.readDirSync(stateDir)], []);
      assert.equal(findAttached(openLibbpf(), "lo"), null);
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "without capabilities (setpriv drops all) the agent logs one line and falls back",
  ignore: !privileged,
  fn: async () => {
    const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
    try {
      const out = await new Deno.Command("setpriv", {
        args: [
          "--bounding-set=-all",
          "--inh-caps=-all",
          "--ambient-caps=-all",
          "--",
          Deno.execPath(),
          "run",
          "--quiet",
          "--allow-read",
          "--allow-write",
          "--allow-ffi",
          "--allow-env",
          new URL("./unprivileged_agent.ts", import.meta.url).pathname,
          stateDir,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const report = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(report.mode, "procfs");
      assert.match(report.reason, /Operation not permitted|need CAP_/);
      assert.equal(report.records.length, 1, JSON.stringify(report.records));
      assert.equal(report.records[0].level, "warning");
      assert.match(report.records[0].message, /falling back to \/proc\/net\/dev counters/);
      assert.equal(findAttached(openLibbpf(), "lo"), null);
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});
