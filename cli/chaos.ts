/**
 * `chaos` operator commands: `chaos drop --iface IF --percent P [--netns NS]` drops P % of the
 * packets received on IF (XDP, stays active after this command exits);
 * `chaos clear --iface IF [--netns NS]` stops it.
 *
 * @module
 */
import { Command } from "commander";
import { type ChaosResult, clearChaos, setChaos } from "../core/ebpf/chaos.ts";
import { checkInterfaceName, checkNetnsName } from "../core/ebpf/netns.ts";
import {
  cliLibbpf,
  parseEthertype,
  parseMode,
  parsePercent,
  parseProtocol,
  runAction,
} from "./ebpf.ts";

interface DropOptions {
  iface: string;
  netns?: string;
  percent: string;
  ethertype?: string;
  protocol?: string;
  mode: string;
  json?: boolean;
}

function describe(r: ChaosResult): string {
  const place = r.netns ? `${r.netns}/${r.iface}` : r.iface;
  if (r.action === "none") return `no chaos on ${place}`;
  if (r.action === "detached") return `chaos cleared on ${place} (injector detached)`;
  if (r.action === "reset") return `chaos cleared on ${place} (${r.program} keeps counting)`;
  const filters = [
    r.config.ethertype !== undefined
      ? `ethertype 0x${r.config.ethertype.toString(16).padStart(4, "0")}`
      : "",
    r.config.ipProto !== undefined ? `protocol ${r.config.ipProto}` : "",
  ].filter(Boolean).join(", ");
  return `dropping ${r.config.dropPpm / 10_000}% on ${place}${
    filters ? ` (${filters})` : ""
  } via ${r.program} (id ${r.progId})`;
}

/** Builds the `chaos` command. */
export function chaosCommand(): Command {
  const cmd = new Command("chaos").description("inject packet loss with XDP (tests, drills)");
  cmd.command("drop")
    .description("drop a share of received packets on an interface")
    .requiredOption("--iface <name>", "interface")
    .requiredOption("--percent <p>", "percent of matching packets to drop, 0-100")
    .option("--netns <name>", "network namespace of the interface")
    .option("--ethertype <type>", "only this EtherType: ipv4, ipv6, arp or a number")
    .option("--protocol <proto>", "only this IP protocol: udp, tcp, icmp, icmpv6 or a number")
    .option("--mode <mode>", "XDP mode if the injector must be attached: skb or native", "skb")
    .option("--json", "machine-readable output")
    .action((opts: DropOptions) =>
      runAction(() => {
        checkInterfaceName(opts.iface);
        if (opts.netns !== undefined) checkNetnsName(opts.netns);
        const request = {
          iface: opts.iface,
          netns: opts.netns,
          percent: parsePercent(opts.percent),
          ethertype: opts.ethertype === undefined ? undefined : parseEthertype(opts.ethertype),
          ipProto: opts.protocol === undefined ? undefined : parseProtocol(opts.protocol),
          mode: parseMode(opts.mode),
        };
        const result = setChaos(cliLibbpf(), request);
        console.log(opts.json ? JSON.stringify(result) : describe(result));
      })
    );
  cmd.command("clear")
    .description("stop dropping packets on an interface")
    .requiredOption("--iface <name>", "interface")
    .option("--netns <name>", "network namespace of the interface")
    .option("--json", "machine-readable output")
    .action((opts: { iface: string; netns?: string; json?: boolean }) =>
      runAction(() => {
        checkInterfaceName(opts.iface);
        if (opts.netns !== undefined) checkNetnsName(opts.netns);
        const result = clearChaos(cliLibbpf(), { iface: opts.iface, netns: opts.netns });
        console.log(opts.json ? JSON.stringify(result) : describe(result));
      })
    );
  return cmd;
}
