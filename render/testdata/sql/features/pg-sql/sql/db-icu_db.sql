-- pgcc: cluster pg-sql, sql/db-icu_db.sql: database icu_db (create); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-icu_db.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- create when missing
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'icu_db') AS pgcc_created \gset
\if :pgcc_created
CREATE DATABASE "icu_db" TEMPLATE "template0" ENCODING 'UTF8' LOCALE_PROVIDER 'icu' ICU_LOCALE 'und';
\endif

-- database settings
COMMENT ON DATABASE "icu_db" IS 'business database icu_db';
REVOKE CREATE ON DATABASE "icu_db" FROM PUBLIC;
GRANT CREATE ON DATABASE "icu_db" TO "dbrole_admin";

-- inside the database (skipped when it does not accept connections)
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'icu_db' AND datallowconn) AS pgcc_ok \gset
\if :pgcc_ok
\connect "icu_db"
SET client_min_messages = warning;
SET standard_conforming_strings = on;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO "dbrole_admin";
\endif
