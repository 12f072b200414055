/**
 * The Yggdrasil fabric adapter: admin-socket client, strict reply schemas (both 0.4.x
 * shapes) and the mapping into the topology.
 *
 * @module
 */
export * from "./endpoint.ts";
export * from "./admin_socket.ts";
export * from "./admin_schemas.ts";
export * from "./admin_client.ts";
export * from "./yggdrasil_snapshot.ts";
