// npm run ci-access -- open|close|verify-database … ; usage and exit codes in cli.ts.
import { runCiAccess } from "./cli";

runCiAccess(process.argv.slice(2), {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then((code) => {
  process.exitCode = code;
});
