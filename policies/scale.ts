// Scale-out policies (README "Growing past one droplet"): past one droplet the droplets sit
// behind a DigitalOcean load balancer that health-checks them, share one managed Valkey, and
// use a PostgreSQL cluster with a standby. A stack with one droplet meets none of them by
// design (nginx terminates TLS on the droplet, Redis runs beside it), so each policy here
// starts by counting droplets and says nothing below two.
import * as digitalocean from "@pulumi/digitalocean";
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { LOAD_BALANCER_HEALTH_PATH } from "../components/common/names";
import { WORLD, portRangeCovers } from "../components/network/rules";
import { findCacheContainers } from "./cache";
import { isPostgres, standbyProblem } from "./database";
import { NOT_YET_KNOWN, asList, asProps, knownOr, label } from "./util";

const WEB_PORT_NUMBERS = [80, 443];
/** The health check protocols that ask nginx a path; `tcp` only sees that something accepts connections. */
const PATH_PROTOCOLS = ["http", "https"];

/** The stack's droplets; the policies here apply when there are two or more. */
function dropletsOf(resources: PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => r.isType(digitalocean.Droplet));
}

/**
 * Why a load balancer cannot front the droplets safely, or [] when it can. Values not known
 * until the update (an id, a tag's name) are not judged: the stack policies run again once
 * they are.
 */
export function loadBalancerProblems(balancer: PolicyResource, droplets: PolicyResource[]): string[] {
  const props = asProps(balancer.props);
  const problems: string[] = [];

  const healthcheck = knownOr(() => props.healthcheck);
  if (healthcheck !== NOT_YET_KNOWN) {
    const check = asProps(healthcheck);
    const protocol = knownOr(() => check.protocol);
    const path = knownOr(() => check.path);
    if (healthcheck === undefined || protocol === undefined) {
      problems.push(
        `it has no health check: set healthcheck to protocol "http", port 80, path "${LOAD_BALANCER_HEALTH_PATH}", so a droplet whose app is down or that a deploy drains gets no traffic`,
      );
    } else if (protocol !== NOT_YET_KNOWN && !PATH_PROTOCOLS.includes(String(protocol).toLowerCase())) {
      problems.push(
        `its health check is ${String(protocol)}, which passes while nginx accepts connections even when the app is down or the droplet is drained: use protocol "http" with path "${LOAD_BALANCER_HEALTH_PATH}"`,
      );
    } else if (path !== NOT_YET_KNOWN && path !== LOAD_BALANCER_HEALTH_PATH) {
      problems.push(
        `its health check asks ${path === undefined || path === "" ? "no path" : `"${String(path)}"`}, not "${LOAD_BALANCER_HEALTH_PATH}", where nginx answers the api's health and 503 while the rolling deploy drains the droplet`,
      );
    }
  }

  const tag = knownOr(() => props.dropletTag);
  if (tag === undefined || tag === "") {
    problems.push(
      "it selects no droplets by tag (dropletTag): a droplet added or replaced would get no traffic until its id is listed; set dropletTag to the tag every app droplet carries",
    );
  } else if (tag !== NOT_YET_KNOWN) {
    const untagged = droplets.filter((droplet) => {
      const carries = knownOr(() => asList(asProps(droplet.props).tags).includes(tag));
      return carries === false;
    });
    if (untagged.length > 0)
      problems.push(
        `droplet${untagged.length === 1 ? "" : "s"} ${untagged.map(label).join(", ")} ${untagged.length === 1 ? "does" : "do"} not carry its dropletTag "${String(tag)}", so ${untagged.length === 1 ? "it gets" : "they get"} no traffic: give every app droplet that tag`,
      );
  }

  const redirect = knownOr(() => props.redirectHttpToHttps);
  if (redirect !== NOT_YET_KNOWN && redirect !== true)
    problems.push(
      "redirectHttpToHttps is off, so http:// requests reach the app unencrypted instead of being redirected: set redirectHttpToHttps: true",
    );
  return problems;
}

/**
 * The inbound rules of a droplet firewall that admit web traffic from anything but a load
 * balancer, described, or []. TLS ends at the load balancer and nginx trusts the
 * X-Forwarded-For it appends, so anything else that reaches port 80 or 443 bypasses TLS and
 * can claim any client address.
 */
export function firewallWebPortProblems(firewall: PolicyResource): string[] {
  const problems: string[] = [];
  for (const rule of asList(knownOr(() => asProps(firewall.props).inboundRules)).map(asProps)) {
    const protocol = knownOr(() => rule.protocol);
    const portRange = knownOr(() => rule.portRange);
    if (protocol !== "tcp" || portRange === NOT_YET_KNOWN || knownOr(() => rule.action) === "deny") continue;
    const range = typeof portRange === "string" ? portRange : undefined;
    if (!WEB_PORT_NUMBERS.some((port) => portRangeCovers(range, port))) continue;
    const others = otherSources(rule);
    if (others.length > 0) problems.push(`inbound tcp port ${range ?? "all"} admits ${others.join(", ")}`);
  }
  return problems;
}

