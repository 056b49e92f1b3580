#!/bin/sh
# The postgres image runs this once, when it initialises a fresh data volume
# (docker-compose.yml mounts it into /docker-entrypoint-initdb.d): the read
# model's role and database. Run it again by hand with the same variables (and
# PGHOST for a server elsewhere) at any time; it creates only what is missing.
set -eu

: "${POSTGRES_USER:?the superuser}"
: "${READ_MODEL_USER:?the role the API and the workers use}"
: "${READ_MODEL_PASSWORD:?its password}"
: "${READ_MODEL_DATABASE:?the read model database}"

psql --username "$POSTGRES_USER" --dbname postgres -v ON_ERROR_STOP=1 -q \
  -v app_user="$READ_MODEL_USER" \
  -v app_password="$READ_MODEL_PASSWORD" \
  -v app_database="$READ_MODEL_DATABASE" \
  -f "${READ_MODEL_SQL:-/deploy/read-model.sql}"
echo "read model: database $READ_MODEL_DATABASE, role $READ_MODEL_USER"
