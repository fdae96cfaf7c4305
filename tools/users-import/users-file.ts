// The users file of `npm run users:import`: Auth0's bulk import format (a JSON array of user
// objects; the schema is "Bulk User Import Schema" in Auth0's docs), checked before any request
// so that a file Auth0 would reject, or half-import, stops the run with every problem named.
// Messages name the user's index and the field, never a password hash or an MFA secret.

/** Top-level fields of Auth0's user import schema (`additionalProperties: false`). */
export const USER_FIELDS = {
  email: "string",
  email_verified: "boolean",
  phone_number: "string",
  phone_verified: "boolean",
  user_id: "string",
  username: "string",
  given_name: "string",
  family_name: "string",
  name: "string",
  nickname: "string",
  picture: "string",
  blocked: "boolean",
  password_hash: "string",
  custom_password_hash: "object",
  app_metadata: "object",
  user_metadata: "object",
  mfa_factors: "array",
} as const;

const CUSTOM_HASH_FIELDS = ["algorithm", "hash", "salt", "password", "keylen", "cost", "blockSize", "parallelization"];
const CUSTOM_HASH_ALGORITHMS = ["argon2", "bcrypt", "hmac", "ldap", "md4", "md5", "sha1", "sha256", "sha512", "pbkdf2", "scrypt"];
const MFA_FACTOR_TYPES = ["totp", "phone", "email"];
const MFA_FACTORS_MAX = 10;
/** Auth0 refuses these in app_metadata: they are its own user attributes. */
const RESERVED_APP_METADATA = [
  "__tenant",
  "_id",
  "blocked",
  "clientID",
  "created_at",
  "email_verified",
  "email",
  "globalClientID",
  "global_client_id",
  "identities",
  "lastIP",
  "lastLogin",
  "loginsCount",
  "metadata",
  "multifactor_last_modified",
  "multifactor",
  "updated_at",
  "user_id",
];

/** One user of the file, as it is sent to Auth0. */
export type ImportUser = Record<string, unknown> & { email: string };

export type UsersFile = { ok: true; users: ImportUser[] } | { ok: false; problems: string[] };

const kindOf = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);

/** An address Auth0's `format: email` accepts in practice: one @, no spaces, a dot in the domain. */
function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}

function customHashProblems(value: Record<string, unknown>, at: string): string[] {
  const problems = Object.keys(value)
    .filter((key) => !CUSTOM_HASH_FIELDS.includes(key))
    .map((key) => `${at}.${key}: not a field of custom_password_hash (documented: ${CUSTOM_HASH_FIELDS.join(", ")})`);
  if (typeof value.algorithm !== "string" || !CUSTOM_HASH_ALGORITHMS.includes(value.algorithm))
    problems.push(`${at}.algorithm: expected one of ${CUSTOM_HASH_ALGORITHMS.join(", ")}`);
  const hash = value.hash;
  if (kindOf(hash) !== "object" || typeof (hash as Record<string, unknown>).value !== "string")
    problems.push(`${at}.hash: expected an object with the hash in "value"`);
  return problems;
}

function mfaFactorProblems(value: unknown[], at: string): string[] {
  if (value.length === 0 || value.length > MFA_FACTORS_MAX) return [`${at}: expected 1 to ${MFA_FACTORS_MAX} factors, got ${value.length}`];
  return value.flatMap((factor, i) => {
    const keys = kindOf(factor) === "object" ? Object.keys(factor as object) : [];
    return keys.length === 1 && MFA_FACTOR_TYPES.includes(keys[0])
      ? []
      : [`${at}.${i}: expected an object with exactly one of ${MFA_FACTOR_TYPES.join(", ")}`];
  });
}

