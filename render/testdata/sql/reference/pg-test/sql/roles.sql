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
ALTER ROLE "replicator" PASSWORD 'SCRAM-SHA-256$4096:F77BKfhzoJ71QBye2iWDKQ==$hsnGSw+uLKWnk3KW36y3Sw2WeOfo9L+tBUXwexjtaAM=:4WeHoHVyyQOeAcDEc/qjdOyYY/DCUyY3/9jCU3PZBwk=';
ALTER ROLE "dbuser_monitor" PASSWORD 'SCRAM-SHA-256$4096:yVXeFdoG/8f+jzngIzU9WQ==$+0gyvNqTpCk0AkrLhztznmtq9vQt7zxll6mTVmqLaws=:oYi9r1uHNS11e8Bg0uATFEHGq1foxa/MjTbwUId1IXs=';
ALTER ROLE "dbuser_dba" PASSWORD 'SCRAM-SHA-256$4096:NDs3HNoIYVE1itYLrpBRLQ==$qRAm/pP3O3Y7+DlPneFldSNENk1bmHxuBdFcN/0tewA=:vcr+jav7kKMfMpKKx6tN8hUUStI/o5fxuINl2+iBmu4=';
RESET log_statement;

-- user "test"
SET log_statement = 'none';
ALTER ROLE "test" PASSWORD 'SCRAM-SHA-256$4096:ymgYgOfUp3wBBANE22+47Q==$pKeKH1cyCp7R6IdHPf5L+oHqDjvJydPia80ZAR8Z6so=:jL38bUtKMnGIMmB4OR5bltmtd3ufEicYh4nEIOMlkkk=';
RESET log_statement;
COMMENT ON ROLE "test" IS 'owner of the test database';
GRANT "dbrole_admin" TO "test";

-- user "dbuser_test_ro"
SET log_statement = 'none';
ALTER ROLE "dbuser_test_ro" PASSWORD 'SCRAM-SHA-256$4096:0iv7lEGBIFDu4EtV7Tj2bQ==$/lesPxEr5LYObLhcb+IwkZEW21FRydJkGg1OBrutKts=:Ix2aMgP0TNe4V/0rOXmBR6RBGnFFLNuavo5edt0ERrA=';
RESET log_statement;
COMMENT ON ROLE "dbuser_test_ro" IS 'read-only test user';
GRANT "dbrole_readonly" TO "dbuser_test_ro";

-- user "dbuser_etl"
SET log_statement = 'none';
ALTER ROLE "dbuser_etl" PASSWORD 'SCRAM-SHA-256$4096:pY3uAiayfDcy84HiKGZbkA==$KFKQjL9hB39EVtfPBgrCppxbQBmcy2WoXLgEG6pyOYc=:6QnHDk7knB8YucBdPEtdAymOkBR+tU7U6CzlnKY/kcY=';
RESET log_statement;
COMMENT ON ROLE "dbuser_etl" IS 'etl jobs on the offline instance';
GRANT "dbrole_offline" TO "dbuser_etl";
