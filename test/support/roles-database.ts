// A real PostgreSQL holding the program's database with its roles (fresh random passwords)
// and grants applied, as the managed cluster has them after `pulumi up`: what the system
// tests of the hooks that connect as those roles start from.
import { randomBytes } from "node:crypto";
import { privilegeModel, renderGrantSql, renderRoleSql, type RoleKind } from "../../components/database/privileges";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { requireTools } from "../../tools/lib/system";

export interface RolesDatabase {
  pg: PostgresServer;
  passwords: Record<RoleKind, string>;
}

export async function startRolesDatabase(database: string): Promise<RolesDatabase> {
  requireTools([{ command: "psql", debianPackage: "postgresql-client" }]);
  const passwords: Record<RoleKind, string> = {
    migrator: randomBytes(20).toString("hex"),
    app: randomBytes(20).toString("hex"),
    readonly: randomBytes(20).toString("hex"),
  };
  const pg = await startPostgres();
  pg.createDatabase(database);
  const model = privilegeModel();
  pg.psql(renderRoleSql(model, passwords), database);
  pg.psql(renderGrantSql(model, database), database);
  return { pg, passwords };
}
