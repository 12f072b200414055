import assert from "node:assert/strict";
import {
  encodeRequest,
  type NlAttrInput,
  parseGenl,
  parseMessages,
  stringBytes,
  u32Bytes,
} from "../../../ffi/genl_wire.ts";
import {
  BATADV_ATTR as A,
  decodeHardIf,
  decodeMesh,
  decodeNeighbour,
  decodeOriginator,
} from "../../../core/adapters/batman/batadv_messages.ts";
import { openBatmanClient } from "../../../core/adapters/batman/batadv_client.ts";
import { NotFoundError, UnavailableError, ValidationError } from "../../../core/errors.ts";

const mac = (s: string) => new Uint8Array(s.split(":").map((h) => parseInt(h, 16)));
const flag = (type: number): NlAttrInput => ({ type, data: new Uint8Array(0) });

/** Builds a reply the way the kernel lays it out, then parses it back with the real parser. */
function reply(cmd: number, attrs: NlAttrInput[]) {
  const buf = encodeRequest(30, { cmd, version: 1, flags: 2, seq: 1, attrs });
  return parseGenl(parseMessages(buf)[0].payload);
}

const ORIG: NlAttrInput[] = [
  { type: A.ORIG_ADDRESS, data: mac("e6:bc:1d:a2:d0:55") },
  { type: A.NEIGH_ADDRESS, data: mac("02:12:ea:b9:80:8c") },
  { type: A.HARD_IFINDEX, data: u32Bytes(3) },
  { type: A.TQ, data: new Uint8Array([222]) },
  { type: A.LAST_SEEN_MSECS, data: u32Bytes(216) },
  flag(A.FLAG_BEST),
];

Deno.test("decodeOriginator() reads a BATMAN_IV entry and a BATMAN_V one", () => {
  assert.deepEqual(decodeOriginator(reply(8, ORIG)), {
    originator: "e6:bc:1d:a2:d0:55",
    neighbour: "02:12:ea:b9:80:8c",
    hard_ifindex: 3,
    last_seen_ms: 216,
    tq: 222,
    throughput_kbps: null,
    best: true,
  });
  const v = ORIG.filter((a) => a.type !== A.TQ && a.type !== A.FLAG_BEST);
  v.push({ type: A.THROUGHPUT, data: u32Bytes(125) }); // 12.5 Mbit/s in 100 kbit/s units
  const o = decodeOriginator(reply(8, v));
  assert.equal(o.tq, null);
  assert.equal(o.throughput_kbps, 12_500);
  assert.equal(o.best, false);
});

Deno.test("decoders reject a missing required attribute or one of the wrong size", async (t) => {
  await t.step("each required originator attribute", () => {
    for (const type of [A.ORIG_ADDRESS, A.NEIGH_ADDRESS, A.HARD_IFINDEX, A.LAST_SEEN_MSECS]) {
      const name = Object.entries(A).find(([, v]) => v === type)![0];
      assert.throws(
        () => decodeOriginator(reply(8, ORIG.filter((a) => a.type !== type))),
        (e) =>
          e instanceof ValidationError &&
          e.message === `Malformed batman-adv originator reply: missing ${name}`,
      );
    }
  });
  await t.step("short values", () => {
    const short = ORIG.map((a) =>
      a.type === A.ORIG_ADDRESS ? { ...a, data: a.data.slice(0, 5) } : a
    );
    assert.throws(
      () => decodeOriginator(reply(8, short)),
      /Malformed batman-adv originator reply: Attribute 9 too short/,
    );
    const shortIdx = ORIG.map((a) =>
      a.type === A.HARD_IFINDEX ? { ...a, data: new Uint8Array(2) } : a
    );
    assert.throws(() => decodeOriginator(reply(8, shortIdx)), ValidationError);
    const emptyTq = ORIG.map((a) => a.type === A.TQ ? { ...a, data: new Uint8Array(0) } : a);
    assert.throws(() => decodeOriginator(reply(8, emptyTq)), ValidationError);
  });
  await t.step("mesh, hardif and neighbour replies", () => {
    assert.throws(() => decodeMesh(reply(1, [])), /mesh reply: missing MESH_IFNAME/);
    assert.throws(() => decodeHardIf(reply(5, [])), /hardif reply: missing HARD_IFINDEX/);
    assert.throws(() => decodeNeighbour(reply(9, [])), /neighbour reply: missing NEIGH_ADDRESS/);
  });
});

