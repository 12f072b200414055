/**
 * Opens the configured external fabric (Yggdrasil admin socket or batman-adv netlink) as one
 * `read()` that returns a FabricSnapshot. Used by the agent's poller and the `fabric` CLI.
 *
 * @module
 */
import { type BatmanClient, openBatmanClient } from "./batman/batadv_client.ts";
import { batmanSnapshot } from "./batman/batman_snapshot.ts";
import { createYggdrasilClient } from "./yggdrasil/admin_client.ts";
import { DEFAULT_ADMIN_ENDPOINT } from "./yggdrasil/endpoint.ts";
import { yggdrasilSnapshot } from "./yggdrasil/yggdrasil_snapshot.ts";
import type { FabricBackend, FabricSnapshot } from "./fabric_snapshot.ts";

/** Which fabric to read and how. */
export type FabricSourceOptions =
  | { backend: "yggdrasil"; endpoint?: string | null; timeoutMs?: number }
  | { backend: "batman"; meshif: string; timeoutMs?: number };

/** A readable fabric. */
export interface FabricSource {
  readonly backend: FabricBackend;
  /** Where it reads from (admin endpoint or soft interface), for messages. */
  readonly target: string;
  read(): Promise<FabricSnapshot>;
  close(): void;
}

/**
 * Opens a fabric source. Nothing is contacted until the first read (so an agent starts even
 * while its daemon is down); bad options (endpoint syntax, interface name) throw at once.
 *
 * @param options backend and its target
 */
export function openFabricSource(options: FabricSourceOptions): FabricSource {
  if (options.backend === "yggdrasil") {
    const client = createYggdrasilClient(options.endpoint ?? DEFAULT_ADMIN_ENDPOINT, {
      timeoutMs: options.timeoutMs,
    });
    return {
      backend: "yggdrasil",
      target: client.endpoint.url,
      read: async () => {
        const tables = await client.readAll();
        return yggdrasilSnapshot(tables, Date.now());
      },
      close: () => {},
    };
  }
  const meshif = options.meshif;
  let client: BatmanClient | null = null;
  return {
    backend: "batman",
    target: meshif,
    read: () => {
      try {
        client ??= openBatmanClient(meshif, { timeoutMs: options.timeoutMs });
        return Promise.resolve(batmanSnapshot(client.readAll(), Date.now()));
      } catch (err) {
        // A fresh socket next time: the module may be loaded or the interface created later
        client?.close();
        client = null;
        return Promise.reject(err);
      }
    },
    close: () => {
      client?.close();
      client = null;
    },
  };
}
