// The messages of the config keys whose values are checked by rules of their own: a missing
// choice, sizes the price table does not price, SSH keys shown shortened, environment variable
// names and values (secret values never repeated), and the commands that only need to be
// non-blank.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DO_REGIONS } from "../../components/config/schema";
import { DROPLET_PRICES, POSTGRES_NODE_PRICES } from "../../components/cost/prices";
import { type MinimalConfig, problemsAfter } from "../support/config";

type Raw = MinimalConfig;

const problems = problemsAfter;

describe("a missing value where a choice is needed", () => {
  it('says "got nothing"', () => {
    assert.deepEqual(
      problems((raw) => delete raw.region),
      [`dropstack:region: expected a DigitalOcean region slug (${DO_REGIONS.join(", ")}), got nothing`],
    );
  });
});

describe("sizes", () => {
  const tables = [
    { key: "droplet.size", table: DROPLET_PRICES, example: "s-2vcpu-4gb", set: (raw: Raw, v: string) => void (raw.droplet = { size: v }) },
    {
      key: "postgres.size",
      table: POSTGRES_NODE_PRICES,
      example: "db-s-1vcpu-2gb",
      set: (raw: Raw, v: string) => void (raw.postgres = { size: v }),
    },
  ];

  for (const { key, table, example, set } of tables) {
    const priced = Object.keys(table).filter((size) => table[size].monthlyUsd !== null);
    const unpriced = Object.keys(table).filter((size) => table[size].monthlyUsd === null);
    const expected = `expected a size the price table prices (${priced.join(", ")}), e.g. ${example}, got`;

    it(`${key}: every priced size is taken, and one the table does not know is refused with the priced ones listed`, () => {
      for (const size of priced)
        assert.deepEqual(
          problems((raw) => set(raw, size)),
          [],
          size,
        );
      for (const size of ["s-99", "", `${priced[0]}x`, priced[0].toUpperCase()])
        assert.deepEqual(
          problems((raw) => set(raw, size)),
          [`dropstack:${key}: ${expected} ${JSON.stringify(size)}`],
          size,
        );
    });

    it(`${key}: a size the table lists without a sourced price is refused, saying so`, () => {
      for (const size of unpriced)
        assert.deepEqual(
          problems((raw) => set(raw, size)),
          [`dropstack:${key}: ${expected} ${JSON.stringify(size)}, which the price table lists without a sourced price`],
          size,
        );
    });
  }

  it("the price tables have sizes without a sourced price, so the case above is tried", () => {
    assert.ok(Object.values(POSTGRES_NODE_PRICES).some((price) => price.monthlyUsd === null));
  });
});

describe("an SSH public key that is refused", () => {
  it("is repeated whole up to 48 characters and shortened to its first 45 and ... beyond", () => {
    for (const length of [12, 47, 48, 49, 50, 120]) {
      const key = `ssh-rsa ${"A".repeat(length - "ssh-rsa ".length)}`;
      const shown = length > 48 ? `${key.slice(0, 45)}...` : key;
      const found = problems((raw) => void (raw.sshPublicKeys = [key]));
      assert.equal(found.length, 1, key);
      assert.ok(found[0].startsWith(`dropstack:sshPublicKeys.0: ${JSON.stringify(shown)}: `), found[0]);
      assert.ok(found[0].length > `dropstack:sshPublicKeys.0: ${JSON.stringify(shown)}: `.length, "the problem follows");
    }
  });
});

