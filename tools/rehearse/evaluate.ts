// Evaluates the program under Pulumi mocks as `npm run check` does, in its own process
// (Pulumi's runtime runs one program per process), and writes the registrations as JSON.
// The one difference: the tls provider is played for real. Its PrivateKey gets an actual
// ed25519 key pair (made once by ssh-keygen and kept, as Pulumi state keeps it), so the
// host key in the user-data and in every connection is a key sshd can serve.
//
// usage: node --require ./tools/fast-start.cjs tools/rehearse/evaluate.ts <request.json> <result.json>
import { readFileSync, writeFileSync } from "node:fs";
import { runProgram } from "../check/harness";
import { MOCK_OUTPUTS } from "../check/mocks";

export interface EvaluationRequest {
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
  /** OpenSSH private and public key files standing in for tls.PrivateKey's outputs. */
  hostKey: { privateFile: string; publicFile: string };
  env?: Record<string, string>;
}

async function main(): Promise<void> {
  const [requestFile, resultFile] = process.argv.slice(2);
  const request = JSON.parse(readFileSync(requestFile, "utf8")) as EvaluationRequest;
  for (const [k, v] of Object.entries(request.env ?? {})) process.env[k] = v;
  const privateKey = readFileSync(request.hostKey.privateFile, "utf8");
  const publicKey = readFileSync(request.hostKey.publicFile, "utf8").trim();
  MOCK_OUTPUTS["tls:index/privateKey:PrivateKey"] = () => ({
    publicKeyOpenssh: publicKey + "\n",
    privateKeyOpenssh: privateKey,
    publicKeyFingerprintSha256: "",
  });
  const run = await runProgram({ stack: request.stack, config: request.config, secretKeys: request.secretKeys, preview: false });
  writeFileSync(resultFile, JSON.stringify(run));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(3);
});
