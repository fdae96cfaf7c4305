// The command line of every `npm run` tool: Node's own parseArgs, strict, with one
// contract for all of them: `--help` (or `-h`) prints the usage and exits 0, and an
// unknown flag, a missing value or the wrong number of arguments exits 2 with the usage,
// before the tool does any work (a benchmark that ignored a typo would run for minutes).
import { parseArgs, type ParseArgsConfig } from "node:util";

export const EXIT_USAGE = 2;

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface CommandSpec<O extends Options> {
  /** The synopsis: `npm run <script> -- <args>`. */
  usage: string;
  /** What the command does and what its options mean, printed under the synopsis by --help. */
  help: string;
  options: O;
  /** How many positional arguments it takes, and what they are (for the error message). */
  positionals?: { min: number; max: number; name: string };
}

export class UsageError extends Error {
  override name = "UsageError";
}

export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** The text `--help` prints. */
export function helpText(spec: CommandSpec<Options>): string {
  return `usage: ${spec.usage}\n\n${spec.help.trim()}\n`;
}

/** True when the arguments ask for help (before a `--` that ends the options). */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

/** Parses the arguments (without node and the script). Throws UsageError; does not handle --help. */
export function parseCommand<O extends Options>(argv: readonly string[], spec: CommandSpec<O>): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: [...argv], options: spec.options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs's own messages name the flag ("Unknown option '--bogus'"); its hint about
    // `--` does not apply to these tools, so it is cut.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, ""));
  }
  const { min, max, name } = spec.positionals ?? { min: 0, max: 0, name: "" };
  const count = parsed.positionals.length;
  if (count < min || count > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new UsageError(
      max === 0
        ? `unexpected argument: ${parsed.positionals.join(" ")}`
        : `expected ${expected} ${name}, got ${count}${count > 0 ? `: ${parsed.positionals.join(" ")}` : ""}`,
    );
  }
  return parsed;
}

/**
 * For entry points: answers --help (stdout, exit 0) and usage errors (stderr, exit 2)
 * itself, so a tool's main only ever sees valid arguments. `interpret` turns the parsed
 * arguments into the tool's own; a UsageError it throws exits 2 the same way.
 */
export function commandLine<O extends Options, T = Parsed<O>>(
  argv: readonly string[],
  spec: CommandSpec<O>,
  interpret?: (parsed: Parsed<O>) => T,
): T {
  if (asksForHelp(argv)) {
    process.stdout.write(helpText(spec));
    process.exit(0);
  }
  try {
    const parsed = parseCommand(argv, spec);
    return interpret ? interpret(parsed) : (parsed as T);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\nusage: ${spec.usage}\n(--help for more)\n`);
    process.exit(EXIT_USAGE);
  }
}

/** An integer option's value, at least `minimum`; `fallback` when the flag is absent. Throws UsageError. */
export function integerOption(value: string | undefined, flag: string, minimum: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < minimum) throw new UsageError(`--${flag} must be an integer >= ${minimum}, got ${value}`);
  return Number(value);
}
