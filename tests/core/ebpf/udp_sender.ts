/**
 * Test helper run inside a namespace: sends COUNT UDP datagrams of SIZE bytes from FROM to
 * TO:PORT and prints how many were handed to the kernel.
 *
 * @module
 */
import dgram from "node:dgram";
import { Buffer } from "node:buffer";

const [from, to, portText, countText, sizeText, burstText] = Deno.args;
const burst = Number(burstText ?? "500");
const count = Number(countText);
const payload = Buffer.alloc(Number(sizeText), 0x78);
const socket = dgram.createSocket("udp4");
await new Promise<void>((resolve) => socket.bind(0, from, resolve));
let sent = 0;
for (let i = 0; i < count; i++) {
  await new Promise<void>((resolve, reject) =>
    socket.send(payload, Number(portText), to, (err) => err ? reject(err) : resolve())
  );
  sent++;
  // Pace bursts so the receiving socket buffer never overflows.
  if (i % burst === burst - 1) await new Promise((r) => setTimeout(r, 1));
}
socket.close();
console.log(sent);
