// A stand-in for the docker CLI, for system tests of shell that drives docker on the
// droplet (the hook commands, the rollback runbook). It logs every invocation's arguments
// and runs each container's command on this machine with exactly the environment docker
// would give it (its -e and --env-file values, plus PATH), so psql, pg_dump and the hook
// scripts run for real. Mounts are not emulated: callers mount host paths at the same
// path inside, which the dropstack commands do anyway. rclone `copyto` is emulated by a
// copy into FAKE_REMOTE_DIR, with rclone's environment saved beside the copy.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Separates the arguments of one logged invocation; no argument contains it. */
export const ARGUMENT_SEPARATOR = "\x1f";

const SCRIPT = String.raw`#!/usr/bin/env bash
set -euo pipefail
{ printf '%s\x1f' "$@"; printf '\n'; } >>"$FAKE_DOCKER_LOG"
command=$1; shift
case $command in
  # Nothing runs detached here: there are no containers to list, stop or start.
  ps | stop | start) exit 0 ;;
  run) ;;
  *) echo "fake docker: unsupported command $command" >&2; exit 2 ;;
esac
envs=()
while (($#)); do
  case $1 in
    --rm | --sig-proxy=false | -i) shift ;;
    --name | --network | --user | --cap-drop | --security-opt | -v) shift 2 ;;
    --env-file)
      while IFS= read -r line || [[ -n $line ]]; do [[ -z $line || $line == '#'* ]] || envs+=("$line"); done <"$2"
      shift 2 ;;
    -e | --env) envs+=("$2"); shift 2 ;;
    -*) echo "fake docker: unsupported option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
image=$1; shift
if [[ $image == rclone/rclone:* ]]; then
  [[ $1 == copyto ]] || { echo "fake rclone: expected copyto" >&2; exit 2; }
  source=${"$"}{@: -2:1} target=${"$"}{@: -1}
  destination=$FAKE_REMOTE_DIR/${"$"}{target#offsite:}
  mkdir -p "$(dirname "$destination")"
  cp -- "$source" "$destination"
  printf '%s\n' "${"$"}{envs[@]}" >"$destination.env"
  exit 0
fi
# A container sees only the variables docker passes (and a PATH).
while IFS= read -r name; do [[ $name == PATH ]] || unset "$name"; done < <(compgen -e)
for assignment in "${"$"}{envs[@]}"; do export "${"$"}{assignment?}"; done
exec "$@"
`;

export interface FakeDocker {
  /**
   * Environment to run commands with: the fake first on PATH, its own settings, and a HOME
   * of its own (bash reads ~/.bashrc when its stdin is a socket, as node's pipes are).
   */
  env: NodeJS.ProcessEnv;
  /** Where rclone copies land: <bucket>/<prefix><file>. */
  remoteDir: string;
  logFile: string;
  /** Each invocation's arguments, in order. */
  invocations(): string[][];
}

export function installFakeDocker(root: string): FakeDocker {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "docker"), SCRIPT);
  chmodSync(join(bin, "docker"), 0o755);
  const logFile = join(root, "docker.log");
  const remoteDir = join(root, "remote");
  return {
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: root, FAKE_DOCKER_LOG: logFile, FAKE_REMOTE_DIR: remoteDir },
    remoteDir,
    logFile,
    invocations: () => (existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").filter(Boolean).map((l) => l.split(ARGUMENT_SEPARATOR).slice(0, -1)) : []),
  };
}
