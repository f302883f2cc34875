-- pgcc: cluster pg-sql, sql/db-redo.sql: database redo (recreate); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-redo.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- drop (state: recreate)
SELECT format('ALTER DATABASE %I IS_TEMPLATE false', datname) FROM pg_catalog.pg_database WHERE datname = 'redo' AND datistemplate \gexec
DROP DATABASE IF EXISTS "redo" WITH (FORCE);

-- create when missing
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'redo') AS pgcc_created \gset
\if :pgcc_created
CREATE DATABASE "redo" OWNER "dbuser_app";
\endif

-- database settings
ALTER DATABASE "redo" OWNER TO "dbuser_app";
GRANT ALL PRIVILEGES ON DATABASE "redo" TO "dbuser_app";
COMMENT ON DATABASE "redo" IS 'business database redo';
REVOKE CREATE ON DATABASE "redo" FROM PUBLIC;
GRANT CREATE ON DATABASE "redo" TO "dbrole_admin";

-- inside the database (skipped when it does not accept connections)
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'redo' AND datallowconn) AS pgcc_ok \gset
\if :pgcc_ok
\connect "redo"
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
CREATE SCHEMA IF NOT EXISTS "scratch";
\endif
