-- pgcc: cluster pg-sql, sql/db-tmpl.sql: database tmpl (create); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-tmpl.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- create when missing
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'tmpl') AS pgcc_created \gset
\if :pgcc_created
CREATE DATABASE "tmpl" ENCODING 'UTF8' LOCALE 'C.UTF-8' IS_TEMPLATE true;
\endif

-- database settings
ALTER DATABASE "tmpl" IS_TEMPLATE true;
COMMENT ON DATABASE "tmpl" IS 'business database tmpl';
REVOKE CREATE ON DATABASE "tmpl" FROM PUBLIC;
GRANT CREATE ON DATABASE "tmpl" TO "dbrole_admin";

-- inside the database (skipped when it does not accept connections)
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'tmpl' AND datallowconn) AS pgcc_ok \gset
\if :pgcc_ok
\connect "tmpl"
SET client_min_messages = warning;
SET standard_conforming_strings = on;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO "dbrole_admin";
-- schemas
DROP SCHEMA IF EXISTS "legacy" CASCADE;
-- extensions (a missing package is an error; an installed version is not upgraded)
DROP EXTENSION IF EXISTS "hstore" CASCADE;
\endif