/** A rule's sources other than load balancers, described; unknown ones (ids during a preview) are not judged. */
function otherSources(rule: Record<string, unknown>): string[] {
  const described: string[] = [];
  const addresses = knownOr(() => asList(rule.sourceAddresses).map(String));
  if (addresses !== NOT_YET_KNOWN && addresses.length > 0) {
    const world = addresses.filter((a) => WORLD.includes(a));
    described.push(world.length > 0 ? `the whole internet (${addresses.join(", ")})` : `addresses ${addresses.join(", ")}`);
  }
  for (const [key, what] of [
    ["sourceTags", "tags"],
    ["sourceDropletIds", "droplets"],
    ["sourceKubernetesIds", "Kubernetes clusters"],
  ] as const) {
    const sources = knownOr(() => asList(rule[key]));
    if (sources !== NOT_YET_KNOWN && sources.length > 0) described.push(`${what} (${key})`);
  }
  return described;
}

export const scaleLoadBalancerHealthCheck: StackValidationPolicy = {
  name: "scale-load-balancer-health-check",
  description: `With more than one droplet, a load balancer selects them by their tag, health-checks "${LOAD_BALANCER_HEALTH_PATH}" over HTTP and redirects HTTP to HTTPS, and the droplet firewall admits web traffic from that load balancer only.`,
  validateStack: (args, reportViolation) => {
    const droplets = dropletsOf(args.resources);
    if (droplets.length < 2) return;
    const balancers = args.resources.filter((r) => r.isType(digitalocean.LoadBalancer));
    if (balancers.length === 0) {
      reportViolation(
        `the stack has ${droplets.length} droplets and no load balancer in front of them: dropstack:scale.droplets > 1 needs a DigitalOcean load balancer that terminates TLS and health-checks each droplet`,
      );
      return;
    }
    const judged = balancers.map((balancer) => ({ balancer, problems: loadBalancerProblems(balancer, droplets) }));
    // One sound load balancer in front of the droplets is enough; otherwise each says what it lacks.
    if (!judged.some((j) => j.problems.length === 0))
      for (const { balancer, problems } of judged)
        reportViolation(
          `load balancer ${label(balancer)} cannot front the ${droplets.length} droplets: ${problems.join("; ")}`,
          balancer.urn,
        );
    for (const firewall of args.resources.filter((r) => r.isType(digitalocean.Firewall))) {
      const problems = firewallWebPortProblems(firewall);
      if (problems.length > 0)
        reportViolation(
          `firewall ${label(firewall)} lets web traffic reach the ${droplets.length} droplets around their load balancer: ${problems.join("; ")}. TLS ends at the load balancer and nginx trusts the client address it forwards, so allow port 80 from sourceLoadBalancerUids only and close 443`,
          firewall.urn,
        );
    }
  },
};

export const scaleManagedValkey: StackValidationPolicy = {
  name: "scale-managed-valkey",
  description:
    'With more than one droplet, the cache is one managed Valkey cluster (a DatabaseCluster with engine "valkey") and no droplet runs a Redis container, which would give each droplet a cache of its own.',
  validateStack: (args, reportViolation) => {
    const droplets = dropletsOf(args.resources);
    if (droplets.length < 2) return;
    const valkey = args.resources.filter(
      (r) => r.isType(digitalocean.DatabaseCluster) && knownOr(() => asProps(r.props).engine) === "valkey",
    );
    if (valkey.length === 0)
      reportViolation(
        `the stack has ${droplets.length} droplets and no managed Valkey (a DatabaseCluster with engine "valkey"): past one droplet the app's cache, sessions and rate limits must be shared by every droplet`,
      );
    for (const { resource } of findCacheContainers(args.resources))
      reportViolation(
        `Redis container ${label(resource)} would give each of the ${droplets.length} droplets its own cache, so sessions, rate limits and cached data differ by droplet: past one droplet the app uses managed Valkey instead`,
        resource.urn,
      );
  },
};

export const scalePostgresStandby: StackValidationPolicy = {
  name: "scale-postgres-standby",
  description:
    "With more than one droplet, the PostgreSQL cluster runs a standby node: every droplet waits on the one database, so its failure or maintenance would take all of them down.",
  validateStack: (args, reportViolation) => {
    const droplets = dropletsOf(args.resources);
    if (droplets.length < 2) return;
    for (const cluster of args.resources.filter((r) => r.isType(digitalocean.DatabaseCluster))) {
      const props = asProps(cluster.props);
      const engine = knownOr(() => props.engine);
      const nodeCount = knownOr(() => props.nodeCount);
      if (engine === NOT_YET_KNOWN || nodeCount === NOT_YET_KNOWN || !isPostgres({ engine })) continue;
      const problem = standbyProblem({ engine, nodeCount });
      if (problem)
        reportViolation(
          `PostgreSQL cluster ${label(cluster)} serves ${droplets.length} droplets without a standby: ${problem}`,
          cluster.urn,
        );
    }
  },
};

export const scalePolicies = [scaleLoadBalancerHealthCheck, scaleManagedValkey, scalePostgresStandby];
