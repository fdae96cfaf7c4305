// `npm run check -- <stack> --emit <dir>` writes a README.md beside the server files, naming
// what reads each and the one command that validates it here. The commands are taken out of
// that README and run as a newcomer would paste them (sh, from the repository), so the README
// cannot name a command that does not validate what it says: each passes on the emitted
// file and fails once the file is broken the way its program would refuse.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFileSync, copyFileSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { NGINX_IMAGE } from "../../components/proxy/commands";
import { nginxVersionFromImage } from "../../components/proxy/render";
import { UNITS } from "../../components/hooks/schedule";
import { DASHBOARD_KEYS } from "../../components/observability/grafana";
import { ALERT_RULES_FILE } from "../../components/observability/rules";
import { type CheckReport, emittedCommittedStack, runCheck } from "../support/check";
import { ROOT } from "../support/program";
import { scriptArgv } from "../support/scripts";
import { shellQuote } from "../../components/common/shell";
import { makeTempDir } from "../../tools/lib/system";

/** A line each file's program refuses: a wrong type for a cloud-config module, an unknown directive, an unknown option, an unknown unit setting. */
const BREAKS: Record<string, string> = {
  "cloud-init.yaml": "\nntp: 5\n",
  "nginx.conf": "\nnot_a_directive on;\n",
  "redis.conf": "\nnot-an-option yes\n",
  ...Object.fromEntries(Object.values(UNITS).map((unit) => [unit, "\nNotADirective=yes\n"])),
  // The monitoring's configs (production only): a key none of them knows.
  "prometheus.yml": "\nnot_a_setting: 1\n",
  [ALERT_RULES_FILE]: "\nnot_a_setting: 1\n",
  "alertmanager.yml": "\nnot_a_setting: 1\n",
  "blackbox.yml": "\nnot_a_setting: 1\n",
};
/** Files no program on the build machines reads (their sections say what checks them instead). */
const NOT_VALIDATED_HERE = [
  "loki.yaml",
  "config.alloy",
  "grafana-datasources.yaml",
  "grafana-dashboards.yaml",
  ...DASHBOARD_KEYS.map((k) => `grafana-dashboard-${k}.json`),
];
/** What dropstack:observability adds, on in production only. */
const MONITORING_FILES = ["prometheus.yml", ALERT_RULES_FILE, "alertmanager.yml", "blackbox.yml", ...NOT_VALIDATED_HERE];

interface Section {
  file: string;
  text: string;
  commands: string[];
}

/** The README's `## <file>` sections, each with the commands of its ```sh blocks. */
function sections(readme: string): Section[] {
  return readme
    .split(/^## /m)
    .slice(1)
    .map((part) => {
      const [file, ...rest] = part.split("\n");
      const text = rest.join("\n");
      const commands = [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) =>
        m[1].split("\n").filter((line) => line.trim() !== ""),
      );
      return { file: file.trim(), text, commands };
    });
}

/**
 * Runs a README command as pasted into sh, from the repository. `npm run <script> -- ` is
 * replaced by the script's own command line (test/support/scripts.ts), so each of the
 * several dozen runs skips npm's half second of start-up; test/cli/cli.test.ts runs the
 * scripts through npm itself.
 */
