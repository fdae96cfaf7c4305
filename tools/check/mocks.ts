// Mock provider answers for running the program without a cloud. Outputs that other
// resources read (addresses, URIs, generated keys) get stable, obviously fake values
// from the documentation ranges (203.0.113.0/24, 2001:db8::/32, example.com).
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

type State = Record<string, unknown>;
type OutputsFor = (name: string, inputs: State, id: string) => State;

let counter = 0;
const numericId = () => String(1000 + ++counter);

const MOCK_HOST_KEY_PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockHostKeyForOfflineChecksOnlyXXXXXXXXXXXX";
const MOCK_HOST_KEY_PRIVATE =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-host-key-for-offline-checks-only\n-----END OPENSSH PRIVATE KEY-----\n";

/** How a managed database is reached; its hosts are named after the resource. */
interface DatabaseLogin {
  scheme: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** What follows the port in its URIs. */
  uriTail: string;
}

/** A managed database's connection outputs: its public and its private (`private-`) host. */
function databaseConnection(n: string, login: DatabaseLogin): State {
  const { scheme, port, user, password, database, uriTail } = login;
  const host = `${n}.db.example.com`;
  const privateHost = `private-${n}.db.example.com`;
  const uri = (at: string) => `${scheme}://${user}:${password}@${at}:${port}${uriTail}`;
  return { host, privateHost, port, user, password, database, uri: uri(host), privateUri: uri(privateHost) };
}

const postgresConnection = (n: string) =>
  databaseConnection(n, {
    scheme: "postgresql",
    port: 25060,
    user: "doadmin",
    password: `mock-admin-password-${n}`,
    database: "defaultdb",
    uriTail: "/defaultdb?sslmode=require",
  });

// DigitalOcean's Valkey: user `default`, TLS on 25061 (its connect how-to).
const valkeyConnection = (n: string) =>
  databaseConnection(n, {
    scheme: "rediss",
    port: 25061,
    user: "default",
    password: `mock-valkey-password-${n}`,
    database: "",
    uriTail: "",
  });

