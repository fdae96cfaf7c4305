// npm run users:import -- <stack> <users.json> --connection-id <con_…> [options]
// (main.ts runs this as a process; the tests call runUsersImport with their own environment.)
// Validates the whole file before any request, splits it into jobs under Auth0's size limit,
// runs them one after another and writes a report. Exit: 0 every user imported or already
// there; 1 a user failed, a job failed or was left unfinished, or Auth0 refused the client;
// 2 bad arguments, environment, stack file or users file (nothing was sent).
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { UsageError, asksForHelp, helpText, integerOption, parseCommand } from "../cli";
import { StackFileError, readStackFile } from "../check/stack-file";
import { resolveTenantDomain } from "../../components/identity/settings";
import { planBatches } from "./batches";
import { ImportError, LOOPBACK_URL_VARIABLE, ManagementApi, apiBase } from "./management-api";
import { buildReport, exitCodeFor, formatSummary } from "./report";
import { runBatches } from "./run";
import { parseUsersFile } from "./users-file";

const CONNECTION_ID = /^con_[A-Za-z0-9]{16}$/;
const DEFAULT_JOB_TIMEOUT_S = 900;
const LISTED_PROBLEMS = 50;

const COMMAND = {
  usage:
    "npm run users:import -- <stack> <users.json> --connection-id <con_…> [--upsert] [--report <file>] [--job-timeout <seconds>] [--config-file <file>] [--dry-run]",
  help: `
Imports users into the stack's Auth0 database connection with Auth0's bulk import jobs
(README, "Importing users"). The file is Auth0's bulk import format: a JSON array of users
(email required; password_hash as bcrypt, or custom_password_hash). It is checked whole
before any request, then sent in jobs of at most 500000 bytes, one at a time; each job is
followed until it completes, and its per-user errors are read.

  --connection-id <con_…>  the database connection's ID (Auth0 dashboard: Authentication →
                           Database → the connection, "Identifier")
  --upsert                 update users that exist already; without it they are skipped
                           ("already exists"), which makes a re-run safe
  --report <file>          the JSON report (default: beside the input,
                           <name>.import-<stack>-<time>.json); a summary goes beside it (.txt)
  --job-timeout <seconds>  how long one job may run before the tool stops waiting
                           (default ${DEFAULT_JOB_TIMEOUT_S})
  --config-file <file>     the stack file (default Pulumi.<stack>.yaml): its auth0:domain
                           must be the tenant of the credentials
  --dry-run                check the file and show the jobs; send nothing

Environment: AUTH0_MANAGEMENT_CLIENT_ID and AUTH0_MANAGEMENT_CLIENT_SECRET, the stack's
user-management client (pulumi stack output --show-secrets auth0M2mClientId / auth0M2mClientSecret);
AUTH0_DOMAIN when the stack file has no auth0:domain.

Exit: 0 every user imported or already there; 1 a user failed, a job failed or did not
finish, or Auth0 refused the client; 2 bad arguments, environment or users file (nothing sent).`,
  options: {
    "connection-id": { type: "string" },
    upsert: { type: "boolean" },
    report: { type: "string" },
    "job-timeout": { type: "string" },
    "config-file": { type: "string" },
    "dry-run": { type: "boolean" },
  },
  positionals: { min: 2, max: 2, name: "arguments (the stack and the users file)" },
} as const;

export interface ImportIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

interface Arguments {
  stack: string;
  input: string;
  connectionId?: string;
  upsert: boolean;
  report?: string;
  jobTimeoutMs: number;
  configFile: string;
  dryRun: boolean;
}

function interpret(argv: string[]): Arguments {
  const {
    positionals: [stack, input],
    values,
  } = parseCommand(argv, COMMAND);
  const connectionId = values["connection-id"];
  const dryRun = values["dry-run"] === true;
  if (connectionId === undefined && !dryRun) throw new UsageError("--connection-id is required (the database connection's con_… ID)");
  if (connectionId !== undefined && !CONNECTION_ID.test(connectionId))
    throw new UsageError(`--connection-id must be a connection ID: con_ and 16 letters or digits, got ${JSON.stringify(connectionId)}`);
  return {
    stack,
    input,
    connectionId,
    upsert: values.upsert === true,
    report: values.report,
    jobTimeoutMs: integerOption(values["job-timeout"], "job-timeout", 10, DEFAULT_JOB_TIMEOUT_S) * 1000,
    configFile: values["config-file"] ?? `Pulumi.${stack}.yaml`,
    dryRun,
  };
}

/** The tenant: the stack file's auth0:domain, or AUTH0_DOMAIN; both set and different is refused. */
function tenantOf(args: Arguments, env: ImportIo["env"]): string {
  const file = readStackFile(args.configFile);
  if (!("dropstack:auth0" in file.config))
    throw new ImportError(`${args.configFile} has no dropstack:auth0: stack ${args.stack} manages no Auth0 tenant to import into`, 2);
  const configured = file.config["auth0:domain"];
  const fromEnv = env.AUTH0_DOMAIN?.trim();
  if (configured && fromEnv && configured.toLowerCase() !== fromEnv.toLowerCase())
    throw new ImportError(
      `AUTH0_DOMAIN is ${fromEnv} but stack ${args.stack}'s tenant is ${configured} (auth0:domain in ${args.configFile}): these credentials belong to another tenant; unset AUTH0_DOMAIN or use the right stack`,
      2,
    );
  const tenant = resolveTenantDomain(configured, fromEnv);
  if (!tenant.ok) throw new ImportError(tenant.problem, 2);
  return tenant.domain;
}

