-- The read model's role and database, created only where missing (safe to rerun).
--
-- Run by init-read-model.sh as the PostgreSQL superuser, with psql variables:
--   app_user       the role the API and the workers connect as
--   app_password   its password
--   app_database   the read model's database, owned by app_user
-- The read model shares the PostgreSQL with Temporal but is a database of its
-- own, owned by its own role: its migrations never meet Temporal's tables, and
-- the API and the workers cannot touch Temporal's.

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user')
\gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'app_database', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_database')
\gexec
