// nginx's block syntax, shared by every module that lays out part of nginx.conf.

/** `name { … }` with the body indented; blank body lines stay blank. */
export function block(name: string, body: string[]): string {
  const inner = body.flatMap((entry) => entry.split("\n")).map((line) => (line === "" ? "" : `    ${line}`));
  return [`${name} {`, ...inner, "}"].join("\n");
}
