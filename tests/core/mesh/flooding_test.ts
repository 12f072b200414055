/**
 * The flooder's session upkeep with an in-memory transport: a session that never exchanges
 * HELLOs (a handshake or HELLO lost while a link bounced) is closed after the sync timeout and
 * the next tick connects again; a synchronized session is kept.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startFlooder } from "../../../core/mesh/flooding.ts";
import type { ControlConn, ControlTransport } from "../../../core/mesh/transport.ts";
import { frame } from "../../../core/mesh/transport.ts";
import { encodeControlMessage } from "../../../core/mesh/control_message.ts";
import type { MeshInterface } from "../../../core/mesh/interfaces.ts";

const IFACE: MeshInterface = {
  name: "to-r2",
  localAddress: "10.200.0.0",
  peerAddress: "10.200.0.1",
  prefixLength: 31,
};

/** A connection whose far end sends `incoming` (or nothing, and never ends) until closed. */
function fakeConn(incoming: Uint8Array[]): ControlConn & { closed: boolean } {
  let ctl: ReadableStreamDefaultController<Uint8Array> | undefined;
  const conn = {
    closed: false,
    remoteAddress: IFACE.peerAddress,
    readable: new ReadableStream<Uint8Array>({
      start(c) {
        ctl = c;
        for (const b of incoming) c.enqueue(b);
      },
    }),
    write: () => Promise.resolve(),
    close() {
      if (conn.closed) return;
      conn.closed = true;
      ctl?.close();
    },
  };
  return conn;
}

function fakeTransport(next: () => ControlConn & { closed: boolean }) {
  const conns: (ControlConn & { closed: boolean })[] = [];
  let stopListening: () => void = () => {};
  const transport: ControlTransport = {
    listen: () => ({
      close: () => stopListening(),
      // Nobody connects to us: the iterator ends only when the listener closes.
      [Symbol.asyncIterator]: () => ({
        next: () =>
          new Promise<IteratorResult<ControlConn>>((r) =>
            stopListening = () => r({ done: true, value: undefined })
          ),
      }),
    }),
    connect() {
      const c = next();
      conns.push(c);
      return Promise.resolve(c);
    },
  };
  return { transport, conns };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function flooderWith(transport: ControlTransport) {
  return startFlooder([IFACE], {
    transport,
    controlPort: 6971,
    syncTimeoutMs: 1000,
    neighbourOn: () => "r2",
    owner: {
      nodeId: "r1",
      routerAddress: "10.255.0.1",
      database: () => [],
      current: () => undefined,
      onLsa: () => {},
      onSessionChange: () => {},
    },
  });
}

Deno.test("flooder closes a session that never exchanges HELLOs and connects again", async () => {
  const { transport, conns } = fakeTransport(() => fakeConn([]));
  const flooder = flooderWith(transport);
  try {
    const t0 = performance.now();
    flooder.maintain(IFACE, "r2", t0);
    await tick();
    assert.equal(conns.length, 1);
    assert.equal(flooder.sessions(), 1);
    assert.equal(flooder.synced(IFACE), false);
    flooder.maintain(IFACE, "r2", t0 + 600);
    assert.equal(conns[0].closed, false, "kept within the sync timeout");
    flooder.maintain(IFACE, "r2", t0 + 1500);
    assert.equal(conns[0].closed, true, "closed after the sync timeout");
    assert.equal(flooder.sessions(), 0);
    flooder.maintain(IFACE, "r2", t0 + 1600);
    await tick();
    assert.equal(conns.length, 2, "the next tick connects again");
    assert.equal(flooder.sessions(), 1);
  } finally {
    await flooder.stop();
  }
});

Deno.test("flooder keeps a synchronized session past the sync timeout", async () => {
  const hello = frame(new TextEncoder().encode(encodeControlMessage({
    v: 1,
    type: "hello",
    node_id: "r2",
    router_address: "10.255.0.2",
  })));
  const { transport, conns } = fakeTransport(() => fakeConn([hello]));
  const flooder = flooderWith(transport);
  try {
    const t0 = performance.now();
    flooder.maintain(IFACE, "r2", t0);
    await tick();
    await tick();
    assert.equal(flooder.synced(IFACE), true);
    flooder.maintain(IFACE, "r2", t0 + 5000);
    assert.equal(conns[0].closed, false);
    assert.equal(flooder.sessions(), 1);
    assert.equal(conns.length, 1);
  } finally {
    await flooder.stop();
  }
});

Deno.test("flooder: a session is full only after the peer's DB_END, and says so once", async (t) => {
  const enc = (m: Parameters<typeof encodeControlMessage>[0]) =>
    frame(new TextEncoder().encode(encodeControlMessage(m)));
  const peerLsa = {
    origin: "r2",
    seq: 7,
    age: 0,
    router_address: "10.255.0.2",
    links: [{ neighbour: "r1", cost: 1_000_000, quality: "GOOD" as const }],
  };
  let ctl: ReadableStreamDefaultController<Uint8Array> | undefined;
  const written: string[] = [];
  const conn = {
    closed: false,
    remoteAddress: IFACE.peerAddress,
    readable: new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) }),
    write(data: Uint8Array) {
      written.push(new TextDecoder().decode(data.subarray(4)));
      return Promise.resolve();
    },
    close() {
      if (conn.closed) return;
      conn.closed = true;
      ctl?.close();
    },
  };
  const { transport } = fakeTransport(() => conn);
  const changes: boolean[] = [];
  const received: string[] = [];
  const ownLsa = { ...peerLsa, origin: "r1", router_address: "10.255.0.1", links: [] };
  const flooder = startFlooder([IFACE], {
    transport,
    controlPort: 6971,
    neighbourOn: () => "r2",
    owner: {
      nodeId: "r1",
      routerAddress: "10.255.0.1",
      database: () => [ownLsa],
      current: () => undefined,
      onLsa: (lsa) => received.push(lsa.origin),
      onSessionChange: () => changes.push(flooder.full(IFACE)),
    },
  });
  try {
    flooder.maintain(IFACE, "r2", performance.now());
    await tick();
    await t.step("our side sends HELLO, its database, then DB_END", () => {
      assert.deepEqual(written.map((w) => JSON.parse(w).type), ["hello", "lsa", "db_end"]);
      assert.equal(JSON.parse(written[2]).lsas, 1);
    });
    await t.step("HELLO and the database alone do not make the session full", async () => {
      ctl!.enqueue(enc({ v: 1, type: "hello", node_id: "r2", router_address: "10.255.0.2" }));
      ctl!.enqueue(enc({ v: 1, type: "lsa", lsa: peerLsa }));
      for (let i = 0; i < 5; i++) await tick();
      assert.equal(flooder.synced(IFACE), true);
      assert.equal(flooder.full(IFACE), false);
      assert.deepEqual(received, ["r2"]);
      assert.deepEqual(changes, []);
    });
    await t.step("DB_END does, and the owner hears of it once", async () => {
      ctl!.enqueue(enc({ v: 1, type: "db_end", lsas: 1 }));
      ctl!.enqueue(enc({ v: 1, type: "db_end", lsas: 1 }));
      for (let i = 0; i < 5; i++) await tick();
      assert.equal(flooder.full(IFACE), true);
      assert.deepEqual(changes, [true]);
    });
    await t.step("the end of a full session is reported too", async () => {
      conn.close();
      for (let i = 0; i < 5; i++) await tick();
      assert.equal(flooder.full(IFACE), false);
      assert.deepEqual(changes, [true, false]);
    });
  } finally {
    await flooder.stop();
  }
});

