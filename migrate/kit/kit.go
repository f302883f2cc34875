// Package kit writes Pigsty-style bash scripts for the manual migration path
// (migrate.md §3 kit): the same UX as Pigsty's pg_migration role (the
// MIGRATION_CONTEXT guard, print the SQL, ask yes/no, psql -Xw), the plan's
// SQL, Pigsty's known bugs fixed, no passwords and no timestamps.
//
// The manual path is native logical replication (CREATE SUBSCRIPTION with
// copy_data = true), as in Pigsty: the parallel snapshot copy needs a
// process that holds the exported snapshot, which a shell script cannot.
package kit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// Scripts lists every script in the order an operator runs them.
var Scripts = []string{
	"activate", "check-user", "check-db", "check-hba", "check-repl", "check-misc",
	"copy-schema", "create-pub", "create-sub", "copy-progress", "copy-diff", "copy-seq",
	"disable-src", "re-routing", "enable-src", "drop-sub", "drop-pub",
}

var q = plan.ShellQuote

// manualCfg is cfg switched to the native subscription path.
func manualCfg(cfg *config.Config) *config.Config {
	c := *cfg
	c.Copy.Method = "subscription"
	return &c
}

// Files returns every script by name. Deterministic; no password: the URLs
// and conninfo lose theirs, and create-sub reads PGMIGRATE_REPL_PASSWORD.
func Files(cfg *config.Config) map[string][]byte {
	m := manualCfg(cfg)
	out := map[string][]byte{}
	for _, name := range Scripts {
		var body string
		switch name {
		case "activate":
			body = activate(m)
		case "check-user":
			body = checkUser(m)
		case "check-db":
			body = checkDB(m)
		case "check-hba":
			body = checkHBA(m)
		case "check-repl":
			body = checkRepl(m)
		case "check-misc":
			body = checkMisc(m)
		case "copy-schema":
			body = copySchema(m)
		case "create-pub":
			body = createPub(m)
		case "create-sub":
			body = createSub(m)
		case "copy-progress":
			body = copyProgress(m)
		case "copy-diff":
			body = copyDiff(m)
		case "copy-seq":
			body = copySeq(m)
		case "disable-src":
			body = disableSrc(m)
		case "enable-src":
			body = enableSrc(m)
		case "re-routing":
			body = reRouting(m)
		case "drop-sub":
			body = dropSub(m)
		case "drop-pub":
			body = dropPub(m)
		}
		out[name] = []byte(body)
	}
	return out
}

var descs = map[string]string{
	"activate":      "activate the migration context (source it: . activate)",
	"check-user":    "list the source's users for the destination's pg_users",
	"check-db":      "list the source's databases for the destination's pg_databases",
	"check-hba":     "list the source's HBA rules",
	"check-repl":    "check replica identities and propose fixes",
	"check-misc":    "list special objects (sequences, views, foreign tables, large objects …)",
	"copy-schema":   "dump the source schema and load it into the destination",
	"create-pub":    "create pgmigrate's objects and the publication on the source",
	"create-sub":    "create the subscription on the destination (copy_data = true)",
	"copy-progress": "print the initial copy's progress per table",
	"copy-diff":     "compare row counts and sequences on both sides",
	"copy-seq":      "copy sequences to the destination, n ahead (default seq_offset)",
	"disable-src":   "seal the source: writes fail, new sessions are refused, open ones ended",
	"enable-src":    "undo disable-src",
	"re-routing":    "switch application traffic to the destination",
	"drop-sub":      "drop the subscription on the destination",
	"drop-pub":      "drop the publication on the source",
}

func header(cfg *config.Config, name string) string {
	var b strings.Builder
	if name == "activate" {
		b.WriteString("# shellcheck shell=bash\n")
	} else {
		b.WriteString("#!/usr/bin/env bash\n")
	}
	b.WriteString("#==============================================================#\n")
	fmt.Fprintf(&b, "# File      :   %s\n", name)
	fmt.Fprintf(&b, "# Desc      :   %s\n", descs[name])
	fmt.Fprintf(&b, "# Migration :   %s\n", cfg.Names.ID)
	b.WriteString("# Generated :   pgmigrate kit (deterministic: no timestamps, no passwords)\n")
	b.WriteString("#==============================================================#\n")
	// SC2317: the shared helpers are not all used by every script.
	// SC2016, SC1003: names from the migration file are single-quoted
	// literals on purpose ($ and \ must not expand).
	b.WriteString("# shellcheck disable=SC2317,SC2016,SC1003\n")
	b.WriteString(utils)
	return b.String()
}

