import assert from "node:assert/strict";
import {
  parseDht,
  parsePaths,
  parsePeers,
  parseSelf,
  parseSessions,
} from "../../../core/adapters/yggdrasil/admin_schemas.ts";
import { UnavailableError } from "../../../core/errors.ts";

const keyed = JSON.parse(
  Deno.readTextFileSync(new URL("fixtures/yggdrasil_0_4_4_keyed.json", import.meta.url)),
);

/** Replies recorded from the real yggdrasil 0.4.7 daemon (Debian) on this machine. */
const flat = {
  getSelf: {
    build_name: "unknown",
    build_version: "unknown",
    key: "32d52c09673afb99808f5750cb6b5691a9fdd33f18b31114adac8f0875e789a2",
    address: "202:6956:9fb4:c628:2333:fb85:4579:a4a5",
    coords: [],
    subnet: "302:6956:9fb4:c628::/64",
  },
  getPeers: {
    peers: [{
      address: "200:f51b:8e94:388:8b5:e1e8:93cd:51d7",
      key: "857238b5fe3bfba50f0bb619571443f6922a3978173db5d43d9efb741b3bc36a",
      port: 1,
      priority: 0,
      coords: [1],
      remote: "tcp://10.209.0.2:35588",
      bytes_recvd: 1239,
      bytes_sent: 692,
      uptime: 3.005876861,
    }],
  },
  getPaths: { paths: [] },
  getDHT: {
    dht: [{
      address: "200:f51b:8e94:388:8b5:e1e8:93cd:51d7",
      key: "857238b5fe3bfba50f0bb619571443f6922a3978173db5d43d9efb741b3bc36a",
      port: 1,
      rest: 0,
    }],
  },
  getSessions: { sessions: [] },
};

Deno.test("0.4.0-0.4.4 keyed replies (constructed fixtures from the documented format) parse into typed values", () => {
  assert.deepEqual(parseSelf(keyed.getSelf), {
    build_name: "yggdrasil",
    build_version: "0.4.4",
    key: "32d52c09673afb99808f5750cb6b5691a9fdd33f18b31114adac8f0875e789a2",
    coords: [1, 3],
    subnet: "302:6956:9fb4:c628::/64",
    address: "202:6956:9fb4:c628:2333:fb85:4579:a4a5",
  });
  const peers = parsePeers(keyed.getPeers);
  assert.equal(peers.length, 2);
  assert.deepEqual(peers[0], {
    key: "857238b5fe3bfba50f0bb619571443f6922a3978173db5d43d9efb741b3bc36a",
    address: "200:f51b:8e94:388:8b5:e1e8:93cd:51d7",
    port: 1,
    coords: [1],
    remote: "tcp://10.209.0.2:35588",
    bytes_recvd: 1239,
    bytes_sent: 692,
    uptime_s: 3.005876861,
    latency_ms: null,
  });
  assert.equal(peers[1].address, "201:1b9c:25a5:1d77:7b2e:8ae6:8c5a:1f1e");
  assert.deepEqual(parsePaths(keyed.getPaths), [{
    key: "c5ee5de8a9f8f2a5b1b1c1d1e1f101112131415161718191a1b1c1d1e1f20212",
    address: "203:aa11:22bb:33cc:44dd:55ee:66ff:7788",
    path: [2, 5],
  }]);
  assert.equal(parseDht(keyed.getDHT)[0].port, 1);
  assert.deepEqual(parseSessions(keyed.getSessions), [{
    key: "c5ee5de8a9f8f2a5b1b1c1d1e1f101112131415161718191a1b1c1d1e1f20212",
    address: "203:aa11:22bb:33cc:44dd:55ee:66ff:7788",
    bytes_recvd: null,
    bytes_sent: null,
    uptime_s: null,
  }]);
});

