#!/usr/bin/env bash
# Restores a backup written by backup.sh into the database in DATABASE_URL (docs/design.md, "Hook scripts").
#
#   restore.sh <file>     DATABASE_URL: the target, normally a freshly created database
#
# The file must match its <file>.json (byte count and sha256) or nothing is touched.
# pg_restore then runs with:
#   --single-transaction  all or nothing: a restore that fails halfway (a conflicting
#                         object, a missing role in a GRANT, a full disk) leaves the
#                         target exactly as it was instead of half-populated. It rules
#                         out parallel `-j` restore, which also needs data offsets that
#                         backup.sh's streamed archive does not record; for a rollback,
#                         all-or-nothing matters more than speed.
#   --exit-on-error       stop at the first error instead of reporting it at the end.
#   --no-owner            objects belong to the restoring role, so a restore works on a
#                         managed cluster where the dump's owners may not exist or may
#                         not be assumable. Grants are kept.
# Large objects come back with the rest: whole-database custom dumps include them.
set -euo pipefail
HOOK_NAME=restore.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: restore.sh <backup file> (with DATABASE_URL set to the target database)"
dump=$1
require_env DATABASE_URL
require_commands pg_restore sha256sum

log "verifying $dump against ${dump##*/}.json"
verify_backup "$dump" || die "refusing to restore $dump: it does not match its metadata; the target was not touched"

log "restoring $dump in a single transaction"
started=$SECONDS
pg_restore --single-transaction --exit-on-error --no-owner --dbname="$DATABASE_URL" -- "$dump" ||
  die "pg_restore failed (its reason is above); the transaction was rolled back and the target is unchanged"
log "restore complete in $((SECONDS - started))s"
