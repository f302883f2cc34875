-- pgcc: cluster pg-sql, sql/db-app_copy.sql: database app_copy (create); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-app_copy.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- create when missing
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'app_copy') AS pgcc_created \gset
\if :pgcc_created
DO $pgcc$BEGIN PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE datname = 'app' AND pid <> pg_catalog.pg_backend_pid(); END$pgcc$;
CREATE DATABASE "app_copy" OWNER "dbuser_app" TEMPLATE "app" STRATEGY FILE_COPY;
\endif

-- database settings
ALTER DATABASE "app_copy" OWNER TO "dbuser_app";
GRANT ALL PRIVILEGES ON DATABASE "app_copy" TO "dbuser_app";
COMMENT ON DATABASE "app_copy" IS 'a copy of app';
GRANT CONNECT ON DATABASE "app_copy" TO PUBLIC;
REVOKE CREATE ON DATABASE "app_copy" FROM PUBLIC;
GRANT CREATE ON DATABASE "app_copy" TO "dbrole_admin";

-- inside the database (skipped when it does not accept connections)
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'app_copy' AND datallowconn) AS pgcc_ok \gset
\if :pgcc_ok
\connect "app_copy"
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
\endif

-- no connections (last, so the next run skips the part above)
\connect "postgres"
SET client_min_messages = warning;
SET standard_conforming_strings = on;
ALTER DATABASE "app_copy" ALLOW_CONNECTIONS false;