const utils = `
#--------------------------------------------------------------#
# Utils
#--------------------------------------------------------------#
__CN='\033[0m';__CR='\033[0;31m';__CG='\033[0;32m';__CY='\033[0;33m';__CB='\033[0;34m';__CM='\033[0;35m'
log_info()  { printf '[%b OK %b] %b%s%b\n' "${__CG}" "${__CN}" "${__CG}" "$*" "${__CN}"; }
log_warn()  { printf '[%bWARN%b] %b%s%b\n' "${__CY}" "${__CN}" "${__CY}" "$*" "${__CN}"; }
log_error() { printf '[%bFAIL%b] %b%s%b\n' "${__CR}" "${__CN}" "${__CR}" "$*" "${__CN}"; }
log_debug() { printf '[%bHINT%b] %b%s%b\n' "${__CB}" "${__CN}" "${__CB}" "$*" "${__CN}"; }
log_input() { printf '[%b IN %b] %b%s\n=> %b' "${__CM}" "${__CN}" "${__CM}" "$*" "${__CN}"; }
log_hint()  { printf '%b%s%b\n' "${__CB}" "$*" "${__CN}"; }
`

// guard is Pigsty's MIGRATION_CONTEXT check plus strict mode.
func guard(cfg *config.Config) string {
	return `
#--------------------------------------------------------------#
# Param
#--------------------------------------------------------------#
set -euo pipefail
umask 077
EXPECTED_CONTEXT=` + q(cfg.Names.ID) + `
if [[ "${MIGRATION_CONTEXT:-}" != "${EXPECTED_CONTEXT}" ]]; then
    log_error "MIGRATION_CONTEXT = ${MIGRATION_CONTEXT:-} != EXPECTED ${EXPECTED_CONTEXT}"
    log_hint "did you run . activate first?"
    exit 1
fi
SRCPG="${SRCPG:?run . activate first}"
DSTPG="${DSTPG:?run . activate first}"
cd "${DIRPATH:?run . activate first}"
mkdir -p data log

# ask QUESTION: true when the operator answers yes
ask() {
    local reply
    log_input "$1 (yes/no) >"
    read -r reply || true
    case "${reply}" in
        [yY][eE][sS]|[yY]) return 0 ;;
        *) return 1 ;;
    esac
}
`
}

// heredoc writes sql into file via a quoted heredoc (no shell expansion).
func heredoc(file, sql string) string {
	return "cat > " + file + " <<'PGMIGRATE_SQL'\n" + strings.TrimRight(sql, "\n") + "\nPGMIGRATE_SQL\n"
}

func activate(cfg *config.Config) string {
	src := cfg.Src().WithoutPassword()
	dst := cfg.Dst().WithoutPassword()
	n := cfg.Names
	return header(cfg, "activate") + `
#--------------------------------------------------------------#
# Param (no passwords: psql -w uses PGPASSWORD or ~/.pgpass)
#--------------------------------------------------------------#
export SRCCLS=` + q(cfg.SrcCls) + `
export SRCDB=` + q(cfg.SrcDB) + `
export SRCIP=` + q(cfg.SrcIP) + `
export SRCPG=` + q(src.String()) + `
export PUBNAME=` + q(n.Pub) + `
export DSTCLS=` + q(cfg.DstCls) + `
export DSTDB=` + q(cfg.DstDB) + `
export DSTIP=` + q(cfg.DstIP) + `
export DSTPG=` + q(dst.String()) + `
export SUBNAME=` + q(n.Sub) + `
export SLOTNAME=` + q(n.Slot) + `
export SUBCONN=` + q(cfg.SubConninfo().Without("password").Secret()) + `
DIRPATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DIRPATH
export MIGRATION_CONTEXT="${SRCCLS}.${SRCDB}"

#--------------------------------------------------------------#
# Print
#--------------------------------------------------------------#
log_info "activate migration context for ${MIGRATION_CONTEXT}"
log_info "  - SRC      :  ${SRCCLS}.${SRCDB} : ${SRCIP}"
log_info "  - DST      :  ${DSTCLS}.${DSTDB} : ${DSTIP}"
log_info "  - SRC URL  :  ${SRCPG}"
log_info "  - DST URL  :  ${DSTPG}"
log_info "  - PUB/SUB  :  ${PUBNAME} ---> ${SUBNAME} (slot ${SLOTNAME})"
log_info "  - SUBCONN  :  ${SUBCONN}"
log_info "  - CONTEXT  :  ${DIRPATH}"
log_info "  - MANUAL   :  ${DIRPATH}/plan/README.md (pgmigrate plan)"
cd "${DIRPATH}" || return 1
`
}

// psqlRun runs a SQL file on a side, with the plan's error policy.
func psqlFile(urlVar, file string) string {
	return `psql "${` + urlVar + `}" -Xw -v ON_ERROR_STOP=1 -f ` + file
}

