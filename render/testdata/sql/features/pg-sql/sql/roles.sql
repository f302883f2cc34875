-- pgcc: cluster pg-sql, sql/roles.sql: default roles, then users, in definition order; run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f roles.sql
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
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_app') THEN CREATE ROLE "dbuser_app" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_ro') THEN CREATE ROLE "dbuser_ro" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_verifier') THEN CREATE ROLE "dbuser_verifier" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_group') THEN CREATE ROLE "dbuser_group" NOLOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_moneta') THEN CREATE ROLE "dbuser_moneta" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_auth') THEN CREATE ROLE "dbuser_auth" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_super') THEN CREATE ROLE "dbuser_super" LOGIN; END IF; END$pgcc$;
DO $pgcc$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dbuser_gone') THEN CREATE ROLE "dbuser_gone" LOGIN; END IF; END$pgcc$;

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

-- user "dbuser_app"
SET log_statement = 'none';
ALTER ROLE "dbuser_app" PASSWORD 'SCRAM-SHA-256$4096:BZhRqV7+2wpKTzNkupR5ew==$QIF7mWB0D4z7uDo3uxzUEHEGwrsWhVe2IMS9/obDOHI=:fylkb9dS7SQMipBwVcmX0Olms/+oMW4jjxmLp84CMus=';
RESET log_statement;
DO $pgcc$BEGIN EXECUTE format('ALTER ROLE %I VALID UNTIL %L', 'dbuser_app', (current_date + 30)::text); END$pgcc$;
ALTER ROLE "dbuser_app" CONNECTION LIMIT 10;
ALTER ROLE "dbuser_app" SET "search_path" = 'app', 'public';
ALTER ROLE "dbuser_app" SET "statement_timeout" = '30s';
ALTER ROLE "dbuser_app" SET "work_mem" = DEFAULT;
ALTER ROLE "dbuser_app" SET "auto_explain"."log_min_duration" = '1000';
COMMENT ON ROLE "dbuser_app" IS 'app''s owner';
GRANT "dbrole_readwrite" TO "dbuser_app";

-- user "dbuser_ro"
ALTER ROLE "dbuser_ro" NOCREATEDB INHERIT;
SET log_statement = 'none';
ALTER ROLE "dbuser_ro" PASSWORD 'SCRAM-SHA-256$4096:PLyEmEmVPEc0pGWfz9m74g==$seleevdJ2mZnPef5X3Wlzxu7vaw0IN/DFv6rZ8EPvdA=:FkYnFdfg5FUBp/XN3fJQUicjLBL+tKGT3Ak5d2GNRTo=';
RESET log_statement;
ALTER ROLE "dbuser_ro" VALID UNTIL '2099-12-31';
COMMENT ON ROLE "dbuser_ro" IS 'business user dbuser_ro';
GRANT "dbrole_readonly" TO "dbuser_ro";
GRANT "dbrole_readonly" TO "dbuser_ro" WITH ADMIN OPTION;
REVOKE "dbrole_offline" FROM "dbuser_ro";

-- user "dbuser_verifier"
SET log_statement = 'none';
ALTER ROLE "dbuser_verifier" PASSWORD 'SCRAM-SHA-256$4096:cGdjYy10ZXN0LXNhbHQxNg==$RbQdTFNC/PoD1ZBdNxP7iCG4sNU8pnIeRde2F+57b0w=:uSuIu8110QufqlpzTlnCtgi9H98w1STA5rR/laqJRbU=';
RESET log_statement;
COMMENT ON ROLE "dbuser_verifier" IS 'password given as a verifier';
GRANT "dbrole_readonly" TO "dbuser_verifier";

-- user "dbuser_group"
ALTER ROLE "dbuser_group" NOLOGIN;
COMMENT ON ROLE "dbuser_group" IS 'a group role';
GRANT "dbrole_readonly" TO "dbuser_group";

-- user "dbuser_moneta"
ALTER ROLE "dbuser_moneta" REPLICATION;
SET log_statement = 'none';
ALTER ROLE "dbuser_moneta" PASSWORD 'SCRAM-SHA-256$4096:Ka9DAzVCKfcveY2u0z9CSw==$vA+KLfOZl3moSAOJNQQon/Tp9RxywJdQj9c5zLa8S8Q=:6MwhUi6qaO/9SH816AYu6DdH0wUmUFzGbzyPF71Ba7U=';
RESET log_statement;
COMMENT ON ROLE "dbuser_moneta" IS 'pgmoneta backups';
-- backup_tool: pgmoneta
GRANT "pg_read_server_files" TO "dbuser_moneta";
GRANT "pg_checkpoint" TO "dbuser_moneta";

-- user "dbuser_auth"
SET log_statement = 'none';
ALTER ROLE "dbuser_auth" PASSWORD 'SCRAM-SHA-256$4096:/mh7Jpp9hBP+jwsa6ONWiQ==$j/QVeSMFBlbr0uA/uVSE1F5eKwh1mqBJX6UtFSmwxEY=:qTmne499VR7nrUC6w2vxaPjpcQWyPFLCt5WWqTjTMVY=';
RESET log_statement;
COMMENT ON ROLE "dbuser_auth" IS 'pgbouncer auth_query user';

-- user "dbuser_super"
ALTER ROLE "dbuser_super" SUPERUSER CREATEROLE BYPASSRLS;
SET log_statement = 'none';
ALTER ROLE "dbuser_super" PASSWORD 'SCRAM-SHA-256$4096:y9DrF5d4d3aj235zb3S3/g==$ApqqGQP1wJoe359ok9bt9kx3u7GaDd8VYDZ4ymxXgb8=:sXOgFTkOqtx9NUeeviue/eeEmPaZHGlMHbWbebX9vyc=';
RESET log_statement;
ALTER ROLE "dbuser_super" CONNECTION LIMIT -1;
COMMENT ON ROLE "dbuser_super" IS 'business user dbuser_super';
GRANT "dbuser_group" TO "dbuser_super";

-- user "dbuser_gone"
SET log_statement = 'none';
ALTER ROLE "dbuser_gone" PASSWORD 'SCRAM-SHA-256$4096:xHd9OJEDHl480GA8ND6A7g==$eWDx5qOP3CnNt3Pcin3VL0+PSqCm2D7UmjfC6RNWdZI=:MqjzVsFfhR+iLLyzUmgSi2HYGq4xulMVYGOqGxlWEG8=';
RESET log_statement;
COMMENT ON ROLE "dbuser_gone" IS 'business user dbuser_gone';
GRANT "dbrole_readwrite" TO "dbuser_gone";
