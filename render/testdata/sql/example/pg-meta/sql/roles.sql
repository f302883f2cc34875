-- pgcc: cluster pg-meta, sql/roles.sql: default roles, then users, in definition order; run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f roles.sql
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
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_meta') THEN CREATE ROLE "dbuser_meta" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_view') THEN CREATE ROLE "dbuser_view" LOGIN; END IF; END$pgcc$;

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

-- user "dbuser_meta"
SET log_statement = 'none';
ALTER ROLE "dbuser_meta" PASSWORD 'SCRAM-SHA-256$4096:3sCOt+o+vekGCVaoZPZECA==$wEaR2W5vyPCoHZiKM8de3mUJSwyuwEBOILYtO6FCjZk=:D8prQ6XPddl2H8ioiVuBff2j+D+8ERRSAgLwrW2Cfs0=';
RESET log_statement;
COMMENT ON ROLE "dbuser_meta" IS 'owner of the meta database';
GRANT "dbrole_admin" TO "dbuser_meta";

-- user "dbuser_view"
SET log_statement = 'none';
ALTER ROLE "dbuser_view" PASSWORD 'SCRAM-SHA-256$4096:hKB1AWBV58VWjg1wOQF8jQ==$UH0xBsfOSiX+N0v68KCjYWyeYsX0Z9O030h8dGG4cQw=:LGKK8CmNRtm7WzGavSIT7pQY28PZjDRaEPpKhPlPsqU=';
RESET log_statement;
COMMENT ON ROLE "dbuser_view" IS 'read-only viewer';
GRANT "dbrole_readonly" TO "dbuser_view";