func loadBlock(question, urlVar, file, side string) string {
	shown := "psql '${" + urlVar + "}' -Xw -v ON_ERROR_STOP=1 -f " + strings.Trim(file, `"`)
	return `
#--------------------------------------------------------------#
# Execute (with explicit asking)
#--------------------------------------------------------------#
log_warn "check the SQL above before running it on the ` + side + `"
if ask ` + q(question) + `; then
    log_debug "$ ` + shown + `"
    ` + psqlFile(urlVar, file) + `
    exit 0
fi
log_info "you can examine it and run it later with:"
log_debug "$ ` + shown + `"
exit 1
`
}

// skipNames are the roles check-user omits (Pigsty: dbsu, replicator,
// monitor, admin) — taken from the migration file, not hard-coded.
func skipNames(cfg *config.Config) []string {
	set := map[string]bool{cfg.PgDbsu: true, cfg.ReplUser: true, cfg.MonitorUser: true, cfg.AdminUser: true}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkUser(cfg *config.Config) string {
	// Fixed: Pigsty tests array_length(roles, 0), which is always NULL, so
	// every user got the default role instead of its real memberships.
	sql := `SELECT json_build_object('pg_users', coalesce(json_agg(jsonb_build_object('name', name) ||
         CASE WHEN name ~ '^dbuser_.*' THEN '{"pgbouncer": true}'::jsonb ELSE '{}'::jsonb END ||
         CASE WHEN password IS NOT NULL THEN jsonb_build_object('password', password) ELSE '{}'::jsonb END ||
         CASE WHEN NOT login THEN jsonb_build_object('login', login) ELSE '{}'::jsonb END ||
         CASE WHEN superuser THEN jsonb_build_object('superuser', superuser) ELSE '{}'::jsonb END ||
         CASE WHEN createdb THEN jsonb_build_object('createdb', createdb) ELSE '{}'::jsonb END ||
         CASE WHEN createrole THEN jsonb_build_object('createrole', createrole) ELSE '{}'::jsonb END ||
         CASE WHEN NOT inherit THEN jsonb_build_object('inherit', inherit) ELSE '{}'::jsonb END ||
         CASE WHEN replication THEN jsonb_build_object('replication', replication) ELSE '{}'::jsonb END ||
         CASE WHEN bypassrls THEN jsonb_build_object('bypassrls', bypassrls) ELSE '{}'::jsonb END ||
         CASE WHEN connlimit <> -1 THEN jsonb_build_object('connlimit', connlimit) ELSE '{}'::jsonb END ||
         CASE WHEN expire_at IS NOT NULL AND expire_at > now()::date::text THEN jsonb_build_object('expire_at', expire_at) ELSE '{}'::jsonb END ||
         CASE WHEN parameters IS NOT NULL THEN jsonb_build_object('parameters', parameters) ELSE '{}'::jsonb END ||
         CASE WHEN cardinality(roles) > 0 THEN jsonb_build_object('roles', roles)
              WHEN name ~ '^dbuser_.*' THEN '{"roles": ["dbrole_readwrite"]}'::jsonb
              ELSE '{"roles": ["dbrole_offline"]}'::jsonb END ||
         CASE WHEN comment IS NOT NULL AND comment <> '' THEN jsonb_build_object('comment', comment) ELSE '{}'::jsonb END
         ORDER BY name), '[]'::json))
FROM (SELECT r.rolname AS name, a.rolpassword AS password, r.rolcanlogin AS login, r.rolsuper AS superuser,
             r.rolcreatedb AS createdb, r.rolcreaterole AS createrole, r.rolinherit AS inherit,
             r.rolreplication AS replication, r.rolbypassrls AS bypassrls, r.rolconnlimit AS connlimit,
             r.rolvaliduntil::date::text AS expire_at,
             (SELECT json_object_agg(split_part(cfg, '=', 1), substr(cfg, strpos(cfg, '=') + 1))
                FROM pg_catalog.pg_db_role_setting rs, unnest(rs.setconfig) p(cfg)
               WHERE rs.setrole = r.oid AND rs.setdatabase = 0) AS parameters,
             ARRAY(SELECT b.rolname::text FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles b ON m.roleid = b.oid
                    WHERE m.member = r.oid ORDER BY 1) AS roles,
             pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment
      FROM pg_catalog.pg_roles r LEFT JOIN pg_catalog.pg_authid a ON r.oid = a.oid
      WHERE r.rolname !~ '^pg_' AND r.rolname !~ '^dbrole_'
        AND r.rolname NOT IN (` + sqltext.LiteralList(skipNames(cfg)) + `)) u;
`
	return sourceCheck(cfg, "check-user", "data/pg_users.json", sql, `#--------------------------------------------------------------#
# Execute
#--------------------------------------------------------------#
`, "check src users", "-AXtw", " (pg_users for the destination; passwords are SCRAM verifiers)")
}

// sourceCheck is a check-* script that writes sql to data/<name>.sql, runs
// it on the source with psql's flags into output and shows the result.
// banner precedes the run; note follows "<name> result".
func sourceCheck(cfg *config.Config, name, output, sql, banner, title, flags, note string) string {
	return header(cfg, name) + guard(cfg) + `
OUTPUT="` + output + `"
SQLFILE="data/` + name + `.sql"
` + heredoc(`"${SQLFILE}"`, sql) + "\n" + banner + `log_info "` + title + `: ${SRCCLS}.${SRCDB}"
log_info "  - SRC URL : ${SRCPG}"
log_info "  - OUTPUT  : ${OUTPUT}"
psql "${SRCPG}" ` + flags + ` -v ON_ERROR_STOP=1 -f "${SQLFILE}" -o "${OUTPUT}"
log_info "` + name + ` result` + note + `:"
cat "${OUTPUT}"
`
}

func checkDB(cfg *config.Config) string {
	sql := `SELECT json_build_object('pg_databases', coalesce(json_agg(jsonb_build_object('name', d.datname, 'owner', pg_catalog.pg_get_userbyid(d.datdba),
         'encoding', pg_catalog.pg_encoding_to_char(d.encoding), 'lc_collate', d.datcollate, 'lc_ctype', d.datctype,
         'connlimit', d.datconnlimit, 'allowconn', d.datallowconn) ||
         CASE WHEN pg_catalog.shobj_description(d.oid, 'pg_database') IS NOT NULL
              THEN jsonb_build_object('comment', pg_catalog.shobj_description(d.oid, 'pg_database')) ELSE '{}'::jsonb END
         ORDER BY d.datname), '[]'::json))
FROM pg_catalog.pg_database d
WHERE NOT d.datistemplate AND d.datname <> 'postgres';
SELECT json_build_object('extensions', coalesce(json_agg(json_build_object('name', extname, 'version', extversion, 'schema', extnamespace::regnamespace::text) ORDER BY extname), '[]'::json))
FROM pg_catalog.pg_extension;
`
	return sourceCheck(cfg, "check-db", "data/pg_databases.json", sql, "", "check src databases", "-AXtw", "")
}

func checkHBA(cfg *config.Config) string {
	sql := `SELECT line_number, type, database, user_name, address, netmask, auth_method, options, error
FROM pg_catalog.pg_hba_file_rules ORDER BY line_number;
`
	return sourceCheck(cfg, "check-hba", "data/hba.data", sql, "", "check src hba rules", "-Xw",
		" (the destination needs a rule for the subscription: host ${SRCDB} <repl user> ${DSTIP}/32)")
}

func checkRepl(cfg *config.Config) string {
	// Fixed: Pigsty proposed any unique index (nullable, partial or
	// expression ones fail) and checked only plain tables.
	report := plan.TablesCTE(cfg) + `SELECT format('%I.%I', n.nspname, l.relname) AS name,
       CASE l.relreplident WHEN 'd' THEN 'default' WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full' WHEN 'i' THEN 'index' END AS identity,
       f.keyed AS publishable, pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(l.oid)) AS size
FROM pgm_leaf f JOIN pg_catalog.pg_class l ON l.oid = f.relid JOIN pg_catalog.pg_namespace n ON n.oid = l.relnamespace
ORDER BY f.keyed, n.nspname COLLATE "C", l.relname COLLATE "C";
`
	fix := plan.FixIdentityGenerator(cfg) + ";\n"
	return header(cfg, "check-repl") + guard(cfg) + `
CHECK_RESULT="data/check-replica-identity.data"
CHECK_SOLUTION="data/fix-replica-identity.sql"
` + heredoc(`"data/check-repl.sql"`, report) + heredoc(`"data/check-repl-fix.sql"`, fix) + `
log_info "check src table replica identity: ${SRCCLS}.${SRCDB}"
log_info "  - SRC URL  : ${SRCPG}"
log_info "  - OUTPUT   : ${CHECK_RESULT}"
psql "${SRCPG}" -Xw -v ON_ERROR_STOP=1 -f data/check-repl.sql -o "${CHECK_RESULT}"
log_info "check-repl result (publishable = f: never published until fixed):"
cat "${CHECK_RESULT}"

log_info "generate replica identity fix sql on ${CHECK_SOLUTION}"
psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -f data/check-repl-fix.sql | sed -e 's/$/;/' > "${CHECK_SOLUTION}"
log_info "check-repl fix suggestion (USING INDEX only for qualifying indexes, else FULL):"
cat "${CHECK_SOLUTION}"
log_info "you can fix replica identity by running:"
log_hint "    $ psql '${SRCPG}' -Xw -v ON_ERROR_STOP=1 -f ${CHECK_SOLUTION}"
`
}

func checkMisc(cfg *config.Config) string {
	excl := strings.Join(plan.SchemaExcludeSQL(cfg, "n.nspname"), "\n  AND ")
	sql := `SELECT c.relkind, format('%I.%I', n.nspname, c.relname) AS name,
       CASE c.relpersistence WHEN 'u' THEN 'unlogged' WHEN 't' THEN 'temp' ELSE '' END AS persistence,
       pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) AS size
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid
WHERE (c.relkind NOT IN ('r', 'i', 'v', 'S', 'I', 'c', 't') OR c.relpersistence <> 'p')
  AND ` + excl + `
ORDER BY 1, 2;
SELECT count(*) AS large_objects FROM pg_catalog.pg_largeobject_metadata;
`
	return sourceCheck(cfg, "check-misc", "data/misc.data", sql, "", "check misc objects", "-Xw",
		" (m: matview, p: partitioned, f: foreign; unlogged tables arrive empty; large objects are not replicated)")
}

func copySchema(cfg *config.Config) string {
	// Fixed: Pigsty ran pg_dump -c (its DROPs fail on an empty destination)
	// and loaded without ON_ERROR_STOP, so half a schema looked like success.
	args := strings.Join(shellWords(plan.PgDumpArgs(cfg)), " ")
	return header(cfg, "copy-schema") + guard(cfg) + `
DUMPFILE="data/schema.dump"
SQLFILE="data/schema.sql"
DUMP_ARGS=(` + args + `)

#--------------------------------------------------------------#
# Dump Schema (custom format; pgmigrate's own objects filtered out)
#--------------------------------------------------------------#
log_info "dump src schema: ${SRCCLS}.${SRCDB}"
log_info "  - SRC URL  : ${SRCPG}"
log_info "  - SQL FILE : ${SQLFILE}"
log_debug "pg_dump ${DUMP_ARGS[*]} -f ${DUMPFILE} -d ${SRCPG}"
pg_dump "${DUMP_ARGS[@]}" -f "${DUMPFILE}" -d "${SRCPG}"
pg_restore -l "${DUMPFILE}" | grep -v -E ` + q(plan.TOCFilterRegex) + ` > data/schema.list
pg_restore --use-list=data/schema.list -f "${SQLFILE}" "${DUMPFILE}"
` + heredoc("data/marker.sql", plan.MarkerSQL()) + `
#--------------------------------------------------------------#
# Print Schema
#--------------------------------------------------------------#
log_warn "check the dumped schema before loading it into the destination"
log_info "grep CREATE ${SQLFILE} results:"
grep CREATE "${SQLFILE}" || true

#--------------------------------------------------------------#
# Load Schema (with explicit asking)
#--------------------------------------------------------------#
if ask "load schema to dst ?"; then
    log_info "load dst schema: ${DSTCLS}.${DSTDB}"
    log_info "  - DST URL  : ${DSTPG}"
    log_debug "$ psql '${DSTPG}' -Xw -v ON_ERROR_STOP=1 --single-transaction -f ${SQLFILE}"
    psql "${DSTPG}" -Xqw -v ON_ERROR_STOP=1 --single-transaction -f "${SQLFILE}"
    psql "${DSTPG}" -Xqw -v ON_ERROR_STOP=1 -f data/marker.sql
    exit 0
fi
log_info "you can examine it and load it later with:"
log_debug "$ psql '${DSTPG}' -Xw -v ON_ERROR_STOP=1 --single-transaction -f ${SQLFILE}"
exit 1
`
}

func shellWords(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = q(a)
	}
	return out
}

