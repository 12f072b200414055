import assert from "node:assert/strict";
import { type Libbpf, LibbpfError, openLibbpf } from "../../ffi/libbpf.ts";
import { objectPath } from "../../core/ebpf/program_loader.ts";
import { minimalXdpObject, UNVERIFIABLE_PROGRAM } from "../core/ebpf/elf_fixture.ts";
import { canRunPrivileged } from "../core/ebpf/netns_fixture.ts";

const privileged = await canRunPrivileged("libbpf load/map tests (CAP_BPF)");

function lib(): Libbpf {
  return openLibbpf();
}

Deno.test("openLibbpf() names the path when the library is missing", () => {
  assert.throws(() => openLibbpf("/nonexistent/libbpf.so.1"), (err: unknown) => {
    assert.ok(err instanceof LibbpfError);
    assert.equal(err.op, "dlopen");
    assert.match(err.message, /Cannot load libbpf from \/nonexistent\/libbpf\.so\.1/);
    return true;
  });
});

Deno.test({
  name: "openObject() lists programs and maps without touching the kernel",
  ignore: !privileged,
  fn: () => {
    const b = lib();
    assert.match(b.version, /^1\.\d+$/);
    assert.ok(b.possibleCpus >= 1);
    const obj = b.openObject(Deno.readFileSync(objectPath("x0_telemetry")), "telemetry");
    try {
      assert.deepEqual(obj.programs(), [{ name: "x0_telemetry", section: "xdp", type: 6 }]);
      assert.deepEqual(obj.maps().map((m) => m.name), ["iface_stats", "neigh_stats", "chaos_cfg"]);
      assert.throws(() => obj.programFd("x0_telemetry"), /not loaded/);
    } finally {
      obj.close();
    }
    assert.throws(() => b.openObject(new Uint8Array(100), "garbage"), (err: unknown) => {
      assert.ok(err instanceof LibbpfError);
      assert.equal(err.op, "bpf_object__open_mem");
      return true;
    });
  },
});

Deno.test({
  name: "load() failure carries the verifier log and libbpf's own messages",
  ignore: !privileged,
  fn: () => {
    const b = lib();
    b.takeLog();
    const obj = b.openObject(minimalXdpObject({ program: UNVERIFIABLE_PROGRAM }), "bad");
    try {
      assert.throws(() => obj.load(), (err: unknown) => {
        assert.ok(err instanceof LibbpfError);
        assert.equal(err.op, "bpf_object__load");
        assert.equal(err.errno, 13);
        assert.match(String(err.verifierLog), /R0 !read_ok/);
        return true;
      });
    } finally {
      obj.close();
    }
    assert.ok(b.takeLog().some((l) => /BPF program load failed/.test(l)));
  },
});

Deno.test({
  name: "map lookup, update, iterate and delete work on array, hash and per-CPU maps",
  ignore: !privileged,
  fn: async (t) => {
    const b = lib();
    const obj = b.openObject(Deno.readFileSync(objectPath("x0_telemetry")), "telemetry");
    try {
      obj.load();
      const key0 = new Uint8Array(4);
      await t.step("per-CPU array values span every possible CPU", () => {
        const m = obj.map("iface_stats");
        assert.equal(m.percpu, true);
        const v = b.lookup(m, key0)!;
        assert.equal(v.length, 144 * b.possibleCpus);
        assert.ok(v.every((x) => x === 0));
      });
      await t.step("array update then lookup returns the bytes written", () => {
        const m = obj.map("chaos_cfg");
        const value = new Uint8Array(16).map((_, i) => i + 1);
        b.update(m, key0, value);
        assert.deepEqual(b.lookup(m, key0), value);
        assert.throws(() => b.update(m, key0, new Uint8Array(15)), RangeError);
      });
      await t.step("hash iteration returns exactly the keys inserted", () => {
        const m = obj.map("neigh_stats");
        const keys = [1, 2, 3].map((n) => new Uint8Array([2, 0, 0, 0, 0, n, 0, 0]));
        const value = new Uint8Array(b.valueBufferSize(m));
        new DataView(value.buffer).setBigUint64(0, 9n, true);
        for (const k of keys) b.update(m, k, value);
        const seen = b.keys(m).map((k) => k[5]).sort();
        assert.deepEqual(seen, [1, 2, 3]);
        assert.equal(new DataView(b.lookup(m, keys[0])!.buffer).getBigUint64(0, true), 9n);
        const all = b.entries(m);
        assert.deepEqual(
          all.map((e) => e.key[5]).sort(),
          [1, 2, 3],
          "batch lookup sees the same keys",
        );
        assert.ok(
          all.every((e) =>
            new DataView(e.value.buffer, e.value.byteOffset).getBigUint64(0, true) === 9n
          ),
        );
        assert.equal(b.delete(m, keys[0]), true);
        assert.equal(b.delete(m, keys[0]), false);
        assert.equal(b.lookup(m, keys[0]), null);
        assert.equal(b.keys(m).length, 2);
      });
      await t.step("a loaded program and its maps can be found again by id", () => {
        const id = b.programIdOfFd(obj.programFd("x0_telemetry"));
        const info = b.programById(id)!;
        assert.equal(info.name, "x0_telemetry");
        assert.equal(info.mapIds.length, 3);
        const names = info.mapIds.map((mid) => {
          const m = b.mapById(mid);
          b.closeFd(m.fd);
          return m.name;
        });
        assert.deepEqual(names.sort(), ["chaos_cfg", "iface_stats", "neigh_stats"]);
        assert.equal(b.programById(0x7ffffff0), null);
      });
    } finally {
      obj.close();
    }
  },
});

Deno.test({
  name: "xdpQuery() reports no program on loopback and strerror() names errnos",
  ignore: !privileged,
  fn: () => {
    const b = lib();
    assert.equal(b.xdpQuery(1).progId, 0);
    assert.equal(b.strerror(-1), "Operation not permitted");
    assert.equal(b.strerror(2), "No such file or directory");
  },
});

Deno.test({
  name: "entries() (batch lookup) equals key iteration plus lookups on random contents",
  ignore: !privileged,
  fn: () => {
    const b = lib();
    const obj = b.openObject(Deno.readFileSync(objectPath("x0_telemetry")), "telemetry");
    try {
      obj.load();
      const m = obj.map("neigh_stats");
      let seed = 99;
      const rand = () => (seed = (seed * 48271) % 2147483647);
      for (let round = 0; round < 5; round++) {
        for (const k of b.keys(m)) b.delete(m, k);
        const n = rand() % 400;
        for (let i = 0; i < n; i++) {
          const key = new Uint8Array(8);
          key.set([2, round, rand() & 0xff, rand() & 0xff, rand() & 0xff, rand() & 0xff]);
          const value = new Uint8Array(b.valueBufferSize(m)).map(() => rand() & 0xff);
          b.update(m, key, value);
        }
        const hex = (u: Uint8Array) => [...u].map((x) => x.toString(16).padStart(2, "0")).join("");
        const reference = b.keys(m).map((k) => `${hex(k)}=${hex(b.lookup(m, k)!)}`).sort();
        const batched = b.entries(m).map((e) => `${hex(e.key)}=${hex(e.value)}`).sort();
        assert.deepEqual(batched, reference, `round ${round}, ${n} inserts`);
      }
    } finally {
      obj.close();
    }
  },
});
