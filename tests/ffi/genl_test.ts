import assert from "node:assert/strict";
import { NetlinkError, openGenlSocket } from "../../ffi/genl.ts";
import {
  attr,
  encodeRequest,
  messageErrno,
  NetlinkFormatError,
  NL,
  type NlAttrInput,
  parseAttributes,
  parseGenl,
  parseMessages,
  stringBytes,
  u32Bytes,
} from "../../ffi/genl_wire.ts";
import { seededRandom } from "../../core/random/seeded_random.ts";

const int = (r: () => number, n: number) => Math.floor(r() * n);

function randomAttrs(r: () => number): NlAttrInput[] {
  const attrs: NlAttrInput[] = [];
  for (let i = int(r, 8); i > 0; i--) {
    const data = new Uint8Array(int(r, 40));
    for (let j = 0; j < data.length; j++) data[j] = int(r, 256);
    attrs.push({ type: 1 + int(r, 0x3ffe), data });
  }
  return attrs;
}

/** Reference decoder: walks the same format with plain index arithmetic and no DataView. */
function referenceAttrs(buf: Uint8Array): { type: number; data: number[] }[] | "error" {
  const out: { type: number; data: number[] }[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) return "error";
    const len = buf[off] | (buf[off + 1] << 8);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & 0x3fff;
    if (len < 4 || off + len > buf.length) return "error";
    out.push({ type, data: [...buf.slice(off + 4, off + len)] });
    off += Math.ceil(len / 4) * 4;
  }
  return out;
}

Deno.test("encodeRequest() and the parsers round-trip random attribute sets", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = seededRandom(seed);
    const attrs = randomAttrs(r);
    const cmd = int(r, 256), version = int(r, 256), seq = int(r, 2 ** 32);
    const buf = encodeRequest(0x1234, { cmd, version, flags: NL.NLM_F_REQUEST, seq, attrs });
    assert.equal(buf.length % 4, 0, `seed ${seed}: message not padded`);
    const msgs = parseMessages(buf);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].type, 0x1234);
    assert.equal(msgs[0].seq, seq);
    const g = parseGenl(msgs[0].payload);
    assert.equal(g.cmd, cmd);
    assert.equal(g.version, version);
    assert.deepEqual(
      g.attrs.map((a) => ({ type: a.type, data: [...a.data] })),
      attrs.map((a) => ({ type: a.type, data: [...a.data] })),
      `seed ${seed}`,
    );
  }
});

Deno.test("parseAttributes() agrees with a reference decoder on truncated and corrupted buffers", async (t) => {
  await t.step("every truncation of a valid run parses like the reference or throws", () => {
    for (let seed = 1; seed <= 150; seed++) {
      const r = seededRandom(seed);
      const msg = encodeRequest(1, { cmd: 1, version: 1, flags: 1, seq: 1, attrs: randomAttrs(r) });
      const run = msg.subarray(20);
      for (let cut = 0; cut <= run.length; cut++) {
        const part = run.slice(0, cut);
        const ref = referenceAttrs(part);
        let got: { type: number; data: number[] }[] | "error";
        try {
          got = parseAttributes(part).map((a) => ({ type: a.type, data: [...a.data] }));
        } catch (err) {
          assert.ok(err instanceof NetlinkFormatError, `seed ${seed} cut ${cut}: ${err}`);
          got = "error";
        }
        assert.deepEqual(got, ref, `seed ${seed} cut ${cut}`);
      }
    }
  });
  await t.step("random bytes never read outside the buffer nor throw anything else", () => {
    const r = seededRandom(7);
    for (let i = 0; i < 3000; i++) {
      const buf = new Uint8Array(int(r, 64));
      for (let j = 0; j < buf.length; j++) buf[j] = int(r, 256);
      // small lengths make valid-looking headers likely
      if (buf.length >= 2 && r() < 0.7) buf[0] = 4 + int(r, 12), buf[1] = 0;
      const ref = referenceAttrs(buf);
      try {
        const got = parseAttributes(buf);
        for (const a of got) {
          assert.ok(a.data.byteOffset >= buf.byteOffset);
          assert.ok(a.data.byteOffset + a.data.length <= buf.byteOffset + buf.length);
        }
        assert.deepEqual(got.map((a) => ({ type: a.type, data: [...a.data] })), ref);
      } catch (err) {
        assert.ok(err instanceof NetlinkFormatError, String(err));
        assert.equal(ref, "error");
      }
    }
  });
});

