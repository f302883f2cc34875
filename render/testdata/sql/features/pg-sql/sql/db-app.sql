-- pgcc: cluster pg-sql, sql/db-app.sql: database app (create); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-app.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- create when missing
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'app') AS pgcc_created \gset
\if :pgcc_created
CREATE DATABASE "app" OWNER "dbuser_app";
\endif

-- database settings
ALTER DATABASE "app" OWNER TO "dbuser_app";
GRANT ALL PRIVILEGES ON DATABASE "app" TO "dbuser_app";
ALTER DATABASE "app" CONNECTION LIMIT 50;
ALTER DATABASE "app" SET "search_path" = '$user', 'app', 'public';
ALTER DATABASE "app" SET "work_mem" = '8MB';
ALTER DATABASE "app" SET "enable_seqscan" = 'off';
COMMENT ON DATABASE "app" IS 'the app''s database';
REVOKE CONNECT ON DATABASE "app" FROM PUBLIC;
GRANT CONNECT ON DATABASE "app" TO "replicator";
GRANT CONNECT ON DATABASE "app" TO "dbuser_monitor";
GRANT CONNECT ON DATABASE "app" TO "dbuser_dba" WITH GRANT OPTION;
GRANT CONNECT ON DATABASE "app" TO "dbuser_app" WITH GRANT OPTION;
GRANT CONNECT ON DATABASE "app" TO "dbuser_auth";
REVOKE CREATE ON DATABASE "app" FROM PUBLIC;
GRANT CREATE ON DATABASE "app" TO "dbrole_admin";

-- inside the database (skipped when it does not accept connections)
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'app' AND datallowconn) AS pgcc_ok \gset
\if :pgcc_ok
\connect "app"
SET client_min_messages = warning;
SET standard_conforming_strings = on;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO "dbrole_admin";
-- default privileges for objects the owner creates
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT USAGE ON SCHEMAS TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT SELECT ON TABLES TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT SELECT ON SEQUENCES TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT EXECUTE ON FUNCTIONS TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT USAGE ON SCHEMAS TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT SELECT ON TABLES TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT SELECT ON SEQUENCES TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT EXECUTE ON FUNCTIONS TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT INSERT ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT UPDATE ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT DELETE ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT USAGE ON SEQUENCES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT UPDATE ON SEQUENCES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT TRUNCATE ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT REFERENCES ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT TRIGGER ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_app" GRANT CREATE ON SCHEMAS TO "dbrole_admin";
-- schemas
CREATE SCHEMA IF NOT EXISTS "app";
CREATE SCHEMA IF NOT EXISTS "app_owned" AUTHORIZATION "dbuser_app";
ALTER SCHEMA "app_owned" OWNER TO "dbuser_app";
-- extensions (a missing package is an error; an installed version is not upgraded)
CREATE EXTENSION IF NOT EXISTS "pg_trgm" WITH SCHEMA "app" CASCADE;
CREATE EXTENSION IF NOT EXISTS "hstore" CASCADE;
CREATE EXTENSION IF NOT EXISTS "citext" VERSION '1.6' CASCADE;
-- pgbouncer auth_query as pool_auth_user "dbuser_auth"
DO $pgcc$BEGIN IF pg_catalog.to_regprocedure('monitor.pgbouncer_auth(text)') IS NOT NULL THEN GRANT USAGE ON SCHEMA monitor TO "dbuser_auth"; GRANT EXECUTE ON FUNCTION monitor.pgbouncer_auth(text) TO "dbuser_auth"; END IF; END$pgcc$;
\if :pgcc_created
-- pgcc: baseline app-baseline.sql (sha256:3bf75e579c13963ff304c9cb94ea568f370fc092f41f940ba5a425078a64e305)
-- baseline of database app (runs only in the run that creates it)
CREATE TABLE app.baseline_marker (id int PRIMARY KEY, note text);
INSERT INTO app.baseline_marker VALUES (1, 'created once');
SET client_min_messages = warning;
SET standard_conforming_strings = on;
-- pgcc: end of baseline app-baseline.sql
\endif
\endif