Deno.test("0.4.5+ flat replies (recorded from yggdrasil 0.4.7) parse into the same typed values", () => {
  const self = parseSelf(flat.getSelf);
  assert.equal(self.address, "202:6956:9fb4:c628:2333:fb85:4579:a4a5");
  assert.equal(self.key, flat.getSelf.key);
  const [p] = parsePeers(flat.getPeers);
  assert.equal(p.key, flat.getPeers.peers[0].key);
  assert.equal(p.bytes_sent, 692);
  assert.equal(p.latency_ms, null);
  assert.deepEqual(parsePaths(flat.getPaths), []);
  assert.equal(parseDht(flat.getDHT).length, 1);
  assert.deepEqual(parseSessions(flat.getSessions), []);
});

Deno.test("both shapes of the same node normalize to equal values", () => {
  const a = parsePeers(keyed.getPeers)[0];
  const b = parsePeers(flat.getPeers)[0];
  assert.deepEqual({ ...a, uptime_s: 0 }, { ...b, uptime_s: 0 });
  const sa = parseSelf(keyed.getSelf), sb = parseSelf(flat.getSelf);
  assert.deepEqual([sa.key, sa.address, sa.subnet], [sb.key, sb.address, sb.subnet]);
});

Deno.test("a peer latency (reported in nanoseconds by newer daemons) becomes milliseconds", () => {
  const peers = structuredClone(flat.getPeers) as { peers: Record<string, unknown>[] };
  peers.peers[0].latency = 2_500_000;
  assert.equal(parsePeers(peers)[0].latency_ms, 2.5);
});

Deno.test("malformed replies are rejected with the path of the offending field", async (t) => {
  const bad = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e) => e instanceof UnavailableError && re.test(e.message), String(re));
  await t.step("wrong types and missing fields", () => {
    const p = structuredClone(flat.getPeers) as { peers: Record<string, unknown>[] };
    p.peers[0].bytes_sent = "692";
    bad(() => parsePeers(p), /getPeers with an unexpected shape: peers\.0\.bytes_sent/);
    const q = structuredClone(flat.getPeers) as { peers: Record<string, unknown>[] };
    delete q.peers[0].key;
    bad(() => parsePeers(q), /peers\.0\.key/);
    const r = structuredClone(flat.getPeers) as { peers: Record<string, unknown>[] };
    r.peers[0].bytes_recvd = -1;
    bad(() => parsePeers(r), /peers\.0\.bytes_recvd/);
  });
  await t.step("keys and addresses are checked, also as map keys of the old shape", () => {
    const k = structuredClone(keyed.getPeers);
    k.peers["10.0.0.1"] = Object.values(k.peers)[0];
    bad(() => parsePeers(k), /getPeers with an unexpected shape: peers/);
    const s = { ...flat.getSelf, key: "xyz" };
    bad(() => parseSelf(s), /getSelf with an unexpected shape: key: a 64-hex-digit public key/);
    const a = { ...flat.getSelf, address: "fe80::1" };
    bad(() => parseSelf(a), /address/);
  });
  await t.step("the old getSelf must have exactly one entry", () => {
    const two = structuredClone(keyed.getSelf);
    two.self["203:1::1"] = Object.values(two.self)[0];
    bad(() => parseSelf(two), /self: 2 entries, expected 1/);
    bad(() => parseSelf({ self: {} }), /self: 0 entries, expected 1/);
  });
  await t.step("non-objects and wrong members", () => {
    for (const v of [null, 42, "peers", [], { peers: 1 }, { nodes: [] }]) {
      bad(() => parsePeers(v), /getPeers with an unexpected shape/);
    }
    bad(() => parseSelf(null), /getSelf with an unexpected shape/);
    bad(
      () => parsePaths({ paths: [{ key: flat.getSelf.key, address: flat.getSelf.address }] }),
      /paths\.0\.path/,
    );
    bad(
      () => parseDht({ dht: { "200::1": { key: flat.getSelf.key, port: 1 } } }),
      /dht\.200::1\.rest/,
    );
  });
});
