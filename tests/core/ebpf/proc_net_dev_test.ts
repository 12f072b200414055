import assert from "node:assert/strict";
import { ValidationError } from "../../../core/errors.ts";
import { parseProcNetDev, readProcNetDev } from "../../../core/ebpf/proc_net_dev.ts";
import { canRunPrivileged, createVethPair, sendUdp } from "./netns_fixture.ts";

const SAMPLE = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123456     789    0    0    0     0          0         0   123456     789    0    0    0     0       0          0
  eth0: 295310778    6216    1    2    0     0          0         0  1048576    4096    3    4    0     0       0          0
`;

Deno.test("parseProcNetDev() reads receive and transmit columns per interface", () => {
  const m = parseProcNetDev(SAMPLE);
  assert.deepEqual([...m.keys()], ["lo", "eth0"]);
  assert.deepEqual(m.get("eth0"), {
    iface: "eth0",
    rxBytes: 295310778,
    rxPackets: 6216,
    rxErrors: 1,
    rxDrops: 2,
    txBytes: 1048576,
    txPackets: 4096,
    txErrors: 3,
    txDrops: 4,
  });
});

Deno.test("parseProcNetDev() rejects malformed lines", () => {
  const header = SAMPLE.split("\n").slice(0, 2).join("\n");
  assert.throws(() => parseProcNetDev(`${header}\n  eth0 1 2 3\n`), ValidationError);
  assert.throws(() => parseProcNetDev(`${header}\n  eth0: 1 2 3\n`), ValidationError);
  assert.throws(() => parseProcNetDev(`${header}\n  eth0: ${"x ".repeat(16)}\n`), ValidationError);
});

Deno.test("readProcNetDev() reads this host's counters through libc", () => {
  assert.ok(readProcNetDev().has("lo"));
});

Deno.test({
  name: "readProcNetDev() inside a namespace sees that namespace's interfaces and traffic",
  ignore: !(await canRunPrivileged("/proc/net/dev in a netns")),
  fn: async () => {
    const pair = await createVethPair();
    try {
      const before = readProcNetDev({ netns: pair.nsB });
      assert.ok(before.has(pair.ifB));
      assert.ok(!before.has(pair.ifA));
      await sendUdp(pair.nsA, { from: pair.ipA, to: pair.ipB, port: 7100, count: 250 });
      const after = readProcNetDev({ netns: pair.nsB });
      assert.equal(after.get(pair.ifB)!.rxPackets - before.get(pair.ifB)!.rxPackets, 250);
      assert.ok(!readProcNetDev().has(pair.ifB), "the host namespace is back in place");
    } finally {
      await pair.cleanup();
    }
  },
});