func createPub(cfg *config.Config) string {
	// Fixed: Pigsty published every table; one without primary key or
	// replica identity then rejects UPDATE and DELETE on the source.
	sql := plan.PrepareSourceSQL(cfg, true) + plan.CreatePubGenerator(cfg) + " \\gexec\n"
	return header(cfg, "create-pub") + guard(cfg) + `
SQLFILE="data/create-pub.sql"
log_info "generate create publication sql on ${SQLFILE} (the plan's steps prepare-source and create-pub)"
` + heredoc(`"${SQLFILE}"`, sql) + `
cat "${SQLFILE}"
log_info "tables that will be published:"
` + heredoc("data/create-pub-list.sql", plan.PublishedRelsSQL(cfg)+";\n") + `psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -f data/create-pub-list.sql
` + loadBlock("create publication on src ?", "SRCPG", `"${SQLFILE}"`, "source")
}

func createSub(cfg *config.Config) string {
	sql := `\if :{?pw}
SELECT pg_catalog.set_config('pgmigrate.repl_password', :'pw', false) IS NOT NULL AS password_set;
\endif
` + plan.CreateSubGenerator(cfg) + " \\gexec\n"
	return header(cfg, "create-sub") + guard(cfg) + `
SQLFILE="data/create-sub.sql"
log_info "generate create subscription sql on ${SQLFILE}"
` + heredoc(`"${SQLFILE}"`, sql) + `
cat "${SQLFILE}"
PWARGS=()
if [[ -n "${PGMIGRATE_REPL_PASSWORD:-}" ]]; then
    log_info "the subscription's password comes from PGMIGRATE_REPL_PASSWORD"
    PWARGS=(-v "pw=${PGMIGRATE_REPL_PASSWORD}")
else
    log_warn "PGMIGRATE_REPL_PASSWORD is unset: the subscription connects without a password (pgpass on the destination server)"
fi

log_warn "check the SQL above before running it on the destination"
if ask "create subscription on dst ?"; then
    log_debug "$ psql '${DSTPG}' -Xw -v ON_ERROR_STOP=1 -f ${SQLFILE}"
    psql "${DSTPG}" -Xw -v ON_ERROR_STOP=1 "${PWARGS[@]}" -f "${SQLFILE}"
    exit 0
fi
log_info "you can examine it and run it later with:"
log_debug "$ psql '${DSTPG}' -Xw -v ON_ERROR_STOP=1 -f ${SQLFILE}"
exit 1
`
}