/**
 * A connection the far end already closed, as an mTLS socket can look when the listener refuses
 * it (its prober does not see us yet) right after the handshake: writes fail, and the readable
 * never reports the close, not even after our own close().
 */
function refusedConn(): ControlConn & { closed: boolean } {
  const conn = {
    closed: false,
    remoteAddress: IFACE.peerAddress,
    readable: new ReadableStream<Uint8Array>(),
    write: () => Promise.reject(new Error("write EPIPE")),
    close() {
      conn.closed = true;
    },
  };
  return conn;
}

/** Resolves with `value`, or "timed out" after `ms`, clearing its timer either way. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | "timed out"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<"timed out">((r) => timer = setTimeout(() => r("timed out"), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("flooder ends a session whose writes fail at once and reconnects before the sync timeout", async () => {
  let refused = true;
  const hello = frame(new TextEncoder().encode(encodeControlMessage({
    v: 1,
    type: "hello",
    node_id: "r2",
    router_address: "10.255.0.2",
  })));
  const { transport, conns } = fakeTransport(() => refused ? refusedConn() : fakeConn([hello]));
  const flooder = flooderWith(transport);
  let stopped;
  try {
    const t0 = performance.now();
    flooder.maintain(IFACE, "r2", t0);
    await tick();
    await tick();
    assert.equal(conns.length, 1);
    assert.equal(flooder.sessions(), 0, "the refused session is gone without waiting for a HELLO");
    assert.equal(conns[0].closed, true);
    refused = false;
    // The next attempt after the connect retry interval, well inside the sync timeout (1000 ms).
    flooder.maintain(IFACE, "r2", t0 + 600);
    await tick();
    await tick();
    assert.equal(conns.length, 2, "connected again");
    assert.equal(flooder.synced(IFACE), true);
  } finally {
    stopped = await within(flooder.stop(), 2000);
  }
  assert.equal(stopped, undefined, "stop() returns");
});

Deno.test("flooder stop() returns even if a closed connection's readable never ends", async () => {
  const { transport, conns } = fakeTransport(() => ({
    ...refusedConn(),
    write: () => Promise.resolve(),
  }));
  const flooder = flooderWith(transport);
  const t0 = performance.now();
  flooder.maintain(IFACE, "r2", t0);
  await tick();
  assert.equal(conns.length, 1);
  assert.equal(flooder.sessions(), 1);
  flooder.maintain(IFACE, "r2", t0 + 1500);
  assert.equal(flooder.sessions(), 0, "closed after the sync timeout");
  assert.equal(await within(flooder.stop(), 2000), undefined, "stop() returns");
});
