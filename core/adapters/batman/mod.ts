/**
 * The batman-adv fabric adapter: generic netlink reader and its mapping into the topology.
 *
 * @module
 */
export * from "./batadv_messages.ts";
export * from "./batadv_client.ts";
export * from "./batman_snapshot.ts";