function credentialsFrom(env: ImportIo["env"], stack: string): { clientId: string; clientSecret: string } {
  const missing = ["AUTH0_MANAGEMENT_CLIENT_ID", "AUTH0_MANAGEMENT_CLIENT_SECRET"].filter((name) => !env[name]?.trim());
  if (missing.length > 0)
    throw new ImportError(
      `${missing.join(" and ")} not set: the stack's user-management client, from \`pulumi stack output --show-secrets auth0M2mClientId --stack ${stack}\` and \`… auth0M2mClientSecret\``,
      2,
    );
  return { clientId: env.AUTH0_MANAGEMENT_CLIENT_ID!.trim(), clientSecret: env.AUTH0_MANAGEMENT_CLIENT_SECRET!.trim() };
}

/** `20250102T030405Z`: sorts by time and is safe in a file name. */
const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

/** The JSON report and the summary beside it; neither may be the input. */
function reportPaths(args: Arguments, startedAt: number): { json: string; text: string } {
  const json =
    args.report ?? join(dirname(args.input), `${basename(args.input, extname(args.input))}.import-${args.stack}-${stamp(startedAt)}.json`);
  const text = extname(json) === ".json" ? `${json.slice(0, -".json".length)}.txt` : `${json}.txt`;
  for (const path of [json, text])
    if (resolve(path) === resolve(args.input))
      throw new ImportError(`report ${path} would overwrite the input ${args.input}; name another with --report`, 2);
  if (!existsSync(dirname(resolve(json)))) throw new ImportError(`--report ${json}: the folder ${dirname(json)} does not exist`, 2);
  return { json, text };
}

async function importUsers(args: Arguments, io: ImportIo): Promise<number> {
  const now = io.now ?? Date.now;
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const startedAt = now();

  // Everything local first: no request is made for a file, stack or environment that would fail.
  const tenant = tenantOf(args, io.env);
  let text: string;
  try {
    text = readFileSync(args.input, "utf8");
  } catch (error) {
    throw new ImportError(`cannot read the users file ${args.input}: ${(error as Error).message}`, 2);
  }
  const parsed = parseUsersFile(text, args.input);
  const plan = parsed.ok ? planBatches(parsed.users, args.input) : parsed;
  if (!plan.ok) {
    for (const problem of plan.problems.slice(0, LISTED_PROBLEMS)) io.err(`users:import: ${problem}`);
    if (plan.problems.length > LISTED_PROBLEMS) io.err(`users:import: … and ${plan.problems.length - LISTED_PROBLEMS} more problems`);
    throw new ImportError(`${args.input}: ${plan.problems.length} problem(s); nothing was sent`, 2);
  }
  const users = parsed.ok ? parsed.users : [];
  const { batches } = plan;
  io.out(`users:import: ${args.input}: ${users.length} users in ${batches.length} job(s) for ${tenant} (stack ${args.stack})`);
  if (args.dryRun) {
    for (const b of batches)
      io.out(
        `  job ${b.number}: ${args.input}[${b.indexes[0]}..${b.indexes[b.indexes.length - 1]}], ${b.indexes.length} users, ${b.bytes} bytes`,
      );
    io.out("users:import: dry run, nothing sent");
    return 0;
  }
  const credentials = credentialsFrom(io.env, args.stack);
  const api = new ManagementApi(apiBase(tenant, io.env[LOOPBACK_URL_VARIABLE]), { domain: tenant, ...credentials }, { sleep, now });
  const paths = reportPaths(args, startedAt);

  // A refused client stops the run before any job exists.
  await api.accessToken();
  const results = await runBatches(api, batches, users, {
    connectionId: args.connectionId!,
    upsert: args.upsert,
    externalIdPrefix: `users-import-${args.stack}-${stamp(startedAt)}`,
    jobTimeoutMs: args.jobTimeoutMs,
    sleep,
    now,
    progress: (line) => io.out(`users:import: ${line}`),
    input: args.input,
  });
  const report = buildReport(
    {
      stack: args.stack,
      tenant,
      connectionId: args.connectionId!,
      input: args.input,
      upsert: args.upsert,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(now()).toISOString(),
    },
    users.length,
    results,
  );
  // On screen first: should the files fail to write, the outcome is still known.
  const summary = formatSummary(report);
  io.out("");
  io.out(summary.trimEnd());
  // Emails are personal data: the report is readable by its owner only (an existing file too).
  for (const [path, content] of [
    [paths.json, `${JSON.stringify(report, null, 2)}\n`],
    [paths.text, summary],
  ]) {
    writeFileSync(path, content, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  io.out(`\nreport: ${paths.json} (summary: ${paths.text})`);
  return exitCodeFor(report);
}

/** Runs the command; resolves to the exit code, having written errors through `err`. */
export async function runUsersImport(argv: string[], io: ImportIo): Promise<number> {
  if (asksForHelp(argv)) {
    io.out(helpText(COMMAND).trimEnd());
    return 0;
  }
  let args: Arguments;
  try {
    args = interpret(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}\nusage: ${COMMAND.usage}\n(--help for more)`);
    return 2;
  }
  try {
    return await importUsers(args, io);
  } catch (error) {
    if (error instanceof ImportError || error instanceof StackFileError) {
      io.err(`users:import: ${error.message}`);
      return error instanceof StackFileError ? 2 : error.exitCode;
    }
    throw error;
  }
}
