-- pgcc: cluster pg-test, sql/db-test.sql: database test (create); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-test.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- create when missing
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'test') AS pgcc_created \gset
\if :pgcc_created
CREATE DATABASE "test" OWNER "test";
\endif

-- database settings
ALTER DATABASE "test" OWNER TO "test";
GRANT ALL PRIVILEGES ON DATABASE "test" TO "test";
COMMENT ON DATABASE "test" IS 'test database';
REVOKE CREATE ON DATABASE "test" FROM PUBLIC;
GRANT CREATE ON DATABASE "test" TO "dbrole_admin";

-- inside the database (skipped when it does not accept connections)
SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'test' AND datallowconn) AS pgcc_ok \gset
\if :pgcc_ok
\connect "test"
SET client_min_messages = warning;
SET standard_conforming_strings = on;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO "dbrole_admin";
-- default privileges for objects the owner creates
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT USAGE ON SCHEMAS TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT SELECT ON TABLES TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT SELECT ON SEQUENCES TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT EXECUTE ON FUNCTIONS TO "dbrole_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT USAGE ON SCHEMAS TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT SELECT ON TABLES TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT SELECT ON SEQUENCES TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT EXECUTE ON FUNCTIONS TO "dbrole_offline";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT INSERT ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT UPDATE ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT DELETE ON TABLES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT USAGE ON SEQUENCES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT UPDATE ON SEQUENCES TO "dbrole_readwrite";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT TRUNCATE ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT REFERENCES ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT TRIGGER ON TABLES TO "dbrole_admin";
ALTER DEFAULT PRIVILEGES FOR ROLE "test" GRANT CREATE ON SCHEMAS TO "dbrole_admin";
\endif
