// A stand-in for the docker CLI, for system tests of shell that drives docker on the
// droplet (the hook commands, the rollback runbook). It logs every invocation's arguments
// and runs each container's command on this machine with exactly the environment docker
// would give it (its -e and --env-file values, plus PATH), so psql, pg_dump and the hook
// scripts run for real. Mounts are not emulated: callers mount host paths at the same
// path inside, which the dropstack commands do anyway. rclone `copyto` is emulated by a
// copy into FAKE_REMOTE_DIR, with rclone's environment saved beside the copy, unless
// FAKE_RCLONE names a real rclone (withRealRclone), which then runs against an S3 server. Detached
// containers and local images (for the rollout gates and the image prune) are files under
// FAKE_DOCKER_STATE; `inspect` answers only the exact formats components/app renders.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INSPECT_HEALTH, INSPECT_NETWORKS, INSPECT_RUN_STATE } from "../../components/app/render";

/** Separates the arguments of one logged invocation; no argument contains it. */
export const ARGUMENT_SEPARATOR = "\x1f";

const SCRIPT = String.raw`#!/usr/bin/env bash
set -euo pipefail
{ printf '%s\x1f' "$@"; printf '\n'; } >>"$FAKE_DOCKER_LOG"
command=$1; shift
state=${"$"}{FAKE_DOCKER_STATE:-/nonexistent}
# A detached container is a directory under $FAKE_DOCKER_STATE/containers/<name>: files id,
# image, health, networks (one per line), states (one inspect answer per line, the last one
# repeats) and logs. An image is $FAKE_DOCKER_STATE/images/<id> listing its repositories.
container_dir() {
  local dir
  for dir in "$state"/containers/*/; do
    dir=${"$"}{dir%/}
    if [[ ${"$"}{dir##*/} == "$1" || $(cat "$dir/id" 2>/dev/null) == "$1" ]]; then printf '%s\n' "$dir"; return; fi
  done
  echo "Error: No such container: $1" >&2
  exit 1
}
case $command in
  ps)
    [[ " $* " == *" --all --quiet --no-trunc "* ]] || exit 0
    for dir in "$state"/containers/*/; do [[ -f $dir/id ]] && cat "$dir/id"; done
    exit 0 ;;
  stop | start) exit 0 ;;
  inspect)
    [[ $1 == --format ]] || { echo "fake docker: inspect needs --format" >&2; exit 2; }
    format=$2; shift 2
    for name in "$@"; do
      dir=$(container_dir "$name")
      case $format in
        '${INSPECT_HEALTH}') cat "$dir/health" 2>/dev/null || echo none ;;
        '${INSPECT_NETWORKS}') printf '%s ' $(cat "$dir/networks" 2>/dev/null); printf '\n' ;;
        '{{.Image}}') cat "$dir/image" ;;
        '${INSPECT_RUN_STATE}')
          head -n 1 "$dir/states"
          if (($(wc -l <"$dir/states") > 1)); then sed -i 1d "$dir/states"; fi ;;
        *) echo "fake docker: unsupported inspect format $format" >&2; exit 2 ;;
      esac
    done
    exit 0 ;;
  logs) dir=$(container_dir "${"$"}{@: -1}"); cat "$dir/logs" 2>/dev/null || true; exit 0 ;;
  network)
    [[ $1 == connect && $2 == --alias && $# == 5 ]] || { echo "fake docker: unsupported network command $*" >&2; exit 2; }
    dir=$(container_dir "$5")
    if grep -qxF -- "$4" "$dir/networks" 2>/dev/null; then echo "Error response from daemon: endpoint with name ${"$"}{dir##*/} already exists in network $4" >&2; exit 1; fi
    printf '%s\n' "$4" >>"$dir/networks"
    printf '%s %s\n' "$4" "$3" >>"$dir/aliases"
    exit 0 ;;
  image)
    case $1 in
      ls)
        [[ $2 == --no-trunc && $3 == --quiet && $# == 4 ]] || { echo "fake docker: unsupported image ls $*" >&2; exit 2; }
        for file in "$state"/images/*; do [[ -f $file ]] && grep -qxF -- "$4" "$file" && printf '%s\n' "${"$"}{file##*/}" | tr _ :; done
        exit 0 ;;
      rm)
        [[ $2 == --force ]] || { echo "fake docker: image rm without --force" >&2; exit 2; }
        file=$state/images/${"$"}{3/:/_}
        [[ -f $file ]] || { echo "Error: No such image: $3" >&2; exit 1; }
        [[ ! -f $file.locked ]] || { echo "Error response from daemon: conflict: unable to delete $3" >&2; exit 1; }
        rm -- "$file"; echo "Deleted: $3"; exit 0 ;;
      *) echo "fake docker: unsupported image command $1" >&2; exit 2 ;;
    esac ;;
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
if [[ $image == rclone/rclone:* && -n ${"$"}{FAKE_RCLONE:-} ]]; then
  # The real rclone client with exactly the container's environment; only the network differs:
  # the bucket's virtual-host name (<bucket>.s3.<domain>) resolves nowhere on loopback, so every
  # request goes through FAKE_RCLONE_PROXY, the S3 server itself.
  exec env -i PATH="$PATH" HOME="$HOME" RCLONE_CONFIG=/dev/null HTTP_PROXY="$FAKE_RCLONE_PROXY" NO_PROXY= \
    RCLONE_RETRIES=1 RCLONE_LOW_LEVEL_RETRIES=1 "${"$"}{envs[@]}" "$FAKE_RCLONE" "$@"
fi
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
  /** FAKE_DOCKER_STATE: containers/<name>/… and images/<id with : as _>. */
  stateDir: string;
  /** Each invocation's arguments, in order. */
  invocations(): string[][];
}

/**
 * The environment for running the real rclone (Debian's) in place of the rclone image, against
 * an S3 server on loopback that also serves as the HTTP proxy (see the script).
 */
export function withRealRclone(env: NodeJS.ProcessEnv, rclone: string, s3Port: number): NodeJS.ProcessEnv {
  return { ...env, FAKE_RCLONE: rclone, FAKE_RCLONE_PROXY: `http://127.0.0.1:${s3Port}` };
}

export function installFakeDocker(root: string): FakeDocker {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "docker"), SCRIPT);
  chmodSync(join(bin, "docker"), 0o755);
  const logFile = join(root, "docker.log");
  const remoteDir = join(root, "remote");
  const stateDir = join(root, "state");
  mkdirSync(join(stateDir, "containers"), { recursive: true });
  mkdirSync(join(stateDir, "images"), { recursive: true });
  return {
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: root,
      FAKE_DOCKER_LOG: logFile,
      FAKE_REMOTE_DIR: remoteDir,
      FAKE_DOCKER_STATE: stateDir,
    },
    remoteDir,
    stateDir,
    logFile,
    invocations: () =>
      existsSync(logFile)
        ? readFileSync(logFile, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => l.split(ARGUMENT_SEPARATOR).slice(0, -1))
        : [],
  };
}
