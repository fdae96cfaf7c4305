// tools/lib/postgres.ts inside one `npm test` run: servers start from copies of one
// initdb'd data directory. The copies must be servers of their own, as initdb's were.
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { makeTempDir } from "../../tools/lib/system";

describe("PostgreSQL servers within one test run", () => {
  const runDir = makeTempDir("postgres-template-run");
  const saved = process.env.DROPSTACK_TEST_RUN;
  const servers: PostgresServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    if (saved === undefined) delete process.env.DROPSTACK_TEST_RUN;
    else process.env.DROPSTACK_TEST_RUN = saved;
    rmSync(runDir, { recursive: true, force: true });
  });

  it("start from one template, each with data, settings and a port of its own", async () => {
    process.env.DROPSTACK_TEST_RUN = runDir;
    servers.push(await startPostgres(), await startPostgres({ settings: { work_mem: "7MB" } }));
    const [a, b] = servers;
    assert.deepEqual(
      readdirSync(runDir).filter((f) => f.startsWith("postgres-")),
      [`postgres-${a.majorVersion}-nobody`],
      "one template, no half-made ones left",
    );
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.dataDir, b.dataDir);
    a.psql("CREATE TABLE only_in_a (id int)");
    assert.equal(a.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "1");
    assert.equal(b.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "0");
    assert.equal(a.psql("SHOW work_mem"), "4MB");
    assert.equal(b.psql("SHOW work_mem"), "7MB");
    assert.equal(existsSync(join(runDir, `postgres-${a.majorVersion}-nobody`, "data", "postmaster.pid")), false, "the template never runs");
  });
});
