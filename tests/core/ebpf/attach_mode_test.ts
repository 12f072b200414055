import assert from "node:assert/strict";
import { chooseAttachMode, VIRTUAL_DRIVERS } from "../../../core/ebpf/attach_mode.ts";
import { findAttached } from "../../../core/ebpf/program_loader.ts";
import { findAttachedTc } from "../../../core/ebpf/tc_loader.ts";
import { startEbpfTelemetry } from "../../../core/ebpf/telemetry.ts";
import { openLibbpf } from "../../../ffi/libbpf.ts";
import { libc } from "../../../ffi/libc.ts";
import { withNetns } from "../../../core/ebpf/netns.ts";
import { canRunPrivileged, createVethPair, run, sendUdp } from "./netns_fixture.ts";

const privileged = await canRunPrivileged("attach mode tests (netns + XDP/TC)");

Deno.test({
  name: "chooseAttachMode() picks tc for veth and native for a driver outside the virtual set",
  ignore: !privileged,
  fn: async () => {
    const pair = await createVethPair();
    try {
      assert.equal(withNetns(pair.nsB, () => libc().interfaceDriver(pair.ifB)), "veth");
      assert.ok(VIRTUAL_DRIVERS.has("veth"));
      assert.equal(chooseAttachMode(pair.ifB, { netns: pair.nsB }), "tc");
      assert.equal(
        chooseAttachMode(pair.ifB, { netns: pair.nsB, virtualDrivers: new Set() }),
        "native",
      );
      // No driver information (loopback): tc, the hook that works on anything.
      assert.equal(chooseAttachMode("lo", { netns: pair.nsB }), "tc");
    } finally {
      await pair.cleanup();
    }
  },
});

Deno.test({
  name: "telemetry mode auto hooks veth with TC and counts exactly",
  ignore: !privileged,
  fn: async () => {
    const pair = await createVethPair();
    const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
    try {
      const tel = await startEbpfTelemetry({
        interfaces: [pair.ifB],
        netns: pair.nsB,
        stateDir,
        mode: "auto",
      });
      try {
        assert.deepEqual(tel.attached.map((a) => a.mode), ["tc"]);
        assert.equal(
          findAttachedTc(openLibbpf(), pair.ifB, pair.nsB)?.progId,
          tel.attached[0].progId,
        );
        await sendUdp(pair.nsA, { from: pair.ipA, to: pair.ipB, port: 7400, count: 700 });
        assert.equal(tel.counters()[0].rxPackets, 700);
      } finally {
        tel.stop();
      }
      assert.equal(findAttachedTc(openLibbpf(), pair.ifB, pair.nsB), null);
    } finally {
      await pair.cleanup();
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "telemetry mode auto falls back to generic XDP when the driver has no native XDP",
  ignore: !privileged,
  fn: async () => {
    const pair = await createVethPair();
    const stateDir = await Deno.makeTempDir({ prefix: "x0bpf-state-" });
    const bridge = `x0br${Deno.pid % 100000}`;
    try {
      // A Linux bridge has no native XDP; with an empty virtual set, auto tries native first.
      await run("ip", ["-n", pair.nsB, "link", "add", bridge, "type", "bridge"]);
      await run("ip", ["-n", pair.nsB, "link", "set", bridge, "up"]);
      const tel = await startEbpfTelemetry({
        interfaces: [bridge],
        netns: pair.nsB,
        stateDir,
        mode: "auto",
        virtualDrivers: new Set(),
      });
      try {
        assert.equal(tel.mode, "ebpf", String(tel.reason));
        assert.deepEqual(tel.attached.map((a) => a.mode), ["skb"]);
        assert.equal(findAttached(openLibbpf(), bridge, pair.nsB)?.mode, "skb");
      } finally {
        tel.stop();
      }
      assert.equal(findAttached(openLibbpf(), bridge, pair.nsB), null);
    } finally {
      await pair.cleanup();
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});
