-- pgcc: cluster pg-sql, sql/db-old_db.sql: database old_db (absent); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-old_db.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- drop (state: absent)
SELECT format('ALTER DATABASE %I IS_TEMPLATE false', datname) FROM pg_catalog.pg_database WHERE datname = 'old_db' AND datistemplate \gexec
DROP DATABASE IF EXISTS "old_db" WITH (FORCE);
