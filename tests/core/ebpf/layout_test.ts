import assert from "node:assert/strict";
import { openLibbpf } from "../../../ffi/libbpf.ts";
import {
  CHAOS_CFG_SIZE,
  CHAOS_STATS_SIZE,
  decodeChaosConfig,
  decodeIfaceStats,
  encodeChaosConfig,
  IFACE_STATS_SIZE,
  macFromKey,
  NEIGH_KEY_SIZE,
  NEIGH_STATS_SIZE,
  sumPerCpu,
} from "../../../core/ebpf/layout.ts";
import { objectPath } from "../../../core/ebpf/program_loader.ts";

Deno.test("layout sizes match the maps the C objects declare", () => {
  let libbpf;
  try {
    libbpf = openLibbpf();
  } catch {
    if (Deno.env.get("CI") === "true") throw new Error("libbpf.so.1 missing (CI=true)");
    console.warn("SKIP: layout sizes vs objects: missing libbpf.so.1");
    return;
  }
  const sizes = (program: "x0_telemetry" | "x0_telemetry_tc" | "x0_chaos") => {
    const obj = libbpf.openObject(Deno.readFileSync(objectPath(program)), program);
    try {
      return Object.fromEntries(obj.maps().map((m) => [m.name, [m.keySize, m.valueSize]]));
    } finally {
      obj.close();
    }
  };
  assert.deepEqual(sizes("x0_telemetry"), {
    iface_stats: [4, IFACE_STATS_SIZE],
    neigh_stats: [NEIGH_KEY_SIZE, NEIGH_STATS_SIZE],
    chaos_cfg: [4, CHAOS_CFG_SIZE],
  });
  assert.deepEqual(sizes("x0_telemetry_tc"), sizes("x0_telemetry"));
  assert.deepEqual(sizes("x0_chaos"), {
    chaos_cfg: [4, CHAOS_CFG_SIZE],
    chaos_stats: [4, CHAOS_STATS_SIZE],
  });
});

Deno.test("sumPerCpu() equals a naive per-field sum over random per-CPU values", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 48271) % 2147483647);
  for (let round = 0; round < 50; round++) {
    const cpus = 1 + (rand() % 8);
    const fields = 1 + (rand() % 18);
    const stride = Math.ceil((fields * 8) / 8) * 8;
    const values = Array.from({ length: cpus }, () => Array.from({ length: fields }, () => rand()));
    const bytes = new Uint8Array(cpus * stride);
    const v = new DataView(bytes.buffer);
    values.forEach((row, c) =>
      row.forEach((x, f) => v.setBigUint64(c * stride + f * 8, BigInt(x), true))
    );
    const expected = Array.from(
      { length: fields },
      (_, f) => values.reduce((s, row) => s + row[f], 0),
    );
    assert.deepEqual(sumPerCpu(bytes, fields, stride), expected);
  }
});

Deno.test("chaos config round-trips through its byte layout", () => {
  for (
    const cfg of [{ dropPpm: 0 }, { dropPpm: 300_000, ethertype: 0x0800 }, {
      dropPpm: 1_000_000,
      ipProto: 17,
    }, { dropPpm: 1, ethertype: 0x86dd, ipProto: 58 }]
  ) {
    assert.deepEqual(decodeChaosConfig(encodeChaosConfig(cfg)), cfg);
  }
});

Deno.test("decodeIfaceStats() sums CPUs and splits the histogram", () => {
  const bytes = new Uint8Array(IFACE_STATS_SIZE * 2);
  const v = new DataView(bytes.buffer);
  v.setBigUint64(0, 5n, true);
  v.setBigUint64(IFACE_STATS_SIZE, 7n, true);
  v.setBigUint64(IFACE_STATS_SIZE + 10 * 8 + 3 * 8, 9n, true);
  const s = decodeIfaceStats(bytes);
  assert.equal(s.packets, 12);
  assert.deepEqual(s.sizeHist, [0, 0, 0, 9, 0, 0, 0, 0]);
  assert.equal(macFromKey(new Uint8Array([2, 0, 0x0a, 0xff, 1, 0x10, 0, 0])), "02:00:0a:ff:01:10");
});
