import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DEPLOY_USER } from "./cloud-init";

/**
 * Every remote.Command connects as the deploy user with the host key pinned; keys come
 * from the operator's ssh-agent, the same agent the docker provider's ssh client uses, so
 * no private key is ever written into config or state.
 *
 * No `agentSocketPath`: the command provider reads SSH_AUTH_SOCK itself when it connects
 * (pulumi-command provider/pkg/provider/remote/connection.go, tryGetDefaultAgentSocket).
 * Copied into the inputs, the socket path (new in every CI job) would be a diff, and a
 * command without `update` re-runs its `create` on any diff.
 */
export function sshConnection(host: pulumi.Input<string>, hostPublicKey: pulumi.Input<string>): command.types.input.remote.ConnectionArgs {
  return {
    host,
    user: DEPLOY_USER,
    hostKey: hostPublicKey,
    dialErrorLimit: 30,
    perDialTimeout: 10,
  };
}

/**
 * ssh options for the docker provider: trust only the generated host key. OpenSSH's
 * KnownHostsCommand (≥ 8.5) prints the one known_hosts line, so nothing is written to
 * disk and no first-use trust ever happens.
 */
export function dockerSshOptions(hostPublicKey: pulumi.Input<string>): pulumi.Output<string[]> {
  return pulumi
    .output(hostPublicKey)
    .apply((key) => [
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      `KnownHostsCommand=/bin/echo %H ${key.trim()}`,
      "-o",
      "ServerAliveInterval=15",
    ]);
}
