// npm run ci-access -- open|close|verify-database … (main.ts runs this as a process).
// Admits one CI runner to the stack's droplet (SSH) and database for one job, and takes
// it out again; see tools/ci-access/README.md for why it works this way.
//
//   open   --outputs <stack-outputs.json> --state <file> --run-id <id> [--address <ipv4>] [--address-lookup <url>]…
//   close  --state <file>
//   verify-database --outputs <stack-outputs.json>
//
// Exit codes: 0 done; 1 an API call failed or, for verify-database, the live trusted
// sources differ from what the stack applied; 2 bad arguments or missing stack outputs.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { UsageError, asksForHelp, helpText, parseCommand } from "../cli";
import {
  CiAccessError,
  agreeOnAddress,
  closeDatabaseRules,
  firewallName,
  firewallRequest,
  isStaleFirewall,
  openDatabaseRules,
  targetsFromOutputs,
  trustedSourceDrift,
  validateRunnerAddress,
} from "./access";
import { DEFAULT_API_URL, DigitalOceanApi, apiBase } from "./do-api";

/** Two independent services: both must report the same address (agreeOnAddress). */
const DEFAULT_LOOKUPS = ["https://api.ipify.org", "https://checkip.amazonaws.com"];
const FIREWALL_WAIT_MS = 120_000;
const FIREWALL_POLL_MS = 1_000;
const VERIFY_ATTEMPTS = 3;

/** What open did, written before each action so close can undo a half-finished open. */
interface AccessState {
  runId: string;
  address: string;
  dropletTag: string;
  databaseClusterId: string;
  firewallName: string;
  firewallId?: string;
  databaseSourceAdded?: boolean;
}

const COMMAND = {
  usage:
    "npm run ci-access -- open --outputs <file> --state <file> --run-id <id> [--address <ipv4>] [--address-lookup <url>]… | close --state <file> | verify-database --outputs <file>",
  help: `
Admits one CI runner to the stack's droplet (SSH) and database for one job, and takes it
out again (tools/ci-access/README.md). Needs DIGITALOCEAN_TOKEN.

  open              a firewall for the runner's address on the droplets' tag, and the
                    address as a trusted source of the database; the state file records
                    each step so close can undo a half-finished open
    --outputs <file>        \`pulumi stack output --json\` of the stack
    --state <file>          where to record what open did
    --run-id <id>           names the firewall (unique per job)
    --address <ipv4>        the runner's address (default: asked of two lookup services,
                            which must agree)
    --address-lookup <url>  a lookup service instead of the defaults (repeatable)
  close --state <file>      removes what open added (nothing when the state file is absent)
  verify-database --outputs <file>
                    the database's trusted sources are exactly those the stack applied

Exit: 0 done; 1 an API call failed or verify-database found a difference; 2 bad arguments
or missing stack outputs.`,
  options: {
    outputs: { type: "string" },
    state: { type: "string" },
    "run-id": { type: "string" },
    address: { type: "string" },
    "address-lookup": { type: "string", multiple: true },
  },
  positionals: { min: 1, max: 1, name: "command (open, close or verify-database)" },
} as const;

function usage(message: string): never {
  throw new CiAccessError(`${message}\nusage: ${COMMAND.usage}`, 2);
}

/** Where the tool reads its environment and writes its report; a process or a test. */
export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
}

function api(io: CliIo): DigitalOceanApi {
  const token = io.env.DIGITALOCEAN_TOKEN;
  if (!token) throw new CiAccessError("DIGITALOCEAN_TOKEN is not set", 2);
  return new DigitalOceanApi(apiBase(io.env.DIGITALOCEAN_API_URL ?? DEFAULT_API_URL), token);
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CiAccessError(`cannot read ${what} ${file}: ${(error as Error).message}`, 2);
  }
}

