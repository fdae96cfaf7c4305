// Quoting for every renderer that writes shell (hooks, proxy, host, app commands), and the
// rendering of scripts that live as files beside their component.
import { readFileSync } from "node:fs";

/** `'value'` for POSIX sh, whatever the value holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptFileOptions {
  /**
   * The rendered script's first line, e.g. `#!/bin/sh`; the file's own shebang is dropped.
   * None for a command that a shell runs as text (a remote.Command's `create`).
   */
  shebang?: string;
  /** Comment lines saying what this rendering does (without `# `). */
  header: string[];
  /** The file, as the repository names it, for the "rendered from" line. */
  source: string;
  /** Assigned in this order above the body, each value shell-quoted. */
  parameters: [string, string | number][];
}

/**
 * A script kept as a file of its own (so shellcheck reads it and it runs on its own, taking
 * its parameters from the environment) with its parameters pinned by assignments above the
 * body: what lands on the server is the file's text and those lines, nothing else.
 */
export function renderScriptFile(path: string, options: ScriptFileOptions): string {
  const body = readFileSync(path, "utf8");
  const withoutShebang = body.startsWith("#!") ? body.slice(body.indexOf("\n") + 1) : body;
  return [
    ...(options.shebang ? [options.shebang] : []),
    ...options.header.map((line) => `# ${line}`),
    `# Rendered by dropstack from ${options.source}; parameters pinned below.`,
    ...options.parameters.map(([name, value]) => `${name}=${shellQuote(String(value))}`),
    withoutShebang,
  ].join("\n");
}
