-- pgcc: cluster pg-matrix, sql/db-meta.sql: database meta (create); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-meta.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;
\connect "template1"
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- create when missing
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'meta') AS pgcc_created \gset
\if :pgcc_created
DO $pgcc$BEGIN PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE datname = 'postgres' AND pid <> pg_catalog.pg_backend_pid(); END$pgcc$;
CREATE DATABASE "meta" OWNER "dbuser_opts" TEMPLATE "postgres" TABLESPACE "pg_default";
\endif

-- database settings
ALTER DATABASE "meta" OWNER TO "dbuser_opts";
GRANT ALL PRIVILEGES ON DATABASE "meta" TO "dbuser_opts";
SELECT format('ALTER DATABASE %I SET TABLESPACE %I', d.datname, 'pg_default') FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = 'meta' AND t.spcname <> 'pg_default' \gexec
ALTER DATABASE "meta" SET "search_path" = 'meta', '$user';
ALTER DATABASE "meta" SET "temp_tablespaces" = '';
COMMENT ON DATABASE "meta" IS 'business database meta';
REVOKE CREATE ON DATABASE "meta" FROM PUBLIC;
GRANT CREATE ON DATABASE "meta" TO "dbrole_admin";

-- inside the database (skipped when it does not accept connections)
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'meta' AND datallowconn) AS pgcc_ok \gset
\if :pgcc_ok
\connect "meta"
SET client_min_messages = warning;
SET standard_conforming_strings = on;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO "dbrole_admin";
-- default privileges for objects the owner creates
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT USAGE ON SCHEMAS TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT SELECT ON TABLES TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT SELECT ON SEQUENCES TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT EXECUTE ON FUNCTIONS TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT USAGE ON SCHEMAS TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT SELECT ON TABLES TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT SELECT ON SEQUENCES TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT EXECUTE ON FUNCTIONS TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT INSERT ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT UPDATE ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT DELETE ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT USAGE ON SEQUENCES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT UPDATE ON SEQUENCES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT TRUNCATE ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT REFERENCES ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT TRIGGER ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_opts" GRANT CREATE ON SCHEMAS TO "dbrole_admin";
\endif