async function sh(command: string): Promise<{ status: number; output: string }> {
  const npmRun = /^npm run ([\w:-]+) -- /.exec(command);
  const pasted = npmRun
    ? `${[process.execPath, ...scriptArgv(npmRun[1], [])].map(shellQuote).join(" ")} ${command.slice(npmRun[0].length)}`
    : command;
  try {
    const { stdout, stderr } = await promisify(execFile)("sh", ["-c", pasted], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    return { status: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout: string; stderr: string };
    if (typeof e.code !== "number") throw error;
    return { status: e.code, output: e.stdout + e.stderr };
  }
}

for (const stack of ["staging", "production"]) {
  describe(`npm run check -- ${stack} --emit: the README beside the files`, () => {
    // Staging's files are broken below, so staging writes to a folder of its own; production
    // reads the folder the run's files share.
    const breaksFiles = stack === "staging";
    let dir: string;
    let readme: Section[];
    let emitted: string[];

    before(() => {
      let report: CheckReport;
      if (breaksFiles) {
        dir = makeTempDir(`emit-readme-${stack}`);
        report = runCheck(stack, { json: false, extraArgs: ["--emit", dir] });
      } else {
        ({ report, dir } = emittedCommittedStack(stack));
      }
      assert.equal(report.status, 0, report.stderr);
      emitted = readdirSync(dir)
        .filter((f) => f !== "README.md")
        .sort();
      readme = sections(readFileSync(join(dir, "README.md"), "utf8"));
    });
    after(() => {
      if (breaksFiles) rmSync(dir, { recursive: true, force: true });
    });

    test("has one section per file written, each with what reads it and exactly one command naming that file, or why none runs here", () => {
      const expected = [...Object.keys(BREAKS), ...NOT_VALIDATED_HERE].filter(
        (f) => stack === "production" || !MONITORING_FILES.includes(f),
      );
      assert.deepEqual(emitted, expected.sort(), "this stack renders every server file");
      assert.deepEqual(readme.map((s) => s.file).sort(), emitted);
      for (const section of readme) {
        assert.match(section.text, /^For \S.*\.$/m, section.file);
        if (NOT_VALIDATED_HERE.includes(section.file)) {
          assert.deepEqual(section.commands, [], section.file);
          assert.match(section.text, /^Not validated here: no \w+ binary is packaged for the build machines.*\.$/m, section.file);
          continue;
        }
        assert.equal(section.commands.length, 1, `${section.file}: ${section.commands.join(" | ")}`);
        assert.ok(section.commands[0].includes(join(dir, section.file)), section.commands[0]);
      }
      const nginx = readme.find((s) => s.file === "nginx.conf");
      assert.ok(nginx?.text.includes(`For nginx ${nginxVersionFromImage(NGINX_IMAGE)} in the image \`${NGINX_IMAGE}\``), nginx?.text);
    });

    test("each command the README names validates its file with the real program (exit 0)", async () => {
      const validated = readme.filter((s) => s.commands.length > 0);
      const valid = await Promise.all(validated.map((s) => sh(s.commands[0])));
      validated.forEach((section, i) => {
        assert.equal(valid[i].status, 0, `${section.commands[0]}\n${valid[i].output}`);
        assert.match(valid[i].output, new RegExp(`^valid ${join(dir, section.file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `, "m"));
      });
    });

    // What refuses a broken file is the command, the same for both stacks' files: staging's
    // stand for both, which saves a second round of the slowest validators. The monitoring's
    // files are production's only: copies of them are broken, the shared folder left alone.
    test("each command refuses its file broken (exit 1)", async () => {
      const sectionsToBreak = readme.filter((s) => s.commands.length > 0 && (breaksFiles || MONITORING_FILES.includes(s.file)));
      assert.ok(sectionsToBreak.length > 0);
      const brokenDir = breaksFiles ? dir : makeTempDir(`emit-readme-broken-${stack}`);
      const commands = sectionsToBreak.map((section) => {
        if (!breaksFiles) copyFileSync(join(dir, section.file), join(brokenDir, section.file));
        appendFileSync(join(brokenDir, section.file), BREAKS[section.file]);
        return section.commands[0].replace(join(dir, section.file), join(brokenDir, section.file));
      });
      const broken = await Promise.all(commands.map((command) => sh(command)));
      if (!breaksFiles) rmSync(brokenDir, { recursive: true, force: true });
      sectionsToBreak.forEach((section, i) => {
        assert.equal(broken[i].status, 1, `${commands[i]}\n${broken[i].output}`);
        assert.match(broken[i].output, new RegExp(`^INVALID .*${section.file.replace(".", "\\.")}: `, "m"));
      });
    });
  });
}
