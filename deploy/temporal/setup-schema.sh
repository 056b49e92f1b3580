#!/bin/sh
# One-shot, before the Temporal server starts (temporalio/admin-tools image):
# the databases (Temporal's two and the read model's) and Temporal's SQL schemas.
#
# Safe to run on every `docker compose up`: databases are created only where
# missing, `setup-schema -v 0.0` leaves a database already past 0.0 alone, and
# `update-schema` applies only the versions it does not have yet.
set -eu

: "${POSTGRES_SEEDS:?the PostgreSQL host}"
: "${POSTGRES_USER:?the PostgreSQL superuser Temporal uses}"
: "${SQL_PASSWORD:?its password}"
: "${READ_MODEL_USER:?the role the API and the workers use}"
: "${READ_MODEL_PASSWORD:?its password}"
: "${READ_MODEL_DATABASE:?the read model database}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
ATTEMPTS="${SETUP_ATTEMPTS:-60}"
PAUSE="${SETUP_PAUSE:-2}"
HERE="$(dirname "$0")"
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

export PGHOST="$POSTGRES_SEEDS" PGPORT="$DB_PORT" PGUSER="$POSTGRES_USER" PGPASSWORD="$SQL_PASSWORD"

attempt=1
until psql -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "PostgreSQL at $PGHOST:$PGPORT did not answer after $attempt attempts" >&2
    exit 1
  fi
  echo "waiting for PostgreSQL at $PGHOST:$PGPORT (attempt $attempt/$ATTEMPTS)"
  attempt=$((attempt + 1))
  sleep "$PAUSE"
done

psql -d postgres -v ON_ERROR_STOP=1 -q \
  -v temporal_owner="$POSTGRES_USER" \
  -v temporal_database="$DBNAME" \
  -v visibility_database="$VISIBILITY_DBNAME" \
  -v app_user="$READ_MODEL_USER" \
  -v app_password="$READ_MODEL_PASSWORD" \
  -v app_database="$READ_MODEL_DATABASE" \
  -f "$HERE/databases.sql"
echo "databases: $DBNAME, $VISIBILITY_DBNAME, $READ_MODEL_DATABASE"

# SKIP_TEMPORAL_SCHEMA=true: only the databases (Temporal's schema is managed elsewhere).
if [ "${SKIP_TEMPORAL_SCHEMA:-false}" = true ]; then
  exit 0
fi

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}
sql_tool --db "$DBNAME" setup-schema -v 0.0
sql_tool --db "$DBNAME" update-schema -d "$SCHEMA_DIR/temporal/versioned"
sql_tool --db "$VISIBILITY_DBNAME" setup-schema -v 0.0
sql_tool --db "$VISIBILITY_DBNAME" update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schemas are up to date"
