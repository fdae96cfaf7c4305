// The split PostgreSQL variables (POSTGRES_HOST, _PORT, _USER, _PASSWORD, _DB) name exactly
// the connection in DATABASE_URL: generated credentials over all of printable ASCII survive
// the Database component's encoding (connectionUri) and the decoding here, and a URL they
// cannot come from is refused without repeating it, since it is a secret.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { POSTGRES_ENVIRONMENT_NAMES, appEnvironment, postgresEnvironment } from "../../components/app/render";
import { connectionUri } from "../../components/database/settings";
import { seededRandom } from "../support/random";

const PRINTABLE_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
const rand = seededRandom(20261130);
const pick = (alphabet: string) => alphabet[rand(alphabet.length)];
const text = (alphabet: string, min: number, max: number) =>
  Array.from({ length: min + rand(max - min + 1) }, () => pick(alphabet)).join("");
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const hostname = () => `${text(LOWER, 1, 12)}-${text(`${LOWER}0123456789`, 1, 8)}.db.ondigitalocean.com`;
const ipv4 = () => Array.from({ length: 4 }, () => rand(256)).join(".");
// As WHATWG URL prints them (lowercase, zeros compressed), so they compare as given.
const IPV6 = ["::1", "2001:db8::5", "fd00:1:2:3::a", "2001:db8:85a3::8a2e:370:7334"];
const host = () => [hostname, ipv4, () => IPV6[rand(IPV6.length)]][rand(3)]();

interface Connection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

function expected(c: Connection): Record<string, string> {
  return {
    POSTGRES_HOST: c.host,
    POSTGRES_PORT: String(c.port),
    POSTGRES_USER: c.user,
    POSTGRES_PASSWORD: c.password,
    POSTGRES_DB: c.database,
  };
}

describe("POSTGRES_* from DATABASE_URL", () => {
  it("round-trips generated passwords over all printable ASCII, as connectionUri percent-encodes them", () => {
    const passwords = [
      PRINTABLE_ASCII,
      ...[...PRINTABLE_ASCII].map((c) => `a${c}b`),
      // What could read as encodings or separators once decoded.
      "%41%",
      "%%",
      "%2F",
      "p@ss:w/rd?#[]",
      "  leading and trailing  ",
      ...Array.from({ length: 400 }, () => text(PRINTABLE_ASCII, 1, 64)),
    ];
    for (const password of passwords) {
      const connection = {
        host: host(),
        port: 1 + rand(65535),
        user: text(PRINTABLE_ASCII, 1, 20),
        password,
        database: text(PRINTABLE_ASCII, 1, 20),
      };
      const url = connectionUri(connection);
      assert.deepEqual(postgresEnvironment(url), expected(connection), url);
    }
  });

  it("takes the pool's name as the database and gives the variables in one order", () => {
    const url = connectionUri({ host: "private-pool.db.example.com", port: 25061, user: "app", password: "pw", database: "app-pool" });
    const env = postgresEnvironment(url);
    assert.deepEqual(Object.keys(env), [...POSTGRES_ENVIRONMENT_NAMES]);
    assert.equal(env.POSTGRES_DB, "app-pool");
  });

  it("gives libpq's port, 5432, when the URL names none, and an empty password when it has none", () => {
    for (const url of ["postgresql://app:pw@db.internal/app", "postgres://app:pw@db.internal/app?sslmode=require"])
      assert.equal(postgresEnvironment(url).POSTGRES_PORT, "5432", url);
    assert.equal(postgresEnvironment("postgresql://app@db.internal:6432/app").POSTGRES_PASSWORD, "");
  });

  it("refuses a URL it cannot split, saying why and never repeating the URL", () => {
    const secret = "pw-not-to-be-shown";
    const cases: [string, string][] = [
      ["", "is not a URL"],
      [`${secret}`, "is not a URL"],
      [`redis://app:${secret}@cache:6379/0`, "is not a postgresql:// URL"],
      [`postgresql+psycopg://app:${secret}@db/app`, "is not a postgresql:// URL"],
      [`https://app:${secret}@db/app`, "is not a postgresql:// URL"],
      [`postgresql://db.internal/app?password=${secret}`, "names no user"],
      [`postgresql://:${secret}@db.internal/app`, "names no user"],
      [`postgresql:///app?password=${secret}`, "names no host"],
      [`postgresql://app:${secret}@db.internal`, "does not name one database in its path"],
      [`postgresql://app:${secret}@db.internal/`, "does not name one database in its path"],
      [`postgresql://app:${secret}@db.internal:5432/?sslmode=require`, "does not name one database in its path"],
      [`postgresql://app:${secret}@db.internal/app/extra`, "does not name one database in its path"],
      [`postgresql://app:${secret}%zz@db.internal/app`, "has a malformed percent-encoding in its password"],
      [`postgresql://app%E0%A4%A:${secret}@db.internal/app`, "has a malformed percent-encoding in its user"],
      [`postgresql://app:${secret}@db.internal/app%`, "has a malformed percent-encoding in its database"],
    ];
    for (const [url, why] of cases) {
      assert.throws(
        () => postgresEnvironment(url),
        (e: Error) => {
          assert.equal(
            e.message,
            `the database URL (DATABASE_URL) ${why}, so POSTGRES_HOST and the others cannot be derived from it; its value is secret and not shown`,
            url,
          );
          assert.ok(!e.message.includes(secret), url);
          return true;
        },
      );
    }
  });

  it("are what every app container gets beside DATABASE_URL", () => {
    for (let i = 0; i < 50; i++) {
      const connection = {
        host: host(),
        port: 1 + rand(65535),
        user: text(PRINTABLE_ASCII, 1, 20),
        password: text(PRINTABLE_ASCII, 1, 40),
        database: text(PRINTABLE_ASCII, 1, 20),
      };
      const databaseUrl = connectionUri(connection);
      const env = appEnvironment({ databaseUrl, env: { LOG_LEVEL: "info" }, secrets: {} });
      assert.deepEqual(env, { LOG_LEVEL: "info", DATABASE_URL: databaseUrl, ...expected(connection) }, databaseUrl);
    }
  });
});
