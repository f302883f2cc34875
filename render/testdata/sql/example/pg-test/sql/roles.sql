-- pgcc: cluster pg-test, sql/roles.sql: default roles, then users, in definition order; run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f roles.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- create phase: every role exists before any grant (sql.md §2 step 1)
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbrole_readonly') THEN CREATE ROLE "dbrole_readonly" NOLOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbrole_offline') THEN CREATE ROLE "dbrole_offline" NOLOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbrole_readwrite') THEN CREATE ROLE "dbrole_readwrite" NOLOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbrole_admin') THEN CREATE ROLE "dbrole_admin" NOLOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'postgres') THEN CREATE ROLE "postgres" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'replicator') THEN CREATE ROLE "replicator" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_dba') THEN CREATE ROLE "dbuser_dba" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_monitor') THEN CREATE ROLE "dbuser_monitor" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'test') THEN CREATE ROLE "test" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_test_ro') THEN CREATE ROLE "dbuser_test_ro" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_etl') THEN CREATE ROLE "dbuser_etl" LOGIN; END IF; END$pgcc$;

-- default role "dbrole_readonly"
ALTER ROLE "dbrole_readonly" NOLOGIN;
COMMENT ON ROLE "dbrole_readonly" IS 'role for global read-only access';

-- default role "dbrole_offline"
ALTER ROLE "dbrole_offline" NOLOGIN;
COMMENT ON ROLE "dbrole_offline" IS 'role for restricted read-only access';

-- default role "dbrole_readwrite"
ALTER ROLE "dbrole_readwrite" NOLOGIN;
COMMENT ON ROLE "dbrole_readwrite" IS 'role for global read-write access';
GRANT "dbrole_readonly" TO "dbrole_readwrite";

-- default role "dbrole_admin"
ALTER ROLE "dbrole_admin" NOLOGIN;
COMMENT ON ROLE "dbrole_admin" IS 'role for object creation';
GRANT "pg_monitor" TO "dbrole_admin";
GRANT "dbrole_readwrite" TO "dbrole_admin";

-- default role "postgres"
ALTER ROLE "postgres" SUPERUSER;
COMMENT ON ROLE "postgres" IS 'system superuser';

-- default role "replicator"
ALTER ROLE "replicator" REPLICATION;
COMMENT ON ROLE "replicator" IS 'system replicator';
GRANT "pg_monitor" TO "replicator";
GRANT "dbrole_readonly" TO "replicator";

-- default role "dbuser_dba"
ALTER ROLE "dbuser_dba" SUPERUSER;
COMMENT ON ROLE "dbuser_dba" IS 'pgsql admin user';
GRANT "dbrole_admin" TO "dbuser_dba";

-- default role "dbuser_monitor"
ALTER ROLE "dbuser_monitor" SET "log_min_duration_statement" = '1000';
COMMENT ON ROLE "dbuser_monitor" IS 'pgsql monitor user';
GRANT "pg_monitor" TO "dbuser_monitor";
GRANT "dbrole_readonly" TO "dbuser_monitor";

-- system passwords (pg_replication_password, pg_monitor_password, pg_admin_password)
SET log_statement = 'none';
ALTER ROLE "replicator" PASSWORD 'SCRAM-SHA-256$4096:3zZD8+J/BLLlWsp3xckDlA==$abaeIMkm85exF41Bacn7c/7935SRWpaZb79BLkgKRlQ=:lW1WeZJZ1GMaq49x6gTUUfQ5IDfI3qo2T0ZcAAvmYH4=';
ALTER ROLE "dbuser_monitor" PASSWORD 'SCRAM-SHA-256$4096:/+vhJxs0pENi5hCM4trg2g==$rC/uxd7hs8rkLPfD9JbwuEuDMVCs2Qo9msU5YDAni3I=:vOOUFWsoY7utsvjyR4WJC8MJcxaiIfj6Bgr1Sl4gZVg=';
ALTER ROLE "dbuser_dba" PASSWORD 'SCRAM-SHA-256$4096:b+9bG6/M/qT6LSalhioPNA==$y8Lgr8E3DO0SatEuPQTDIApCCnrlmr7d5ko89InRl2I=:AwkpjOMcAMqvylZ8bOcDbvyYh98S6tOHOpf8wHEMLB8=';
RESET log_statement;

-- user "test"
SET log_statement = 'none';
ALTER ROLE "test" PASSWORD 'SCRAM-SHA-256$4096:Pn4ACrMzuo6dKI5rberPmg==$RZX1K8idpJuaAouVW3OnBW3sIjYuqXZau1ILVH9s+EM=:auvtXoUE0YAS9/GO5t1mKfsETORhBQf9FdpQcRUpW0M=';
RESET log_statement;
COMMENT ON ROLE "test" IS 'owner of the test database';
GRANT "dbrole_admin" TO "test";

-- user "dbuser_test_ro"
SET log_statement = 'none';
ALTER ROLE "dbuser_test_ro" PASSWORD 'SCRAM-SHA-256$4096:peB8Q+8BfOCiTvVpAxk2qQ==$j93hSwIhzU98Ef+d47ZlUawXYDgw9RRAekZ7IMv/TwI=:6EuvEU97Ejuz8H8bC6TGQu55hYdPWReZwgju7Rp+v7c=';
RESET log_statement;
COMMENT ON ROLE "dbuser_test_ro" IS 'read-only test user';
GRANT "dbrole_readonly" TO "dbuser_test_ro";

-- user "dbuser_etl"
SET log_statement = 'none';
ALTER ROLE "dbuser_etl" PASSWORD 'SCRAM-SHA-256$4096:R7LJTlgdjcCFXQiw1MU0mQ==$m5nuDtU6Wi5FCKRA4oaR+5LqjiZ9SkzuLD/9iQSME8Y=:Fipz+CbQuZ8C7mRLNa7S2EETE3gGyND0yp3ce8naLA4=';
RESET log_statement;
COMMENT ON ROLE "dbuser_etl" IS 'etl jobs on the offline instance';
GRANT "dbrole_offline" TO "dbuser_etl";
