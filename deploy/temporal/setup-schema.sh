#!/bin/sh
# One-shot, before the Temporal server starts (temporalio/admin-tools image):
# Temporal's two databases and their SQL schemas.
#
# Safe to run on every `docker compose up`: `create` leaves an existing database
# alone, `setup-schema -v 0.0` leaves one already past 0.0 alone, and
# `update-schema` applies only the versions it does not have yet. PostgreSQL
# that does not answer yet is retried (see retry.sh).
set -eu

: "${POSTGRES_SEEDS:?the PostgreSQL host}"
: "${POSTGRES_USER:?the PostgreSQL role Temporal uses}"
: "${SQL_PASSWORD:?its password (temporal-sql-tool reads SQL_PASSWORD)}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
export SQL_PASSWORD
. "$(dirname "$0")/retry.sh"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

retry "database $DBNAME" sql_tool --db "$DBNAME" create
retry "database $VISIBILITY_DBNAME" sql_tool --db "$VISIBILITY_DBNAME" create
sql_tool --db "$DBNAME" setup-schema -v 0.0
sql_tool --db "$DBNAME" update-schema -d "$SCHEMA_DIR/temporal/versioned"
sql_tool --db "$VISIBILITY_DBNAME" setup-schema -v 0.0
sql_tool --db "$VISIBILITY_DBNAME" update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schemas are up to date in $DBNAME and $VISIBILITY_DBNAME"