func copyProgress(cfg *config.Config) string {
	sub := sqltext.Literal(cfg.Names.Sub)
	return header(cfg, "copy-progress") + guard(cfg) + `
log_info "logical replication progress: ${SRCCLS}.${SRCDB} -> ${DSTCLS}.${DSTDB}"
log_info "  - SRC URL : ${SRCPG}"
log_info "  - DST URL : ${DSTPG}"
` + heredoc("data/copy-progress.sql", `SELECT format('%I.%I', n.nspname, c.relname), r.srsubstate
FROM pg_catalog.pg_subscription_rel r JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid
JOIN pg_catalog.pg_class c ON c.oid = r.srrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE s.subname = `+sub+`
ORDER BY 1;
`) + heredoc("data/table-size.sql", "SELECT pg_catalog.pg_table_size(:'tbl'::regclass);\n") + heredoc("data/lag.sql", plan.LagSQL(cfg)+";\n") + `
total=0
ready=0
while IFS='|' read -r table state; do
    [[ -n "${table}" ]] || continue
    total=$((total + 1))
    src_size=$(psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -v "tbl=${table}" -f data/table-size.sql)
    dst_size=$(psql "${DSTPG}" -AXtw -v ON_ERROR_STOP=1 -v "tbl=${table}" -f data/table-size.sql)
    percent=100
    if [[ "${state}" != "r" && "${src_size}" != "0" ]]; then
        percent=$((dst_size * 100 / src_size))
    fi
    [[ "${state}" == "r" ]] && ready=$((ready + 1))
    echo "${table} [state ${state}] [${dst_size} / ${src_size} bytes] : ${percent}%"
done < <(psql "${DSTPG}" -AXtw -v ON_ERROR_STOP=1 -f data/copy-progress.sql)
log_info "${ready} of ${total} tables ready (r); lag on the source slot (bytes, active, wal_status):"
psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -f data/lag.sql
`
}