/** Computed outputs per resource type; everything else echoes its inputs. */
export const MOCK_OUTPUTS: Record<string, OutputsFor> = {
  // Behind a load balancer, droplet n (named <stack>-<n>-droplet) gets addresses of its own.
  "digitalocean:index/droplet:Droplet": (n, _i, id) => {
    const number = Number(/-(\d+)-droplet$/.exec(n)?.[1] ?? 1);
    return {
      ipv4Address: `203.0.113.${9 + number}`,
      ipv4AddressPrivate: `10.110.0.${1 + number}`,
      ipv6Address: `2001:db8::${9 + number}`,
      dropletUrn: `do:droplet:${id}`,
    };
  },
  "digitalocean:index/loadBalancer:LoadBalancer": (_n, _i, id) => ({
    ip: "203.0.113.30",
    ipv6: "2001:db8::30",
    status: "active",
    loadBalancerUrn: `do:loadbalancer:${id}`,
  }),
  // Auto-named like the provider's autonaming: the logical name and a suffix.
  "digitalocean:index/certificate:Certificate": (n, i) => ({
    name: String(i.name ?? `${n}-1a2b3c4`),
    state: "verified",
    uuid: `mock-${n}`,
  }),
  "digitalocean:index/reservedIp:ReservedIp": () => ({ ipAddress: "203.0.113.20", reservedIpUrn: "do:reservedip:203.0.113.20" }),
  "digitalocean:index/volume:Volume": (_n, _i, id) => ({ volumeUrn: `do:volume:${id}` }),
  "digitalocean:index/domain:Domain": (_n, i) => ({ domainUrn: `do:domain:${String(i.name)}` }),
  "digitalocean:index/vpc:Vpc": (_n, _i, id) => ({ ipRange: "10.110.0.0/20", vpcUrn: `do:vpc:${id}` }),
  "digitalocean:index/databaseCluster:DatabaseCluster": (n, i, id) => ({
    ...(i.engine === "valkey" ? valkeyConnection(n) : postgresConnection(n)),
    clusterUrn: `do:dbaas:${id}`,
    version: i.version,
    // DigitalOcean's Prometheus endpoint per node (the provider's metrics_endpoints).
    metricsEndpoints: [`https://${n}.db.example.com:9273/metrics`],
  }),
  // A read-only replica: a host of its own, the primary's port and admin user.
  "digitalocean:index/databaseReplica:DatabaseReplica": (n, _i, id) => ({
    uuid: `mock-replica-uuid-${id}`,
    ...postgresConnection(n),
  }),
  "digitalocean:index/databaseUser:DatabaseUser": (n) => ({ password: `mock-${n}-password`.padEnd(32, "x"), role: "normal" }),
  "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": (n, i) => ({
    host: `pool-${n}.db.example.com`,
    privateHost: `private-pool-${n}.db.example.com`,
    port: 25061,
    user: i.user ?? "doadmin",
    password: "mock-pool-password",
    uri: `postgresql://app:mock@pool-${n}.db.example.com:25061/${String(i.name)}?sslmode=require`,
    privateUri: `postgresql://app:mock@private-pool-${n}.db.example.com:25061/${String(i.name)}?sslmode=require`,
  }),
  "digitalocean:index/spacesBucket:SpacesBucket": (n, i) => ({
    bucketDomainName: `${String(i.name ?? n)}.${String(i.region)}.digitaloceanspaces.com`,
    bucketUrn: `do:space:${String(i.name ?? n)}`,
    endpoint: `${String(i.region)}.digitaloceanspaces.com`,
  }),
  "digitalocean:index/spacesKey:SpacesKey": (n) => ({ accessKey: `MOCKACCESSKEY${n.length}`, secretKey: `mock-spaces-secret-${n}` }),
  "tls:index/privateKey:PrivateKey": () => ({
    publicKeyOpenssh: MOCK_HOST_KEY_PUBLIC,
    privateKeyOpenssh: MOCK_HOST_KEY_PRIVATE,
    privateKeyPem: MOCK_HOST_KEY_PRIVATE,
    publicKeyPem: "mock",
    publicKeyFingerprintSha256: "SHA256:mock",
  }),
  "tls:index/selfSignedCert:SelfSignedCert": () => ({ certPem: "-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----\n" }),
  "random:index/randomPassword:RandomPassword": (n, i) => ({
    result: `mock-${n}-password`.slice(0, Number(i.length ?? 32)).padEnd(Number(i.length ?? 32), "x"),
    bcryptHash: "mock",
  }),
  "random:index/randomId:RandomId": (n) => ({ hex: `mock${n.length.toString(16)}abcd`, b64Url: "mock", dec: "1" }),
  "random:index/randomString:RandomString": (n, i) => ({
    result: `mock${n}`
      .replace(/[^a-z0-9]/gi, "")
      .toLowerCase()
      .slice(0, Number(i.length ?? 8))
      .padEnd(Number(i.length ?? 8), "x"),
  }),
  "auth0:index/client:Client": (n) => ({ clientId: `mock-client-id-${n}` }),
  "auth0:index/clientCredentials:ClientCredentials": (n) => ({ clientSecret: `mock-client-secret-${n}` }),
  "command:remote:Command": () => ({ stdout: "", stderr: "" }),
  // The provider auto-names a container without a name (`<logical name>-<random>`).
  "docker:index/container:Container": (n, i) => ({ name: i.name ?? `${n}-0a1b2c3` }),
  "docker:index/remoteImage:RemoteImage": (_n, i) => ({
    repoDigest: String(i.name).includes("@sha256:") ? String(i.name) : `${String(i.name)}@sha256:${"0".repeat(64)}`,
    imageId: `sha256:${createHash("sha256").update(String(i.name)).digest("hex")}`,
  }),
};

/** What provider functions answer, by token; the rest echo their inputs. */
const MOCK_CALLS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "digitalocean:index/getDatabaseMetricsCredentials:getDatabaseMetricsCredentials": () => ({
    id: "metrics-credentials",
    username: "mock-metrics-user",
    password: "mock-metrics-password",
  }),
  "digitalocean:index/getDatabaseCa:getDatabaseCa": (inputs) => ({
    id: String(inputs.clusterId),
    clusterId: inputs.clusterId,
    certificate: "-----BEGIN CERTIFICATE-----\nmock database CA\n-----END CERTIFICATE-----\n",
  }),
};

export const mocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: State } {
    const id = args.type.startsWith("digitalocean:") ? numericId() : `${args.name}-id`;
    const outputs = MOCK_OUTPUTS[args.type]?.(args.name, args.inputs, id) ?? {};
    return { id, state: { ...args.inputs, ...outputs } };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    return MOCK_CALLS[args.token]?.(args.inputs) ?? args.inputs;
  },
};

/**
 * Outputs of other stacks read by StackReference, keyed by stack name. Offline there
 * is no backend to read them from, so the check tool supplies them (see --staging-outputs).
 */
const stackReferenceOutputs = new Map<string, Record<string, unknown>>();

export function setStackReferenceOutputs(stack: string, outputs: Record<string, unknown>): void {
  stackReferenceOutputs.set(stack, outputs);
}

MOCK_OUTPUTS["pulumi:pulumi:StackReference"] = (name, inputs) => ({
  outputs: stackReferenceOutputs.get(String(inputs.name ?? name)) ?? {},
  secretOutputNames: [],
});
