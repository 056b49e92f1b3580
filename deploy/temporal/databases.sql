-- The databases of the compose system, created only where missing (safe to rerun).
--
-- Run by setup-schema.sh as the PostgreSQL superuser, with psql variables:
--   temporal_owner       the role Temporal connects as, owner of its two databases
--   temporal_database    Temporal's own database (the server's DBNAME)
--   visibility_database  its visibility database (the server's VISIBILITY_DBNAME)
--   app_user             the role the API and the workers connect as
--   app_password         its password
--   app_database         the read model's database, owned by app_user
-- Temporal's two databases and the read model share one PostgreSQL, each its own
-- database, so the read model's migrations never meet Temporal's tables.

SELECT format('CREATE DATABASE %I OWNER %I', :'temporal_database', :'temporal_owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'temporal_database')
\gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'visibility_database', :'temporal_owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'visibility_database')
\gexec

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user')
\gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'app_database', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_database')
\gexec