func copyDiff(cfg *config.Config) string {
	// Fixed: Pigsty compared currval(), which fails in a new session; this
	// compares pg_sequences.last_value and requires the destination to be
	// at or past the source in the sequence's direction.
	return header(cfg, "copy-diff") + guard(cfg) + `
log_info "diff src & dst: ${SRCCLS}.${SRCDB} : ${DSTCLS}.${DSTDB}"
log_info "  - SRC URL : ${SRCPG}"
log_info "  - DST URL : ${DSTPG}"
` + heredoc("data/copy-diff-tables.sql", strings.TrimSuffix(plan.PublishedRelsSQL(cfg), "\n")+";\n") +
		heredoc("data/copy-diff-count.sql", "SELECT count(*) FROM :\"sch\".:\"tbl\";\n") +
		heredoc("data/copy-diff-seq.sql", plan.SequencesSQL(cfg)+";\n") +
		heredoc("data/copy-diff-seqval.sql", "SELECT coalesce(last_value::text, 'null') FROM pg_catalog.pg_sequences WHERE schemaname = :'sch' AND sequencename = :'seq';\n") + `
fail=0
while IFS='|' read -r sch tbl; do
    [[ -n "${tbl}" ]] || continue
    res1=$(psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -v "sch=${sch}" -v "tbl=${tbl}" -f data/copy-diff-count.sql)
    res2=$(psql "${DSTPG}" -AXtw -v ON_ERROR_STOP=1 -v "sch=${sch}" -v "tbl=${tbl}" -f data/copy-diff-count.sql)
    if [[ "${res1}" == "${res2}" ]]; then
        log_info "[PASS] ${sch}.${tbl} ${res1}"
    else
        log_error "[FAIL] ${sch}.${tbl} [SRC=${res1}] [DST=${res2}]"
        fail=1
    fi
done < <(psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -f data/copy-diff-tables.sql)

while IFS='|' read -r sch seq last inc _; do
    [[ -n "${seq}" ]] || continue
    [[ -n "${last}" ]] || { log_info "[PASS] ${sch}.${seq} never used"; continue; }
    res2=$(psql "${DSTPG}" -AXtw -v ON_ERROR_STOP=1 -v "sch=${sch}" -v "seq=${seq}" -f data/copy-diff-seqval.sql)
    if [[ -z "${res2}" || "${res2}" == "null" ]]; then
        log_error "[FAIL] ${sch}.${seq} [SRC=${last}] [DST=${res2:-missing}]"
        fail=1
    elif (( inc >= 0 && res2 >= last )) || (( inc < 0 && res2 <= last )); then
        log_info "[PASS] ${sch}.${seq} [SRC=${last}] [DST=${res2}]"
    else
        log_error "[FAIL] ${sch}.${seq} [SRC=${last}] [DST=${res2}] (destination behind: run copy-seq)"
        fail=1
    fi
done < <(psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -f data/copy-diff-seq.sql)
exit "${fail}"
`
}