async function lookUpAddress(urls: string[]): Promise<string> {
  const answers = await Promise.all(
    urls.map(async (url) => {
      const response = await fetch(url);
      if (!response.ok) throw new CiAccessError(`address lookup ${url}: ${response.status}`);
      return (await response.text()).trim();
    }),
  );
  return agreeOnAddress(answers);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function open(values: Record<string, string | string[] | undefined>, io: CliIo): Promise<void> {
  const outputsFile = values.outputs as string | undefined;
  const stateFile = values.state as string | undefined;
  const runId = values["run-id"] as string | undefined;
  if (!outputsFile || !stateFile || !runId) usage("open needs --outputs, --state and --run-id");
  const targets = targetsFromOutputs(readJson(outputsFile, "stack outputs"));
  const client = api(io);
  const lookups = (values["address-lookup"] as string[] | undefined) ?? DEFAULT_LOOKUPS;
  const address = values.address ? validateRunnerAddress(values.address as string) : await lookUpAddress(lookups);

  const state: AccessState = {
    runId,
    address,
    dropletTag: targets.dropletTag,
    databaseClusterId: targets.databaseClusterId,
    firewallName: firewallName(runId),
  };
  const save = () => writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  save();

  const now = Date.now();
  for (const firewall of await client.listFirewalls()) {
    if (isStaleFirewall(firewall, targets.dropletTag, now)) {
      await client.deleteFirewall(firewall.id);
      io.out(`ci-access: deleted stale firewall ${firewall.name} (${firewall.id}) left by a job that never closed`);
    }
  }

  const created = await client.createFirewall(firewallRequest(runId, targets.dropletTag, address));
  state.firewallId = created.id;
  save();
  // DigitalOcean applies firewall changes asynchronously: SSH works once the status is "succeeded".
  for (let waited = 0, status = created.status; status !== "succeeded"; waited += FIREWALL_POLL_MS) {
    if (status === "failed") throw new CiAccessError(`firewall ${created.id} failed to apply`);
    if (waited >= FIREWALL_WAIT_MS)
      throw new CiAccessError(`firewall ${created.id} not applied after ${FIREWALL_WAIT_MS / 1000}s (status ${status})`);
    await sleep(FIREWALL_POLL_MS);
    status = (await client.getFirewall(created.id))?.status;
  }
  io.out(`ci-access: SSH open to ${address}/32 on droplets tagged ${targets.dropletTag} (firewall ${state.firewallName})`);

  // PUT replaces every rule: re-read and check, since another job's read-modify-write can race ours.
  for (let attempt = 1; ; attempt++) {
    const current = await client.databaseRules(targets.databaseClusterId);
    const { rules, added } = openDatabaseRules(current, address, runId, Date.now());
    if (!added) {
      // Trusted already (an admin address, or our own earlier attempt); still sweep stale CI sources.
      if (rules.length !== current.length) await client.putDatabaseRules(targets.databaseClusterId, rules);
      break;
    }
    state.databaseSourceAdded = true;
    save();
    await client.putDatabaseRules(targets.databaseClusterId, rules);
    const after = await client.databaseRules(targets.databaseClusterId);
    if (after.some((r) => r.type === "ip_addr" && (r.value === address || r.value === `${address}/32`))) break;
    if (attempt >= VERIFY_ATTEMPTS)
      throw new CiAccessError(`database ${targets.databaseClusterId}: ${address} still not a trusted source after ${attempt} attempts`);
  }
  io.out(
    state.databaseSourceAdded
      ? `ci-access: database ${targets.databaseClusterId} trusts ${address} for this job`
      : `ci-access: database ${targets.databaseClusterId} already trusted ${address}; closing will leave it`,
  );
}

async function close(values: Record<string, string | string[] | undefined>, io: CliIo): Promise<void> {
  const stateFile = values.state as string | undefined;
  if (!stateFile) usage("close needs --state");
  if (!existsSync(stateFile)) {
    io.out(`ci-access: no ${stateFile}: open never started, nothing to close`);
    return;
  }
  const state = readJson(stateFile, "state") as AccessState;
  const client = api(io);
  const failures: string[] = [];
  const attempt = async (what: string, action: () => Promise<void>) => {
    try {
      await action();
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  };

  await attempt("firewall", async () => {
    // By id, and by name for an open whose POST response was lost before the id was saved.
    const ids = new Set<string>(state.firewallId ? [state.firewallId] : []);
    for (const firewall of await client.listFirewalls()) {
      if (firewall.name === state.firewallName && (firewall.tags ?? []).includes(state.dropletTag)) ids.add(firewall.id);
    }
    for (const id of ids) {
      const existed = await client.deleteFirewall(id);
      io.out(`ci-access: firewall ${state.firewallName} (${id}) ${existed ? "deleted" : "was already gone"}`);
    }
  });

  if (state.databaseSourceAdded) {
    await attempt("database", async () => {
      // Re-read after each PUT: done only when a fresh read no longer lists the address.
      for (let tries = 1; ; tries++) {
        const rules = closeDatabaseRules(await client.databaseRules(state.databaseClusterId), state.address);
        if (rules === undefined) break;
        if (tries > VERIFY_ATTEMPTS) throw new Error(`${state.address} still trusted after ${VERIFY_ATTEMPTS} attempts`);
        await client.putDatabaseRules(state.databaseClusterId, rules);
      }
      io.out(`ci-access: database ${state.databaseClusterId} no longer trusts ${state.address}`);
    });
  }

  if (failures.length > 0) throw new CiAccessError(`closing left access open, remove it by hand: ${failures.join("; ")}`);
}

async function verifyDatabase(values: Record<string, string | string[] | undefined>, io: CliIo): Promise<void> {
  const outputsFile = values.outputs as string | undefined;
  if (!outputsFile) usage("verify-database needs --outputs");
  const targets = targetsFromOutputs(readJson(outputsFile, "stack outputs"));
  const drift = trustedSourceDrift(targets.databaseTrustedSources, await api(io).databaseRules(targets.databaseClusterId));
  if (drift.missing.length === 0 && drift.unexpected.length === 0) {
    io.out(`ci-access: database ${targets.databaseClusterId} trusts exactly the sources the stack applied`);
    return;
  }
  for (const source of drift.unexpected) io.out(`DRIFT unexpected trusted source ${source}`);
  for (const source of drift.missing) io.out(`DRIFT missing trusted source ${source}`);
  throw new CiAccessError(`database ${targets.databaseClusterId}: trusted sources differ from the stack`);
}

async function dispatch(argv: string[], io: CliIo): Promise<void> {
  let command: string;
  let values: Record<string, string | string[] | undefined>;
  try {
    ({
      values,
      positionals: [command],
    } = parseCommand(argv, COMMAND));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    usage(error.message);
  }
  if (command === "open") return open(values, io);
  if (command === "close") return close(values, io);
  if (command === "verify-database") return verifyDatabase(values, io);
  usage(`unknown command "${command}"`);
}

/** Runs one command; resolves to the exit code, having written errors through `err`. */
export async function runCiAccess(argv: string[], io: CliIo & { err: (line: string) => void }): Promise<number> {
  if (asksForHelp(argv)) {
    io.out(helpText(COMMAND).trimEnd());
    return 0;
  }
  try {
    await dispatch(argv, io);
    return 0;
  } catch (error) {
    io.err(`ci-access: ${(error as Error).message}`);
    return error instanceof CiAccessError ? error.exitCode : 1;
  }
}
