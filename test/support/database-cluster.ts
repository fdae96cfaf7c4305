/**
 * A managed PostgreSQL cluster's inputs that every database policy accepts (given protect: true
 * and a firewall that depends on it): the database policy tests change one thing about it.
 */
export const goodCluster = {
  engine: "pg",
  version: "16",
  nodeCount: 2,
  size: "db-s-2vcpu-4gb",
  region: "fra1",
  privateNetworkUuid: "vpc-1",
  maintenanceWindows: [{ day: "sunday", hour: "03:00:00" }],
};
