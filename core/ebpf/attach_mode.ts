/**
 * Picks how to attach telemetry to an interface when the configuration says "auto": TC ingress
 * on virtual links (veth, tun, bridges, tunnels: XDP there either copies every GSO packet or
 * gives up GSO), native XDP on everything else (physical NIC drivers), with generic XDP as the
 * fallback when the driver has no XDP support.
 *
 * @module
 */
import { libc } from "../../ffi/libc.ts";
import { withNetns } from "./netns.ts";
import type { AttachMode } from "./program_loader.ts";

/** Telemetry attach modes, plus "auto" (decided per interface by its driver). */
export type TelemetryMode = AttachMode | "auto";

/** Drivers of virtual interfaces, where TC ingress is the cheap hook. */
export const VIRTUAL_DRIVERS: ReadonlySet<string> = new Set([
  "veth",
  "tun",
  "bridge",
  "dummy",
  "ifb",
  "vxlan",
  "geneve",
  "macvlan",
  "ipvlan",
  "wireguard",
  "batman-adv",
  "vrf",
  "ip_gre",
  "ip6_gre",
  "ipip",
  "sit",
  "802.1Q VLAN Support",
]);

/**
 * The attach mode "auto" resolves to for one interface: "tc" for virtual drivers (or when the
 * driver cannot be read), "native" otherwise.
 *
 * @param iface interface name
 * @param options network namespace, and the set of drivers to treat as virtual
 */
export function chooseAttachMode(
  iface: string,
  options: { netns?: string; virtualDrivers?: ReadonlySet<string> } = {},
): "tc" | "native" {
  const driver = withNetns(options.netns, () => libc().interfaceDriver(iface));
  const virtual = options.virtualDrivers ?? VIRTUAL_DRIVERS;
  return driver === null || virtual.has(driver) ? "tc" : "native";
}
