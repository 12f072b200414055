/**
 * `status`: a running agent's health, mesh status, neighbours and routes in one report.
 *
 * @module
 */
import { Command } from "commander";
import { defaultUrl, getJson, UnreachableError } from "./client.ts";

/** The `status` command. */
export function statusCommand(): Command {
  return new Command("status")
    .description("Show a running agent's health, mesh status, neighbours and routes")
    .option("--url <url>", "agent base URL (env X0_URL)", defaultUrl())
    .option("--json", "print one JSON object")
    .action(async (opts: { url: string; json?: boolean }) => {
      try {
        const [health, mesh, peers, routes] = await Promise.all(
          ["/health", "/mesh/status", "/mesh/peers", "/mesh/routes"].map((p) =>
            getJson(opts.url, p)
          ),
        );
        const report = {
          health: health.body,
          mesh: mesh.body,
          peers: (peers.body as { peers?: unknown[] }).peers ?? [],
          routes: (routes.body as { routes?: unknown[] }).routes ?? [],
        };
        if (opts.json) {
          console.log(JSON.stringify(report));
        } else {
          printStatus(report);
        }
        Deno.exitCode = health.status === 200 ? 0 : 1;
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        console.error(err.message);
        Deno.exitCode = 2;
      }
    });
}

function printStatus(report: {
  health: unknown;
  mesh: unknown;
  peers: unknown[];
  routes: unknown[];
}) {
  const h = report.health as Record<string, unknown>;
  const m = report.mesh as Record<string, unknown>;
  console.log(`node      ${h.node_id}  (version ${h.version}, up ${h.uptime_s}s)`);
  console.log(
    `health    ${h.status}${Array.isArray(h.reasons) ? ": " + h.reasons.join("; ") : ""}`,
  );
  console.log(
    `mesh      ${m.state}, backend ${m.backend}, router ${m.router_address ?? "-"}, ` +
      `${m.neighbours} neighbours, ${m.routes} routes, ${m.lsa_db_size} LSAs`,
  );
  for (const p of report.peers as Record<string, unknown>[]) {
    console.log(
      `peer      ${p.id} ${p.state} via ${p.interface ?? "-"} rtt=${p.rtt_ms ?? "-"}ms ` +
        `loss=${p.loss_percent ?? "-"}% quality=${p.quality ?? "-"}`,
    );
  }
  for (const r of report.routes as Record<string, unknown>[]) {
    console.log(
      `route     ${r.destination} via ${r.next_hop ?? "-"} dev ${
        r.interface ?? "-"
      } cost ${r.cost}` +
        ` backup ${r.backup_next_hop ?? "-"}`,
    );
  }
}