func copySeq(cfg *config.Config) string {
	// Fixed: Pigsty added the shift whatever the sign of the increment
	// (a descending sequence went backwards) and defaulted it to 0.
	gen := `SELECT format('SELECT pg_catalog.setval(%L, %s, true);', format('%I.%I', s.schemaname, s.sequencename),
              s.last_value + sign(s.increment_by)::int8 * :'shift'::int8)
FROM (` + strings.TrimSuffix(plan.SequencesSQL(cfg), "\n") + `) s
WHERE s.last_value IS NOT NULL;
`
	return header(cfg, "copy-seq") + guard(cfg) + `
# arg1: the distance to move every sequence ahead (in its direction), default seq_offset
SEQ_SHIFT="${1:-` + strconv.FormatInt(cfg.SeqOffset, 10) + `}"
if ! [[ "${SEQ_SHIFT}" =~ ^[0-9]+$ ]]; then
    log_error "shift must be a non-negative integer"
    exit 1
fi
DUMP_SQL="data/seq-query.sql"
LOAD_SQL="data/copy-seq.sql"
` + heredoc(`"${DUMP_SQL}"`, gen) + `
log_info "dump src sequences from ${SRCCLS}.${SRCDB}, ${SEQ_SHIFT} ahead"
log_info "  - SRC URL : ${SRCPG}"
log_info "  - OUTPUT  : ${LOAD_SQL}"
psql "${SRCPG}" -qAXtw -v ON_ERROR_STOP=1 -v "shift=${SEQ_SHIFT}" -f "${DUMP_SQL}" -o "${LOAD_SQL}"
cat "${LOAD_SQL}"
` + loadBlock("load sequences to dst ?", "DSTPG", `"${LOAD_SQL}"`, "destination")
}

func disableSrc(cfg *config.Config) string {
	db := sqltext.Ident(cfg.SrcDB)
	sql := `-- the seal (migrate.md §5.1): the fence triggers raise 25006 from now on,
-- new non-superuser sessions are refused, and open sessions are ended.
SELECT pg_catalog.setval('pgmigrate.seal', 1, true);
ALTER DATABASE ` + db + ` CONNECTION LIMIT 0;
SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
WHERE datname = current_database() AND pid <> pg_catalog.pg_backend_pid()
  AND backend_type = 'client backend' AND application_name NOT LIKE 'pgmigrate/%';
`
	return header(cfg, "disable-src") + guard(cfg) + `
SQLFILE="data/disable-src.sql"
` + heredoc("data/connlimit.sql", "SELECT datconnlimit FROM pg_catalog.pg_database WHERE datname = current_database();\n") + `
if [[ ! -f data/connlimit.orig ]]; then
    psql "${SRCPG}" -AXtw -v ON_ERROR_STOP=1 -f data/connlimit.sql > data/connlimit.orig
fi
log_info "the source's connection limit is saved in data/connlimit.orig ($(cat data/connlimit.orig))"
` + heredoc(`"${SQLFILE}"`, sql) + `cat "${SQLFILE}"
` + loadBlock("seal the source (writes fail from now on) ?", "SRCPG", `"${SQLFILE}"`, "source")
}

func enableSrc(cfg *config.Config) string {
	db := sqltext.Ident(cfg.SrcDB)
	return header(cfg, "enable-src") + guard(cfg) + `
SQLFILE="data/enable-src.sql"
LIMIT="-1"
if [[ -f data/connlimit.orig ]]; then
    LIMIT="$(cat data/connlimit.orig)"
fi
if ! [[ "${LIMIT}" =~ ^-?[0-9]+$ ]]; then
    log_error "data/connlimit.orig does not hold a number"
    exit 1
fi
` + heredoc(`"${SQLFILE}"`, `SELECT pg_catalog.setval('pgmigrate.seal', 0, true);
ALTER DATABASE `+db+` CONNECTION LIMIT :limit;
`) + `cat "${SQLFILE}"
log_warn "check the SQL above before running it on the source (connection limit ${LIMIT})"
if ask "unseal the source ?"; then
    psql "${SRCPG}" -Xw -v ON_ERROR_STOP=1 -v "limit=${LIMIT}" -f "${SQLFILE}"
    rm -f data/connlimit.orig
    exit 0
fi
exit 1
`
}

