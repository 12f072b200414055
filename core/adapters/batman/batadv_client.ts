/**
 * Reads a batman-adv mesh through the kernel's `batadv` generic netlink family: the soft
 * interface (GET_MESH), its hard interfaces (GET_HARDIF), the originator table
 * (GET_ORIGINATORS) and the single-hop neighbours (GET_NEIGHBORS). Runs in the calling
 * process's network namespace. A kernel without batman-adv yields one UnavailableError.
 *
 * @module
 */
import { type GenlSocket, ifNameToIndex, NetlinkError, openGenlSocket } from "../../../ffi/genl.ts";
import { NetlinkFormatError, u32Bytes } from "../../../ffi/genl_wire.ts";
import {
  errorMessage,
  ForbiddenError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from "../../errors.ts";
import {
  BATADV_ATTR,
  BATADV_CMD,
  BATADV_FAMILY,
  type BatmanHardIf,
  type BatmanMeshInfo,
  type BatmanNeighbour,
  type BatmanOriginator,
  decodeHardIf,
  decodeMesh,
  decodeNeighbour,
  decodeOriginator,
} from "./batadv_messages.ts";

const IFNAME = /^(?!\.{1,2}$)[A-Za-z0-9_.:@-]{1,15}$/;

/** Everything the adapter reads in one poll. */
export interface BatmanTables {
  mesh: BatmanMeshInfo;
  hardifs: BatmanHardIf[];
  originators: BatmanOriginator[];
  neighbours: BatmanNeighbour[];
}

/** A batman-adv reader bound to one soft interface. */
export interface BatmanClient {
  readonly meshif: string;
  getMesh(): BatmanMeshInfo;
  getHardIfs(): BatmanHardIf[];
  getOriginators(): BatmanOriginator[];
  getNeighbours(): BatmanNeighbour[];
  /** All four tables, read one after the other. */
  readAll(): BatmanTables;
  close(): void;
}

/** The one error a kernel without batman-adv produces. */
export function batmanUnavailable(cause?: unknown): UnavailableError {
  return new UnavailableError(
    "batman-adv is not available in this kernel: generic netlink family batadv not found " +
      "(load the batman-adv module)",
    { cause },
  );
}

function mapError(op: string, meshif: string, err: unknown): Error {
  if (err instanceof NetlinkError) {
    if (err.errno === 1 || err.errno === 13) {
      return new ForbiddenError(
        `Cannot read batman-adv ${op} of ${meshif}: operation not permitted (need CAP_NET_ADMIN)`,
        { cause: err },
      );
    }
    if (err.errno === 19 || err.errno === 22 || err.errno === 95) {
      return new ValidationError(
        `Not a batman-adv interface: ${meshif} (${err.message})`,
        { cause: err },
      );
    }
    return new UnavailableError(`Cannot read batman-adv ${op} of ${meshif}: ${err.message}`, {
      cause: err,
    });
  }
  if (err instanceof NetlinkFormatError) {
    return new ValidationError(`Malformed batman-adv ${op} reply: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(errorMessage(err));
}

/**
 * Opens a netlink socket, resolves the batadv family and the soft interface.
 *
 * @param meshif the batman-adv soft interface, e.g. "bat0"
 * @param options netlink receive timeout
 */
export function openBatmanClient(
  meshif: string,
  options: { timeoutMs?: number } = {},
): BatmanClient {
  if (!IFNAME.test(meshif)) {
    throw new ValidationError(`Invalid batman-adv interface name: ${JSON.stringify(meshif)}`);
  }
  let sock: GenlSocket;
  try {
    sock = openGenlSocket({ timeoutMs: options.timeoutMs });
  } catch (err) {
    throw new UnavailableError(`Cannot open netlink: ${errorMessage(err)}`, { cause: err });
  }
  let family: { id: number; version: number };
  try {
    family = sock.resolveFamily(BATADV_FAMILY);
  } catch (err) {
    sock.close();
    if (err instanceof NetlinkError && err.errno === 2) throw batmanUnavailable(err);
    throw mapError("family", meshif, err);
  }
  const ifindex = ifNameToIndex(meshif);
  if (ifindex === 0) {
    sock.close();
    throw new NotFoundError(`No such batman-adv interface: ${meshif}`);
  }
  const meshAttr = [{ type: BATADV_ATTR.MESH_IFINDEX, data: u32Bytes(ifindex) }];
  const call = <T>(op: string, cmd: number, dump: boolean, decode: (m: never) => T): T[] => {
    try {
      return sock.request(family.id, { cmd, version: family.version, attrs: meshAttr, dump })
        .map((m) => decode(m as never));
    } catch (err) {
      throw mapError(op, meshif, err);
    }
  };
  const client: BatmanClient = {
    meshif,
    getMesh() {
      const [m] = call("mesh", BATADV_CMD.GET_MESH, false, decodeMesh);
      if (!m) throw new ValidationError(`Malformed batman-adv mesh reply: empty for ${meshif}`);
      return m;
    },
    getHardIfs: () => call("hardif", BATADV_CMD.GET_HARDIF, true, decodeHardIf),
    getOriginators: () => call("originators", BATADV_CMD.GET_ORIGINATORS, true, decodeOriginator),
    getNeighbours: () => call("neighbours", BATADV_CMD.GET_NEIGHBORS, true, decodeNeighbour),
    readAll() {
      return {
        mesh: client.getMesh(),
        hardifs: client.getHardIfs(),
        originators: client.getOriginators(),
        neighbours: client.getNeighbours(),
      };
    },
    close: () => sock.close(),
  };
  return client;
}