describe("environment variables in app.env and appSecrets", () => {
  const good = ["A", "_", "_X", "a1", "DATABASE_POOL_SIZE", "x_2_y"];
  const bad = ["1A", "A-B", "A B", "A.B", "É", "9"];

  it("take names of letters, digits and _ that do not start with a digit", () => {
    for (const name of good) {
      assert.deepEqual(
        problems((raw) => void (raw.app.env = { [name]: "v" })),
        [],
        name,
      );
      assert.deepEqual(
        problems((raw) => void (raw.appSecrets = { [name]: "v" })),
        [],
        name,
      );
    }
  });

  it("refuse any other name, naming it", () => {
    for (const name of bad) {
      const message = `${JSON.stringify(name)} is not an environment variable name (letters, digits and _, not starting with a digit)`;
      assert.deepEqual(
        problems((raw) => void (raw.app.env = { [name]: "v" })),
        [`dropstack:app.env.${name}: ${message}`],
        name,
      );
      assert.deepEqual(
        problems((raw) => void (raw.appSecrets = { [name]: "v" })),
        [`dropstack:appSecrets.${name}: ${message}`],
        name,
      );
    }
  });

  it("take only text as values, repeating a wrong app.env value and never a secret one", () => {
    for (const value of [5, true, null, ["x"], { a: "b" }]) {
      assert.deepEqual(
        problems((raw) => void (raw.app.env = { OK: value })),
        [`dropstack:app.env.OK: expected text, got ${JSON.stringify(value)}`],
      );
      assert.deepEqual(
        problems((raw) => void (raw.appSecrets = { OK: value })),
        ["dropstack:appSecrets.OK: expected text"],
      );
    }
  });
});

describe("commands and queries that need only be non-blank", () => {
  const keys = [
    {
      key: "app.migrate",
      expected: "the migration command, e.g. alembic upgrade head",
      set: (raw: Raw, v: string) => void (raw.app.migrate = v),
    },
    {
      key: "app.workers.0.command",
      expected: "the worker's command, e.g. celery -A app worker",
      set: (raw: Raw, v: string) => void (raw.app.workers = [{ name: "worker", command: v }]),
    },
    {
      key: "app.workers.0.healthcheck",
      expected: "a command run in the worker's container",
      set: (raw: Raw, v: string) => void (raw.app.workers = [{ name: "worker", command: "celery -A app worker", healthcheck: v }]),
    },
    {
      key: "app.verify.sql.0.query",
      expected: "one line of SQL returning true, e.g. SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'",
      set: (raw: Raw, v: string) => void (raw.app.verify = { sql: [{ name: "tables", query: v }] }),
    },
  ];

  for (const { key, expected, set } of keys) {
    it(`${key} takes any text with a visible character and refuses blank text, saying what it is for`, () => {
      for (const value of ["x", " x ", "celery -A app worker", "SELECT true"])
        assert.deepEqual(
          problems((raw) => set(raw, value)),
          [],
          value,
        );
      for (const value of ["", " ", "   ", "\t"])
        assert.deepEqual(
          problems((raw) => set(raw, value)),
          [`dropstack:${key}: expected ${expected}, got ${JSON.stringify(value)}`],
          value,
        );
    });
  }
});