Deno.test("decodeMesh(), decodeHardIf() and decodeNeighbour() read their replies", () => {
  assert.deepEqual(
    decodeMesh(reply(1, [
      { type: A.VERSION, data: stringBytes("2022.3") },
      { type: A.ALGO_NAME, data: stringBytes("BATMAN_IV") },
      { type: A.MESH_IFINDEX, data: u32Bytes(4) },
      { type: A.MESH_IFNAME, data: stringBytes("bat0") },
      { type: A.MESH_ADDRESS, data: mac("42:e1:78:aa:35:40") },
      { type: A.HARD_IFINDEX, data: u32Bytes(2) },
      { type: A.HARD_IFNAME, data: stringBytes("v12") },
      { type: A.HARD_ADDRESS, data: mac("3e:60:ee:66:75:88") },
    ])),
    {
      meshif: "bat0",
      ifindex: 4,
      address: "42:e1:78:aa:35:40",
      version: "2022.3",
      algo: "BATMAN_IV",
      primary_if: "v12",
      primary_address: "3e:60:ee:66:75:88",
    },
  );
  assert.deepEqual(
    decodeHardIf(reply(5, [
      { type: A.HARD_IFINDEX, data: u32Bytes(2) },
      { type: A.HARD_IFNAME, data: stringBytes("v12") },
      { type: A.HARD_ADDRESS, data: mac("3e:60:ee:66:75:88") },
      flag(A.ACTIVE),
    ])),
    { ifindex: 2, ifname: "v12", address: "3e:60:ee:66:75:88", active: true },
  );
  assert.deepEqual(
    decodeNeighbour(reply(9, [
      { type: A.NEIGH_ADDRESS, data: mac("86:98:5e:2b:13:b1") },
      { type: A.HARD_IFINDEX, data: u32Bytes(2) },
      { type: A.LAST_SEEN_MSECS, data: u32Bytes(144) },
    ])),
    { neighbour: "86:98:5e:2b:13:b1", hard_ifindex: 2, last_seen_ms: 144, throughput_kbps: null },
  );
});

Deno.test("decoders never throw anything but ValidationError on random attribute soup", () => {
  let seed = 99;
  const r = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const decoders = [decodeOriginator, decodeNeighbour, decodeHardIf, decodeMesh];
  for (let i = 0; i < 2000; i++) {
    const attrs: NlAttrInput[] = [];
    for (let n = Math.floor(r() * 10); n > 0; n--) {
      const data = new Uint8Array(Math.floor(r() * 10));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(r() * 256);
      attrs.push({ type: 1 + Math.floor(r() * 30), data });
    }
    const m = reply(8, attrs);
    for (const d of decoders) {
      try {
        d(m as never);
      } catch (err) {
        assert.ok(err instanceof ValidationError, `case ${i}: ${err}`);
      }
    }
  }
});

Deno.test("on a kernel without batman-adv, opening the adapter gives one clear error", () => {
  let err: unknown;
  try {
    openBatmanClient("bat0").close();
  } catch (e) {
    err = e;
  }
  if (err === undefined || err instanceof NotFoundError) {
    console.warn(
      "SKIP: this kernel has batman-adv; the missing-module error is not observable here",
    );
    return;
  }
  assert.ok(err instanceof UnavailableError, String(err));
  assert.equal(
    (err as Error).message,
    "batman-adv is not available in this kernel: generic netlink family batadv not found " +
      "(load the batman-adv module)",
  );
});

Deno.test("openBatmanClient() rejects an invalid interface name before touching the kernel", () => {
  for (const bad of ["", "a/b", "x".repeat(16), "..", "bat 0"]) {
    assert.throws(() => openBatmanClient(bad), ValidationError, bad);
  }
});