function userProblems(user: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(user)) {
    const expected = USER_FIELDS[field as keyof typeof USER_FIELDS];
    if (expected === undefined) {
      problems.push(`${at}.${field}: not a field of Auth0's user import format (documented: ${Object.keys(USER_FIELDS).join(", ")})`);
    } else if (kindOf(value) !== expected) {
      problems.push(`${at}.${field}: expected ${expected === "array" ? "an" : "a"} ${expected}, got ${kindOf(value)}`);
    }
  }
  if (!("email" in user)) problems.push(`${at}.email: required (Auth0 imports users by email)`);
  else if (typeof user.email === "string" && !looksLikeEmail(user.email))
    problems.push(`${at}.email: expected an email address, got ${JSON.stringify(user.email)}`);
  if ("password_hash" in user && "custom_password_hash" in user)
    problems.push(`${at}: password_hash and custom_password_hash are mutually exclusive; keep one`);
  if (typeof user.password_hash === "string" && !/^\$2[ab]\$/.test(user.password_hash))
    problems.push(`${at}.password_hash: expected a bcrypt hash starting $2a$ or $2b$; give other algorithms as custom_password_hash`);
  if (kindOf(user.custom_password_hash) === "object")
    problems.push(...customHashProblems(user.custom_password_hash as Record<string, unknown>, `${at}.custom_password_hash`));
  if (Array.isArray(user.mfa_factors)) problems.push(...mfaFactorProblems(user.mfa_factors, `${at}.mfa_factors`));
  if (kindOf(user.app_metadata) === "object") {
    for (const key of Object.keys(user.app_metadata as object).filter((k) => RESERVED_APP_METADATA.includes(k)))
      problems.push(`${at}.app_metadata.${key}: reserved by Auth0 (a user attribute of its own); move it out of app_metadata`);
  }
  return problems;
}

/** Two users with the same value of `field` (emails case-insensitively): Auth0 would import only one. */
function duplicateProblems(users: Record<string, unknown>[], source: string, field: "email" | "user_id"): string[] {
  const seen = new Map<string, number>();
  const problems: string[] = [];
  users.forEach((user, i) => {
    const value = user[field];
    if (typeof value !== "string") return;
    const key = field === "email" ? value.toLowerCase() : value;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else
      problems.push(
        `${source}[${i}].${field}: ${JSON.stringify(value)} duplicates ${source}[${first}]${field === "email" ? " (emails compare case-insensitively)" : ""}`,
      );
  });
  return problems;
}

/**
 * The users of a bulk import file, or every problem found in it. `source` names the file in
 * messages, which read `<source>[<index>].<field>: …`.
 */
export function parseUsersFile(text: string, source: string): UsersFile {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`${source}: not valid JSON (${(error as Error).message})`] };
  }
  if (!Array.isArray(document))
    return { ok: false, problems: [`${source}: expected a JSON array of users (Auth0's bulk import format), got ${kindOf(document)}`] };
  if (document.length === 0) return { ok: false, problems: [`${source}: the array is empty; there are no users to import`] };
  const problems: string[] = [];
  document.forEach((user, i) => {
    if (kindOf(user) !== "object") problems.push(`${source}[${i}]: expected a user object, got ${kindOf(user)}`);
    else problems.push(...userProblems(user as Record<string, unknown>, `${source}[${i}]`));
  });
  const objects = document.map((user) => (kindOf(user) === "object" ? (user as Record<string, unknown>) : {}));
  problems.push(...duplicateProblems(objects, source, "email"), ...duplicateProblems(objects, source, "user_id"));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, users: document as ImportUser[] };
}

/**
 * The strings of a user that must never leave the tool: its password hash (either form) and
 * its TOTP secrets. Messages from Auth0 are searched for them before they are printed.
 */
export function secretStrings(user: Record<string, unknown>): string[] {
  const strings: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === "string") strings.push(value);
    else if (value !== null && typeof value === "object") Object.values(value).forEach(collect);
  };
  collect(user.password_hash);
  collect(user.custom_password_hash);
  if (Array.isArray(user.mfa_factors)) for (const factor of user.mfa_factors) collect((factor as { totp?: unknown } | null)?.totp);
  // Short values ("utf8", "bcrypt") are encodings and algorithm names, not secrets, and would redact ordinary words.
  return strings.filter((s) => s.length >= 8);
}