Deno.test("parseMessages() rejects truncated headers and lengths beyond the buffer", () => {
  const msg = encodeRequest(16, {
    cmd: 3,
    version: 1,
    flags: 1,
    seq: 9,
    attrs: [{ type: 2, data: stringBytes("batadv") }],
  });
  const two = new Uint8Array(msg.length * 2);
  two.set(msg);
  two.set(msg, msg.length);
  assert.equal(parseMessages(two).length, 2);
  for (let cut = 1; cut < two.length; cut++) {
    if (cut === msg.length) continue;
    assert.throws(() => parseMessages(two.slice(0, cut)), NetlinkFormatError, `cut ${cut}`);
  }
  const bad = msg.slice();
  new DataView(bad.buffer).setUint32(0, 8, true); // shorter than a header
  assert.throws(() => parseMessages(bad), /Bad netlink message length at offset 0: 8/);
  assert.throws(() => parseGenl(new Uint8Array(3)), /Truncated generic netlink header/);
  assert.deepEqual(parseMessages(new Uint8Array(0)), []);
});

Deno.test("attr decoders check the length before reading", () => {
  const a = (n: number) => ({ type: 9, nested: false, data: new Uint8Array(n).fill(0xab) });
  assert.equal(attr.mac(a(6)), "ab:ab:ab:ab:ab:ab");
  assert.throws(() => attr.mac(a(5)), /Attribute 9 too short: 5 of 6 bytes/);
  assert.throws(() => attr.u32(a(3)), NetlinkFormatError);
  assert.throws(() => attr.u16(a(1)), NetlinkFormatError);
  assert.throws(() => attr.u8(a(0)), NetlinkFormatError);
  assert.throws(() => attr.u64(a(7)), NetlinkFormatError);
  assert.equal(attr.u32({ type: 1, nested: false, data: u32Bytes(0xdeadbeef) }), 0xdeadbeef);
  assert.equal(attr.string({ type: 1, nested: false, data: stringBytes("bat0") }), "bat0");
  assert.equal(attr.string({ type: 1, nested: false, data: new TextEncoder().encode("x") }), "x");
  assert.throws(() => attr.string({ type: 1, nested: false, data: new Uint8Array([0xff, 0]) }));
});

Deno.test("messageErrno() reads ACKs and kernel errors and rejects a short error payload", () => {
  const err = (code: number) => {
    const p = new Uint8Array(20);
    new DataView(p.buffer).setInt32(0, code, true);
    return { type: NL.NLMSG_ERROR, flags: 0, seq: 1, pid: 0, payload: p };
  };
  assert.equal(messageErrno(err(0)), 0);
  assert.equal(messageErrno(err(-2)), 2);
  assert.throws(
    () => messageErrno({ ...err(0), payload: new Uint8Array(2) }),
    /Truncated netlink error payload: 2 of 4 bytes/,
  );
});

Deno.test("a real generic netlink socket resolves nlctrl and dumps the family list", () => {
  const s = openGenlSocket({ timeoutMs: 1000 });
  try {
    const ctrl = s.resolveFamily("nlctrl");
    assert.equal(ctrl.id, NL.GENL_ID_CTRL);
    const fams = s.request(NL.GENL_ID_CTRL, { cmd: NL.CTRL_CMD_GETFAMILY, version: 1, dump: true });
    const names = fams.flatMap((m) =>
      m.attrs.filter((a) => a.type === NL.CTRL_ATTR_FAMILY_NAME).map(attr.string)
    );
    assert.ok(names.includes("nlctrl"), names.join(","));
    assert.ok(names.length >= 2);
    assert.throws(
      () => s.resolveFamily("x0nosuchfam"),
      (e) =>
        e instanceof NetlinkError && e.errno === 2 &&
        /not found: x0nosuchfam/.test(e.message),
    );
  } finally {
    s.close();
  }
  s.close(); // idempotent
  assert.throws(() => s.resolveFamily("nlctrl"), /Netlink socket is closed/);
});
