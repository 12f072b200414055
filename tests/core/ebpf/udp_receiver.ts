/**
 * Test helper run inside a namespace: counts UDP datagrams on IP:PORT, prints "ready" once
 * bound, then the count once EXPECTED arrived, nothing came for IDLE_MS, or no first packet
 * came within FIRST_MS.
 * Needs --unstable-net (Deno.listenDatagram; node:dgram receives too slowly for 10k packets).
 *
 * @module
 */
const [ip, portText, expectedText, idleText, firstText] = Deno.args;
const expected = Number(expectedText);
const idleMs = Number(idleText);
const socket = Deno.listenDatagram({ transport: "udp", hostname: ip, port: Number(portText) });
console.log("ready");
let received = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
const arm = (ms: number) => {
  clearTimeout(timer);
  timer = setTimeout(() => socket.close(), ms);
};
// Bounded: with no traffic at all the receiver gives up (default after 20 s).
arm(Number(firstText ?? "20000"));
try {
  for await (const _ of socket) {
    received++;
    if (received >= expected) break;
    arm(idleMs);
  }
} catch (err) {
  if (!(err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted)) {
    throw err;
  }
} finally {
  clearTimeout(timer);
  try {
    socket.close();
  } catch { /* already closed by the idle timer */ }
}
console.log(received);
