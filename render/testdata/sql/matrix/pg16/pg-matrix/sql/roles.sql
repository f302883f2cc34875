-- pgcc: cluster pg-matrix, sql/roles.sql: default roles, then users, in definition order; run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f roles.sql
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
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_opts') THEN CREATE ROLE "dbuser_opts" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_moneta') THEN CREATE ROLE "dbuser_moneta" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_md5') THEN CREATE ROLE "dbuser_md5" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_nopass') THEN CREATE ROLE "dbuser_nopass" LOGIN; END IF; END$pgcc$;

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
ALTER ROLE "replicator" PASSWORD 'SCRAM-SHA-256$4096:IW88/QerhvWhGpcVZGHV5w==$BRTHI4JWm3u0zVpTQv1a//xIYuUV03OFvIVOeHwrUJA=:hcZM6Cy4L7FwjMVeNJyU6+gnfEK/kWOLU7Hf82Id/KI=';
ALTER ROLE "dbuser_monitor" PASSWORD 'SCRAM-SHA-256$4096:BVrbAwhMBJODrhfk3bK5Ng==$smk/+3W26kb9vz06xSt1D/gEpBXykDD5ntqtw5ucrjY=:O2GQTB54Nc1U0862dZ51BpX5lde7m6q+CHxg4pFYgeY=';
ALTER ROLE "dbuser_dba" PASSWORD 'SCRAM-SHA-256$4096:M8jRd5wE+3Y0f/2J0LdR0w==$5e+JfnwLO78N4S+veK2gk6I2kzy0Vghy3IwQ50f8rKc=:K/+C+PG2iThwbgORlAUumAofTYvbBlIfGEkV8CN2z7c=';
RESET log_statement;

-- user "dbuser_opts"
SET log_statement = 'none';
ALTER ROLE "dbuser_opts" PASSWORD 'SCRAM-SHA-256$4096:sO2PcvArTeppRaGtcf4fGw==$j6Fm7LeAInepwEAnSg0RaU2nncWsryRhnrTtIRyPSc4=:LEeTRi4Leu6jXCGdSp5st81TyglS1Ph0OynnW0jqiGk=';
RESET log_statement;
COMMENT ON ROLE "dbuser_opts" IS 'business user dbuser_opts';
GRANT "dbrole_readonly" TO "dbuser_opts";
GRANT "dbrole_readonly" TO "dbuser_opts" WITH ADMIN TRUE;
REVOKE SET OPTION FOR "dbrole_readonly" FROM "dbuser_opts";
GRANT "dbrole_readonly" TO "dbuser_opts" WITH INHERIT TRUE;
GRANT "dbrole_offline" TO "dbuser_opts";
REVOKE ADMIN OPTION FOR "dbrole_offline" FROM "dbuser_opts";
REVOKE "dbrole_readwrite" FROM "dbuser_opts";

-- user "dbuser_moneta"
ALTER ROLE "dbuser_moneta" REPLICATION;
SET log_statement = 'none';
ALTER ROLE "dbuser_moneta" PASSWORD 'SCRAM-SHA-256$4096:Ka9DAzVCKfcveY2u0z9CSw==$vA+KLfOZl3moSAOJNQQon/Tp9RxywJdQj9c5zLa8S8Q=:6MwhUi6qaO/9SH816AYu6DdH0wUmUFzGbzyPF71Ba7U=';
RESET log_statement;
COMMENT ON ROLE "dbuser_moneta" IS 'business user dbuser_moneta';
-- backup_tool: pgmoneta
GRANT "pg_read_server_files" TO "dbuser_moneta";
GRANT "pg_checkpoint" TO "dbuser_moneta";

-- user "dbuser_md5"
SET log_statement = 'none';
ALTER ROLE "dbuser_md5" PASSWORD 'md5a3556571e93b0d20722ba62be61e8c2d';
RESET log_statement;
ALTER ROLE "dbuser_md5" VALID UNTIL 'infinity';
COMMENT ON ROLE "dbuser_md5" IS 'business user dbuser_md5';

-- user "dbuser_nopass"
ALTER ROLE "dbuser_nopass" LOGIN;
SET log_statement = 'none';
ALTER ROLE "dbuser_nopass" PASSWORD NULL;
RESET log_statement;
ALTER ROLE "dbuser_nopass" CONNECTION LIMIT 0;
COMMENT ON ROLE "dbuser_nopass" IS 'business user dbuser_nopass';
