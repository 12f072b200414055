/**
 * Route executor: moves traffic off a lossy link. When the mesh backend offers its own fast
 * reroute (`switchToBackup(peer)` / `isolate(peer)` on its view), that is used, so the mesh
 * agent stays the only writer of its routes; otherwise the executor rewrites the kernel routes
 * the view reports (primary via the peer → its backup next hop) with `ip route replace`, tagged
 * with the mesh route protocol, and can take the link's interface down (isolate).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { errorMessage, NotFoundError, UnavailableError } from "../../errors.ts";
import type { MeshPeer, MeshRoute, MeshView } from "../../mesh/view.ts";

const log = getLogger(["x0", "mapek", "route"]);

/** Route actions a mesh backend may expose on its view. */
export interface MeshRouteActions {
  /** Moves every route through `peer` to its precomputed backup; returns how many moved. */
  switchToBackup(peer: string): number | Promise<number>;
  /** Stops using the link to `peer` until restored. */
  isolate?(peer: string): void | Promise<void>;
  /** Uses the link to `peer` again. */
  restore?(peer: string): void | Promise<void>;
}

/** What the executor and the verifier need. */
export interface RouteControl {
  /** Moves routes through `peer` to backups; returns a description. */
  switchToBackup(peer: string): Promise<string>;
  /** Takes the link to `peer` out of use; returns a description. */
  isolate(peer: string): Promise<string>;
  /** True when no route's next hop is `peer` any more. */
  avoids(peer: string): Promise<boolean>;
  /** Undoes switch and isolation for `peer` (the link is healthy again). */
  restore(peer: string): Promise<void>;
}

function hasActions(mesh: MeshView): mesh is MeshView & MeshRouteActions {
  return typeof (mesh as Partial<MeshRouteActions>).switchToBackup === "function";
}

async function ip(args: string[], netns?: string): Promise<string> {
  const full = netns ? ["-n", netns, ...args] : args;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("ip", {
      args: full,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  } catch (err) {
    throw new UnavailableError(`Cannot run ip: ${errorMessage(err)}`, { cause: err });
  }
  if (out.code !== 0) {
    throw new UnavailableError(
      `ip ${full.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/** One kernel route as `ip -j route` prints it. */
interface KernelRow {
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  protocol?: string;
}

/**
 * Creates the route control for a mesh view.
 *
 * @param mesh the live mesh view (with route actions when the backend has them)
 * @param options network namespace of the routes (tests), kernel route protocol
 */
export function routeControl(
  mesh: MeshView,
  options: { netns?: string; protocol?: number } = {},
): RouteControl {
  const protocol = options.protocol ?? 99;
  // Per peer, the routes moved and the metric-0 route each replaced (null: one was added).
  const moved = new Map<string, { route: MeshRoute; previous: KernelRow | null }[]>();
  const isolated = new Map<string, string>();

  const peerOf = (id: string): MeshPeer => {
    const p = mesh.peers().find((x) => x.id === id);
    if (!p) throw new NotFoundError(`No such neighbour: ${id}`);
    return p;
  };
  const via = (r: MeshRoute, p: MeshPeer) =>
    r.next_hop === p.id || (p.address !== null && r.next_hop === p.address);
  const addressOf = (hop: string) => mesh.peers().find((x) => x.id === hop)?.address ?? hop;
  const showRoutes = async (dest: string): Promise<KernelRow[]> =>
    JSON.parse((await ip(["-j", "route", "show", dest], options.netns)) || "[]");

  return {
    async switchToBackup(peer) {
      if (hasActions(mesh)) {
        const n = await mesh.switchToBackup(peer);
        return `mesh fast reroute moved ${n} routes off ${peer}`;
      }
      const p = peerOf(peer);
      const routes = mesh.routes().filter((r) => via(r, p));
      const done = moved.get(peer) ?? [];
      const skipped: string[] = [];
      for (const r of routes) {
        if (!r.backup_next_hop || r.backup_next_hop === peer) {
          skipped.push(r.destination);
          continue;
        }
        // The switch goes in at metric 0, ahead of the mesh's own primary and backup entries;
        // remember what it replaces so restore() can undo exactly that.
        const previous = (await showRoutes(r.destination)).find((row) => !row.metric) ?? null;
        const args = ["route", "replace", r.destination, "via", addressOf(r.backup_next_hop)];
        if (r.backup_interface) args.push("dev", r.backup_interface);
        await ip([...args, "proto", String(protocol)], options.netns);
        if (!done.some((m) => m.route.destination === r.destination)) {
          done.push({ route: r, previous });
        }
      }
      moved.set(peer, done);
      if (routes.length > 0 && done.length === 0) {
        throw new UnavailableError(
          `No backup route for any destination via ${peer}: ${skipped.join(", ")}`,
        );
      }
      return `moved ${done.length} routes off ${peer}${
        skipped.length ? `; no backup for ${skipped.join(", ")}` : ""
      }`;
    },
    async isolate(peer) {
      if (hasActions(mesh) && mesh.isolate) {
        await mesh.isolate(peer);
        return `mesh isolated link to ${peer}`;
      }
      const p = peerOf(peer);
      if (!p.interface) throw new UnavailableError(`Neighbour ${peer} has no interface to isolate`);
      await ip(["link", "set", "dev", p.interface, "down"], options.netns);
      isolated.set(peer, p.interface);
      return `set ${p.interface} down`;
    },
    async avoids(peer) {
      if (hasActions(mesh)) {
        const p = mesh.peers().find((x) => x.id === peer);
        return !p || !mesh.routes().some((r) => via(r, p));
      }
      const p = mesh.peers().find((x) => x.id === peer);
      if (!p) return true;
      const dests = (moved.get(peer) ?? []).map((m) => m.route.destination);
      if (dests.length === 0) {
        // Nothing was moved: avoided when isolated or when no route went through the peer.
        return isolated.has(peer) || !mesh.routes().some((r) => via(r, p));
      }
      // The route the kernel actually uses for each moved destination.
      for (const d of dests) {
        const text = await ip(["-j", "route", "get", d.split("/")[0]], options.netns);
        const rows = JSON.parse(text || "[]") as KernelRow[];
        if (rows.some((row) => row.gateway === p.address || row.dev === p.interface)) return false;
      }
      return true;
    },
    async restore(peer) {
      if (hasActions(mesh)) {
        await mesh.restore?.(peer);
        return;
      }
      const iface = isolated.get(peer);
      if (iface) {
        await ip(["link", "set", "dev", iface, "up"], options.netns);
        isolated.delete(peer);
      }
      for (const { route: r, previous } of moved.get(peer) ?? []) {
        const args = previous?.gateway
          ? ["route", "replace", r.destination, "via", previous.gateway]
          : ["route", "del", r.destination, "via", addressOf(r.backup_next_hop!)];
        const dev = previous ? previous.dev : r.backup_interface;
        if (dev) args.push("dev", dev);
        try {
          await ip([...args, "proto", String(protocol)], options.netns);
        } catch (err) {
          log.warning("Cannot restore route {dest} via {peer}: {error}", {
            dest: r.destination,
            peer,
            error: errorMessage(err),
          });
        }
      }
      moved.delete(peer);
    },
  };
}
