// The strict TypeScript check and ESLint, in-process, for `npm run lint` and the suite's
// "code quality" test. One TypeScript program serves both: the check builds it (what
// `tsc --noEmit -p tsconfig.json` does), and ESLint's type-aware rules read their types from
// it instead of building the same program again through typescript-eslint's project service.
// ESLint's rules and files are eslint.config.mjs's; only where the types come from changes.
import { join } from "node:path";
import ts from "typescript";
import { ESLint } from "eslint";

const ROOT = join(__dirname, "..", "..");

/** The files eslint.config.mjs lints with type information (its projectService block). */
const TYPED_FILES = ["index.ts", "components/**/*.ts"];

export interface TypeCheck {
  program: ts.Program;
  /** tsc's diagnostics for the project, as tsc prints them; empty when there are none. */
  report: string;
  errors: number;
}

/** `tsc --noEmit -p tsconfig.json`: the config's own errors, then the program's. */
export function typeCheck(pretty = false): TypeCheck {
  const configErrors: ts.Diagnostic[] = [];
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => configErrors.push(d),
  };
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), { noEmit: true }, host);
  if (!config) throw new Error(ts.formatDiagnostics(configErrors, formatHost));
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, configFileParsingDiagnostics: config.errors });
  const diagnostics = [...program.getConfigFileParsingDiagnostics(), ...ts.getPreEmitDiagnostics(program)];
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
  const report =
    diagnostics.length === 0
      ? ""
      : (pretty ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics)(diagnostics, formatHost) +
        `\nFound ${errors} error${errors === 1 ? "" : "s"}.\n`;
  return { program, report, errors };
}

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => ROOT,
  getNewLine: () => "\n",
};

/** ESLint with the repository's config, its type-aware rules reading `program`. */
export function repositoryESLint(program: ts.Program): ESLint {
  return new ESLint({
    cwd: ROOT,
    overrideConfig: [{ files: TYPED_FILES, languageOptions: { parserOptions: { projectService: false, programs: [program] } } }],
  });
}

export interface LintReport {
  /** ESLint's stylish report; empty when there is nothing to say. */
  report: string;
  errors: number;
  warnings: number;
}

/** `eslint .` (or `eslint --stdin --stdin-filename file` with `text`). */
export async function eslintRepository(eslint: ESLint, text?: { file: string; code: string }): Promise<LintReport> {
  const results = text ? await eslint.lintText(text.code, { filePath: join(ROOT, text.file) }) : await eslint.lintFiles(["."]);
  const formatter = await eslint.loadFormatter("stylish");
  return {
    report: await formatter.format(results),
    errors: results.reduce((n, r) => n + r.errorCount, 0),
    warnings: results.reduce((n, r) => n + r.warningCount, 0),
  };
}