describe("smoke checks and schema assertions", () => {
  const cases = [
    {
      key: "app.smoke.0.path",
      expected: "a request path like /api/users/me (RFC 3986 characters, starting with /)",
      set: (raw: Raw, v: string) => void (raw.app.smoke = [{ path: v }]),
      accepted: ["/", "/health", "/api/users/me?x=1&y=%20", "/a:b@c"],
      refused: ["", "health", "/a b", '/a"b', "/a<b", "//" + "é"],
    },
    {
      key: "app.smoke.0.bodyContains",
      expected: "text the response body must contain, without tabs",
      set: (raw: Raw, v: string) => void (raw.app.smoke = [{ path: "/health", bodyContains: v }]),
      accepted: ["ok", " ok ", '{"status":"ok"}'],
      refused: ["", " ", "a\tb"],
    },
    {
      key: "app.verify.sql.0.name",
      expected: "a short name for the assertion (up to 100 characters, no tabs)",
      set: (raw: Raw, v: string) => void (raw.app.verify = { sql: [{ name: v, query: "SELECT true" }] }),
      accepted: ["tables", "x", "a".repeat(100), "users have emails"],
      refused: ["", " ", "a".repeat(101), "a\tb"],
    },
  ];

  for (const { key, expected, set, accepted, refused } of cases) {
    it(`${key} takes its examples and refuses others, saying what it expects`, () => {
      for (const value of accepted)
        assert.deepEqual(
          problems((raw) => set(raw, value)),
          [],
          value,
        );
      for (const value of refused) {
        // A tab is also a control character: that problem comes first.
        const found = problems((raw) => set(raw, value)).filter((p) => !p.includes("control character"));
        assert.deepEqual(found, [`dropstack:${key}: expected ${expected}, got ${JSON.stringify(value)}`], value);
      }
    });
  }

  it("app.workers, app.smoke and app.verify.sql must be lists, and say of what", () => {
    for (const value of ["worker", 3, { name: "w" }]) {
      assert.deepEqual(
        problems((raw) => void (raw.app.workers = value)),
        [`dropstack:app.workers: expected a list of {name, command}, got ${JSON.stringify(value)}`],
      );
      assert.deepEqual(
        problems((raw) => void (raw.app.smoke = value)),
        [`dropstack:app.smoke: expected a list of {path, status, …}, got ${JSON.stringify(value)}`],
      );
      assert.deepEqual(
        problems((raw) => void (raw.app.verify = { sql: value })),
        [`dropstack:app.verify.sql: expected a list of {name, query}, got ${JSON.stringify(value)}`],
      );
    }
  });
});

describe("lists and role names", () => {
  it("a key that takes a list refuses anything else, repeating it", () => {
    for (const value of ["10.0.0.0/8", 3, true, { cidr: "10.0.0.0/8" }]) {
      assert.deepEqual(
        problems((raw) => void (raw.adminCidrs = value)),
        [`dropstack:adminCidrs: expected a list, got ${JSON.stringify(value)}`],
      );
      assert.deepEqual(
        problems((raw) => void (raw.sshPublicKeys = value)),
        [`dropstack:sshPublicKeys: expected a list, got ${JSON.stringify(value)}`],
      );
      assert.deepEqual(
        problems((raw) => void (raw.alerts = { emails: value })),
        [`dropstack:alerts.emails: expected a list, got ${JSON.stringify(value)}`],
      );
    }
  });

  it("auth0.roles takes lowercase role names starting with a letter and names each other one", () => {
    const withRole = (role: string) => (raw: Raw) =>
      void (raw.auth0 = { apiIdentifier: "https://api.example.com", roles: { [role]: ["read:all"] } });
    for (const role of ["a", "admin", "super_admin", "read-only", "r2"]) assert.deepEqual(problems(withRole(role)), [], role);
    for (const role of ["Admin", "1admin", "_admin", "-admin", "super admin", "", "admin!"])
      assert.deepEqual(
        problems(withRole(role)),
        [`dropstack:auth0.roles.${role}: expected a role name like super_admin, got ${JSON.stringify(role)}`],
        role,
      );
  });
});

describe("registry.password", () => {
  const withPassword = (password: unknown) => (raw: Raw) => {
    raw.registry = { server: "ghcr.io", username: "bot", password };
  };

  it("must be non-empty text, and a wrong one is never repeated", () => {
    assert.deepEqual(problems(withPassword("s3cr3t")), []);
    assert.deepEqual(problems(withPassword("")), ["dropstack:registry.password: must not be empty"]);
    for (const password of [12345678, true, ["s3cr3t"], { value: "s3cr3t" }]) {
      const found = problems(withPassword(password));
      assert.deepEqual(found, ["dropstack:registry.password: expected text"], JSON.stringify(password));
    }
  });
});

describe("an empty list where one entry is needed", () => {
  it("says what to list", () => {
    assert.deepEqual(
      problems((raw) => void (raw.adminCidrs = [])),
      ["dropstack:adminCidrs: list at least one CIDR"],
    );
    assert.deepEqual(
      problems((raw) => void (raw.sshPublicKeys = [])),
      ["dropstack:sshPublicKeys: list at least one OpenSSH public key"],
    );
  });
});
