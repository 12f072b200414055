/**
 * A typed client of the Yggdrasil admin socket: getSelf, getPeers, getPaths, getDHT and
 * getSessions, each one connection with a timeout, each reply parsed strictly (both 0.4.x
 * shapes) into typed values.
 *
 * @module
 */
import { UnavailableError } from "../../errors.ts";
import { adminRequest } from "./admin_socket.ts";
import {
  parseDht,
  parsePaths,
  parsePeers,
  parseSelf,
  parseSessions,
  type YggDhtEntry,
  type YggPath,
  type YggPeer,
  type YggSelf,
  type YggSession,
} from "./admin_schemas.ts";
import { type AdminEndpoint, parseAdminEndpoint } from "./endpoint.ts";

/** Everything the adapter reads in one poll. */
export interface YggdrasilTables {
  self: YggSelf;
  peers: YggPeer[];
  paths: YggPath[];
  dht: YggDhtEntry[];
  sessions: YggSession[];
}

/** The admin requests this adapter uses. */
export interface YggdrasilClient {
  readonly endpoint: AdminEndpoint;
  getSelf(): Promise<YggSelf>;
  getPeers(): Promise<YggPeer[]>;
  getPaths(): Promise<YggPath[]>;
  getDHT(): Promise<YggDhtEntry[]>;
  getSessions(): Promise<YggSession[]>;
  /**
   * getSelf and getPeers, then getPaths, getDHT and getSessions; the last three are optional
   * (a daemon that does not know one answers "Unknown action"), the first two are not.
   */
  readAll(): Promise<YggdrasilTables>;
}

/**
 * Creates a client for an admin endpoint.
 *
 * @param endpoint `unix:///path/to.sock` or `tcp://host:port`
 * @param options timeout of each request (default 2000 ms)
 */
export function createYggdrasilClient(
  endpoint: string,
  options: { timeoutMs?: number } = {},
): YggdrasilClient {
  const ep = parseAdminEndpoint(endpoint);
  const ask = (name: string) => adminRequest(ep, name, { timeoutMs: options.timeoutMs });
  const optional = async <T>(f: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await f();
    } catch (err) {
      const reason = err instanceof UnavailableError ? err.details?.reason : undefined;
      if (typeof reason === "string" && /unknown action/i.test(reason)) return [];
      throw err;
    }
  };
  const client: YggdrasilClient = {
    endpoint: ep,
    getSelf: async () => parseSelf(await ask("getSelf")),
    getPeers: async () => parsePeers(await ask("getPeers")),
    getPaths: async () => parsePaths(await ask("getPaths")),
    getDHT: async () => parseDht(await ask("getDHT")),
    getSessions: async () => parseSessions(await ask("getSessions")),
    async readAll() {
      const self = await client.getSelf();
      const peers = await client.getPeers();
      const paths = await optional(client.getPaths);
      const dht = await optional(client.getDHT);
      const sessions = await optional(client.getSessions);
      return { self, peers, paths, dht, sessions };
    },
  };
  return client;
}
