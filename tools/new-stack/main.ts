// `npm run new-stack -- <stack> [--from <stack>]`
// A stack beyond staging and production needs two files: Pulumi.<stack>.yaml (its config)
// and policies/<stack>.json (the policy pack's enforcement levels for it). This creates
// whichever is missing from the --from stack's (staging by default) and never overwrites.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { isProductionStack } from "../../components/config/schema";
import { UsageError, commandLine } from "../cli";
import { STACK_NAME, deriveStackFile } from "./derive";

const ROOT = path.resolve(__dirname, "..", "..");

const COMMAND = {
  usage: "npm run new-stack -- <stack> [--from <stack>]",
  help: `
Creates the two files a new stack needs, from an existing stack's (default: staging):
  Pulumi.<stack>.yaml      its config, with the source stack's name replaced by <stack> in
                           every value (hostnames, the Auth0 tenant, ENVIRONMENT)
  policies/<stack>.json    the policy pack's enforcement levels, copied as they are
A file that exists is kept, never overwritten; when both exist, nothing is written (exit 2).
Then review Pulumi.<stack>.yaml and run: npm run check -- <stack>

  --from <stack>   the stack to copy (default staging)`,
  options: { from: { type: "string" } },
  positionals: { min: 1, max: 1, name: "stack name" },
} as const;

const files = (stack: string) => ({
  stackFile: path.join(ROOT, `Pulumi.${stack}.yaml`),
  policyConfig: path.join(ROOT, "policies", `${stack}.json`),
});
const shown = (file: string) => path.relative(ROOT, file);

const { stack, from } = commandLine(process.argv.slice(2), COMMAND, ({ positionals, values }) => {
  const [name] = positionals;
  const source = values.from ?? "staging";
  for (const value of [name, source])
    if (!STACK_NAME.test(value)) throw new UsageError(`"${value}" is not a stack name (letters, digits, _ . -)`);
  for (const file of Object.values(files(source)))
    if (!existsSync(file)) throw new UsageError(`--from ${source}: ${shown(file)} does not exist`);
  const target = files(name);
  if (existsSync(target.stackFile) && existsSync(target.policyConfig)) {
    throw new UsageError(`${shown(target.stackFile)} and ${shown(target.policyConfig)} both exist; refusing to overwrite them`);
  }
  if (name === source) throw new UsageError(`--from names the stack being created: ${name}`);
  return { stack: name, from: source };
});

const source = files(from);
const target = files(stack);
const plan = [
  { file: target.stackFile, content: () => deriveStackFile(readFileSync(source.stackFile, "utf8"), from, stack) },
  { file: target.policyConfig, content: () => readFileSync(source.policyConfig, "utf8") },
];
for (const { file, content } of plan) {
  if (existsSync(file)) {
    console.log(`kept ${shown(file)} (exists; not overwritten)`);
    continue;
  }
  // "wx": fails rather than overwrite a file created since the check above.
  writeFileSync(file, content(), { flag: "wx" });
  console.log(`created ${shown(file)} from ${shown(file === target.stackFile ? source.stackFile : source.policyConfig)}`);
}
if (isProductionStack(stack) && !isProductionStack(from)) {
  console.log(
    `note: "${stack}" gets production's rules (no defaults for adminCidrs, backups, tls.email; promotion.stagingStack required); --from production starts closer to them`,
  );
}
console.log(`next: review ${shown(target.stackFile)}, then npm run check -- ${stack}`);
