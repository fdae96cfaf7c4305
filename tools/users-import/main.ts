// npm run users:import -- <stack> <users.json> --connection-id <con_…> … ; usage and exit codes in cli.ts.
import { runUsersImport } from "./cli";

runUsersImport(process.argv.slice(2), {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then((code) => {
  process.exitCode = code;
});
