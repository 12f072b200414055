/**
 * Links collector: loss, RTT and jitter of every neighbour as the mesh agent measures them
 * (MeshView.peers()), one sample per neighbour.
 *
 * @module
 */
import type { MeshView } from "../../mesh/view.ts";
import { type Collector, finiteValues, type Sample } from "../monitor.ts";

/**
 * Creates the links collector.
 *
 * @param mesh the live mesh view
 * @param options a clock
 */
export function linksCollector(mesh: MeshView, options: { now?: () => number } = {}): Collector {
  const now = options.now ?? Date.now;
  return {
    kind: "links",
    collect(): Sample[] {
      const at = now();
      return mesh.peers().map((p) => ({
        collector: "links" as const,
        target: p.id,
        at,
        values: finiteValues({
          packet_loss_percent: p.loss_percent,
          rtt_ms: p.rtt_ms,
          jitter_ms: p.jitter_ms,
          online: p.state === "ONLINE" || p.state === "DEGRADED" ? 1 : 0,
        }),
        labels: {
          state: p.state,
          ...(p.interface ? { interface: p.interface } : {}),
          ...(p.address ? { address: p.address } : {}),
        },
      }));
    },
  };
}