func reRouting(cfg *config.Config) string {
	sw := cfg.Switch
	dst := cfg.Dst()
	var body string
	switch sw.Mechanism {
	case "command":
		body = `
export PGMIGRATE_ID=` + q(cfg.Names.ID) + `
export PGMIGRATE_DST_HOST=` + q(dst.Host()) + `
export PGMIGRATE_DST_PORT=` + q(strconv.Itoa(dst.Port())) + `
export PGMIGRATE_DST_DB=` + q(cfg.DstDB) + `
log_info "switch command: "` + q(sw.Command.Run) + `
if ask "run the switch command ?"; then
    timeout ` + q(fmt.Sprintf("%ds", int(sw.Command.Timeout.D().Seconds()+0.999))) + ` bash -c ` + q(sw.Command.Run) + `
    exit 0
fi
exit 1
`
	case "pgbouncer":
		var b strings.Builder
		b.WriteString(`
# For each pgbouncer: PAUSE, rewrite the [databases] line (original kept in
# data/pgbouncer-<n>.orig), RELOAD, RESUME.
if ! ask "re-route pgbouncer traffic to the destination ?"; then
    exit 1
fi
`)
		for i, e := range sw.Pgbouncer {
			u, _ := config.ParseURL(e.AdminURL)
			admin := u.WithoutPassword().String()
			ci, _ := config.ParseConninfo(e.Target)
			line := e.Database + " = " + ci.Secret()
			run := func(cmd string) string {
				if e.SSH == "" {
					return cmd
				}
				return "ssh -o BatchMode=yes " + q(e.SSH) + " " + q(cmd)
			}
			esc := strings.NewReplacer(`\`, `\\`, `/`, `\/`, `&`, `\&`).Replace(line)
			sedCmd := "sed -i.pgmigrate " + q(`s/^[[:space:]]*`+regexpQuote(e.Database)+`[[:space:]]*=.*$/`+esc+`/`) + " " + q(e.ConfigFile)
			fmt.Fprintf(&b, `
log_info "pgbouncer %d: %s (database %s)"
ADMIN%d=%s
psql "${ADMIN%d}" -Xw -c %s
%s > data/pgbouncer-%d.orig
%s
psql "${ADMIN%d}" -Xw -c 'RELOAD'
psql "${ADMIN%d}" -Xw -c %s
`, i, admin, e.Database, i, q(admin), i, q("PAUSE "+e.Database),
				run("grep -E "+q(`^[[:space:]]*`+regexpQuote(e.Database)+`[[:space:]]*=`)+" "+q(e.ConfigFile)), i,
				run(sedCmd), i, i, q("RESUME "+e.Database))
		}
		body = b.String()
	default:
		body = `
log_warn "switch.mechanism is none: switch application traffic to ${DSTCLS}.${DSTDB} (` + dst.Host() + `:` + strconv.Itoa(dst.Port()) + `) yourself"
log_hint "e.g. DNS, VIP, HAProxy or pgbouncer; then run copy-diff and, after the last change, drop-sub and drop-pub"
printf '%s\n' ` + q("SWITCH TRAFFIC TO "+cfg.DstCls+"."+cfg.DstDB+" NOW") + `
`
	}
	return header(cfg, "re-routing") + guard(cfg) + body
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.^$|()[]{}*+?/`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func dropSub(cfg *config.Config) string {
	id := sqltext.Ident(cfg.Names.Sub)
	sql := `ALTER SUBSCRIPTION ` + id + ` DISABLE;
DROP SUBSCRIPTION ` + id + `;
`
	return header(cfg, "drop-sub") + guard(cfg) + `
SQLFILE="data/drop-sub.sql"
` + heredoc(`"${SQLFILE}"`, sql) + `cat "${SQLFILE}"
` + loadBlock("drop subscription on dst ?", "DSTPG", `"${SQLFILE}"`, "destination")
}

func dropPub(cfg *config.Config) string {
	sql := `DROP PUBLICATION IF EXISTS ` + sqltext.Ident(cfg.Names.Pub) + `;
`
	return header(cfg, "drop-pub") + guard(cfg) + `
SQLFILE="data/drop-pub.sql"
` + heredoc(`"${SQLFILE}"`, sql) + `cat "${SQLFILE}"
` + loadBlock("drop publication on src ?", "SRCPG", `"${SQLFILE}"`, "source")
}
