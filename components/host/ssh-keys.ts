// OpenSSH public key lines (`sshPublicKeys`), read the way sshd reads authorized_keys:
// the key type, then the base64 wire blob (RFC 4253 §6.6, RFC 5656, RFC 8709 and the
// sk-* formats of OpenSSH's PROTOCOL.u2f), then an optional comment. Keys the host would
// refuse, or that are too weak to trust, are config errors, not a failed login later.
import { controlCharacterAt } from "../config/text";

/** RSA moduli below this many bits are refused (NIST SP 800-57: 3072 for use beyond 2030). */
export const MIN_RSA_BITS = 3072;

type BlobReader = { string(): Buffer; done(): boolean };

function reader(blob: Buffer): BlobReader {
  let offset = 0;
  return {
    string() {
      if (offset + 4 > blob.length) throw new Error("truncated");
      const length = blob.readUInt32BE(offset);
      if (offset + 4 + length > blob.length) throw new Error("truncated");
      const value = blob.subarray(offset + 4, offset + 4 + length);
      offset += 4 + length;
      return value;
    },
    done: () => offset === blob.length,
  };
}

const ECDSA_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** Bit length of an SSH mpint (big-endian two's complement, positive here). */
function mpintBits(value: Buffer): number {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  if (i === value.length) return 0;
  return (value.length - i - 1) * 8 + value[i].toString(2).length;
}

/** Checks the blob's fields for its type; returns a problem or undefined. */
function blobProblem(type: string, blob: Buffer): string | undefined {
  const r = reader(blob);
  try {
    const declared = r.string().toString("latin1");
    if (declared !== type) return `the key data is a ${JSON.stringify(declared)} key, not ${type}`;
    if (type === "ssh-ed25519" || type === "sk-ssh-ed25519@openssh.com") {
      if (r.string().length !== 32) return "an Ed25519 key is 32 bytes";
      if (type.startsWith("sk-")) r.string();
    } else if (type === "ssh-rsa") {
      r.string();
      const bits = mpintBits(r.string());
      if (bits < MIN_RSA_BITS) return `the RSA key has ${bits} bits; use at least ${MIN_RSA_BITS} (or an ed25519 key)`;
    } else {
      const curve = r.string().toString("latin1");
      const expected = /nistp(256|384|521)/.exec(type)?.[0] ?? "";
      if (curve !== expected) return `the key data names curve ${JSON.stringify(curve)}, not ${expected}`;
      const point = r.string();
      if (point.length !== ECDSA_POINT_BYTES[curve] || point[0] !== 4) return `the ECDSA point is not an uncompressed ${curve} point`;
      if (type.startsWith("sk-")) r.string();
    }
    if (!r.done()) return "the key data has bytes after the key";
  } catch {
    return "the key data is truncated";
  }
  return undefined;
}

const TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];
const REFUSED_TYPES: Record<string, string> = {
  "ssh-dss": "DSA keys are limited to 1024 bits and OpenSSH no longer accepts them",
};

/** Why a line is not a usable OpenSSH public key, or undefined when it is. */
export function describeSshPublicKeyProblem(line: string): string | undefined {
  // authorized_keys is line based: anything past a line break would be a second entry.
  if (controlCharacterAt(line) >= 0) return "contains a line break or control character";
  const [type = "", data] = line.trim().split(/[ \t]+/);
  if (type in REFUSED_TYPES) return `${type}: ${REFUSED_TYPES[type]}; use an ed25519 key`;
  if (!TYPES.includes(type)) return `starts with ${JSON.stringify(type)}, not a key type (${TYPES.join(", ")})`;
  if (data === undefined || data === "") return "has no key data after the type";
  const blob = Buffer.from(data, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data) || blob.toString("base64") !== data) return "the key data is not valid base64";
  return blobProblem(type, blob);
}
