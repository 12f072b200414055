/**
 * Which interfaces the mesh agent runs on and who is at the other end: mesh links are
 * point-to-point IPv4 subnets (/31 or /30, as on veth pairs and radio links), so the neighbour's
 * address is the other host address of the subnet and probes go straight to it.
 *
 * @module
 */
import { intToIpv4, ipv4ToInt } from "./probe_packet.ts";

/** A mesh interface with its local and peer address. */
export interface MeshInterface {
  name: string;
  localAddress: string;
  peerAddress: string;
  prefixLength: number;
}

/**
 * The other host address of a point-to-point subnet, or null for any other prefix length (or
 * the network/broadcast address of a /30).
 *
 * @param address local address
 * @param prefixLength 30 or 31
 */
export function peerAddressOf(address: string, prefixLength: number): string | null {
  const a = ipv4ToInt(address);
  if (prefixLength === 31) return intToIpv4((a ^ 1) >>> 0);
  if (prefixLength === 30) {
    const host = a & 3;
    if (host === 1) return intToIpv4(a + 1);
    if (host === 2) return intToIpv4(a - 1);
  }
  return null;
}

/**
 * Resolves the mesh interfaces from the host's addresses (needs --allow-sys=networkInterfaces).
 *
 * @param wanted configured names; empty means every non-loopback point-to-point IPv4 interface
 * @returns usable interfaces and, for each wanted one that is not, the reason
 */
export function resolveMeshInterfaces(
  wanted: string[],
  host: Deno.NetworkInterfaceInfo[] = Deno.networkInterfaces(),
): { interfaces: MeshInterface[]; skipped: Array<{ name: string; reason: string }> } {
  const v4 = host.filter((i) => i.family === "IPv4" && !i.address.startsWith("127."));
  const names = wanted.length > 0 ? wanted : [...new Set(v4.map((i) => i.name))];
  const interfaces: MeshInterface[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const name of names) {
    const addrs = v4.filter((i) => i.name === name);
    if (addrs.length === 0) {
      skipped.push({ name, reason: "no IPv4 address (missing or down)" });
      continue;
    }
    const p2p = addrs.map((a) => {
      const prefixLength = Number(a.cidr.split("/")[1]);
      return { a, prefixLength, peer: peerAddressOf(a.address, prefixLength) };
    }).find((x) => x.peer !== null);
    if (!p2p) {
      skipped.push({ name, reason: "no point-to-point (/30 or /31) IPv4 address" });
      continue;
    }
    interfaces.push({
      name,
      localAddress: p2p.a.address,
      peerAddress: p2p.peer!,
      prefixLength: p2p.prefixLength,
    });
  }
  return { interfaces, skipped };
}
