// A new stack's files, derived from an existing stack's: the stack file with the old
// stack's name replaced by the new one in every value (hostnames, the Auth0 tenant,
// ENVIRONMENT), keys and comments kept; and the policy config as it is.
import { isScalar, parseDocument, visit } from "yaml";

/** Names a stack can have: what `pulumi stack init` accepts, and safe in a file name. */
export const STACK_NAME = /^[\w.-]+$/;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The header every derived stack file starts with: where it came from and what to review. */
export function derivedHeader(from: string, to: string): string {
  return [
    `# ${to}: created from Pulumi.${from}.yaml by \`npm run new-stack -- ${to}\`, with "${from}" replaced`,
    `# by "${to}" in every value. Review before the first \`pulumi up --stack ${to}\`: domain, hosts,`,
    `# the Auth0 tenant (auth0:domain), app.image, sshPublicKeys and adminCidrs.`,
  ].join("\n");
}

/** Pulumi.<to>.yaml from the text of Pulumi.<from>.yaml. */
export function deriveStackFile(source: string, from: string, to: string): string {
  const lines = source.split("\n");
  const headerLength = lines.findIndex((line) => !line.startsWith("#"));
  // The source's first line says what that stack is for; the rest of its header (how to set secrets) applies to any stack.
  const header = [derivedHeader(from, to), ...lines.slice(headerLength > 0 ? 1 : 0, Math.max(headerLength, 0))];
  const document = parseDocument(lines.slice(Math.max(headerLength, 0)).join("\n"));
  const word = new RegExp(`(?<![\\w])${escape(from)}(?![\\w])`, "g");
  visit(document, {
    Pair(_, pair) {
      if (isScalar(pair.value) && typeof pair.value.value === "string") pair.value.value = pair.value.value.replace(word, to);
    },
    Seq(_, seq) {
      for (const item of seq.items) if (isScalar(item) && typeof item.value === "string") item.value = item.value.replace(word, to);
    },
  });
  return `${header.join("\n")}\n${document.toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}
