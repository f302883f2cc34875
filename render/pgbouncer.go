package render

// pgbouncer: pgbouncer.ini, database.txt, useropts.txt and userlist.txt per
// instance (pooling-services.md §1; Pigsty v4.5 templates pgbouncer.ini,
// pgbouncer.db, pgbouncer.usr and the pgb-user script). pgb_hba.conf is
// rendered with the HBA files. Every value goes through render/inifmt. See
// pgbouncer.md for the format's quirks.

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render/inifmt"
)

// Paths the files name: where Pigsty installs them (/etc/pgbouncer) and the
// certificates of the node (/pg/cert).
const (
	pgbEtcDir      = "/etc/pgbouncer"
	pgbAuthQuery   = "SELECT username, password FROM monitor.pgbouncer_auth($1)"
	pgbSocketDir   = "/run/postgresql"
	defaultPgbVers = "1.24"
)

func renderPgbouncer(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	// database.txt, useropts.txt and userlist.txt depend only on cluster-uniform
	// variables (and pgbouncer_redirect_to / pg_localhost / pg_port, read per
	// instance for database.txt): build the cluster-wide ones once.
	var users, userlist []byte
	var err error
	enabled := false
	for _, m := range cl.Members {
		enabled = enabled || m.Bool("pgbouncer_enabled")
	}
	if !enabled {
		return nil, nil
	}
	if users, err = pgbUseropts(cl); err != nil {
		return nil, err
	}
	if userlist, err = pgbUserlist(ctx, cl); err != nil {
		return nil, err
	}
	var files []File
	for _, m := range cl.Members {
		if !m.Bool("pgbouncer_enabled") {
			continue
		}
		dir := path.Join(cl.Name, m.Name, "pgbouncer")
		ini, err := pgbIni(m)
		if err != nil {
			return nil, fmt.Errorf("%s: pgbouncer.ini: %w", m.Name, err)
		}
		dbs, err := pgbDatabases(cl, m)
		if err != nil {
			return nil, fmt.Errorf("%s: database.txt: %w", m.Name, err)
		}
		files = append(files,
			File{Path: path.Join(dir, "pgbouncer.ini"), Data: ini, Mode: ModePublic},
			File{Path: path.Join(dir, "database.txt"), Data: dbs, Mode: ModePublic},
			File{Path: path.Join(dir, "useropts.txt"), Data: pgbWithHeader(users, "useropts.txt", m), Mode: ModePublic},
			File{Path: path.Join(dir, "userlist.txt"), Data: pgbWithHeader(userlist, "userlist.txt", m), Mode: ModeSecret},
		)
	}
	return files, nil
}

// pgbWithHeader prefixes the pgcc header comment (`;` comments are valid in
// pgbouncer ini files and in its auth_file: loader.c skips lines starting
// with `;`).
func pgbWithHeader(body []byte, file string, m *compiler.Instance) []byte {
	h := fmt.Sprintf("; pgcc: %s for %s (cluster %s)\n", file, m.Name, m.Cluster)
	return append([]byte(h), body...)
}

// pgbWriter collects `key = value` lines and the first error.
type pgbWriter struct {
	b   strings.Builder
	err error
}

func (w *pgbWriter) raw(s string, err error) {
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

func (w *pgbWriter) kv(k, v string) { w.raw(inifmt.Line(k, v)) }

// pgbVersionAtLeast compares pgbouncer_version ("MAJOR.MINOR") with major.minor.
func pgbVersionAtLeast(m *compiler.Instance, major, minor int) bool {
	v := m.Str("pgbouncer_version")
	if v == "" {
		v = defaultPgbVers
	}
	a, b, _ := strings.Cut(v, ".")
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return true // validated by the schema; never reached
	}
	return ma > major || (ma == major && mi >= minor)
}

// pgbListenAddrs substitutes ${ip}, ${lo} and ${vip} in pg_listen (patroni.md §7)
// and returns the addresses, trimmed, duplicates dropped, without a port.
func pgbListenAddrs(m *compiler.Instance) []string {
	vip, _ := compiler.VIPAddress(m)
	var out []string
	seen := map[string]bool{}
	for _, a := range strings.Split(m.Str("pg_listen"), ",") {
		a = strings.TrimSpace(a)
		switch a {
		case "${ip}":
			a = m.IP
		case "${lo}":
			a = "127.0.0.1"
		case "${vip}":
			a = vip
		}
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	return out
}

// pgbIni renders pgbouncer.ini (pooling-services.md §1.1), keys in the spec's order.
func pgbIni(m *compiler.Instance) ([]byte, error) {
	w := &pgbWriter{}
	w.raw(inifmt.Comment(fmt.Sprintf("pgcc: pgbouncer.ini for %s (cluster %s)", m.Name, m.Cluster)))
	w.raw(inifmt.Section("users"))
	w.raw(inifmt.Include(pgbEtcDir + "/useropts.txt"))
	w.raw("", nil)
	w.raw(inifmt.Section("databases"))
	w.raw(inifmt.Include(pgbEtcDir + "/database.txt"))
	w.raw("", nil)
	w.raw(inifmt.Section("pgbouncer"))
	dbsu := m.Str("pg_dbsu")
	w.kv("pool_mode", m.Str("pgbouncer_poolmode"))
	w.kv("listen_addr", strings.Join(pgbListenAddrs(m), ","))
	w.kv("listen_port", strconv.Itoa(m.Int("pgbouncer_port")))
	w.kv("admin_users", dbsu+", "+m.Str("pg_admin_username"))
	w.kv("stats_users", dbsu+", "+m.Str("pg_monitor_username"))
	w.kv("auth_type", "hba")
	w.kv("auth_file", pgbEtcDir+"/userlist.txt")
	w.kv("auth_hba_file", pgbEtcDir+"/pgb_hba.conf")
	if m.Bool("pgbouncer_auth_query") {
		// Unlisted users are looked up in PostgreSQL as the dbsu (pooling-services.md §1.5).
		w.kv("auth_user", dbsu)
		w.kv("auth_query", pgbAuthQuery)
	}
	w.kv("client_tls_sslmode", m.Str("pgbouncer_sslmode"))
	w.kv("client_tls_cert_file", "/pg/cert/server.crt")
	w.kv("client_tls_key_file", "/pg/cert/server.key")
	w.kv("client_tls_ca_file", "/pg/cert/ca.crt")
	w.kv("server_reset_query", "DISCARD ALL")
	w.kv("server_reset_query_always", "0")
	w.kv("unix_socket_dir", pgbSocketDir)
	w.kv("pidfile", pgbSocketDir+"/pgbouncer.pid")
	w.kv("logfile", strings.TrimRight(m.Str("pgbouncer_log_dir"), "/")+"/pgbouncer.log")
	w.kv("application_name_add_host", "0")
	w.kv("max_client_conn", "20000")
	w.kv("min_pool_size", "0")
	w.kv("default_pool_size", "50")
	w.kv("reserve_pool_size", "30")
	w.kv("reserve_pool_timeout", "1")
	w.kv("server_lifetime", "600")
	w.kv("max_db_connections", "100")
	w.kv("max_user_connections", "100")
	w.kv("server_round_robin", "0")
	w.kv("log_connections", "0")
	w.kv("log_disconnections", "0")
	w.kv("ignore_startup_parameters", strings.Join(m.Strings("pgbouncer_ignore_param"), ", "))
	// max_prepared_statements exists from PgBouncer 1.21 on; older versions
	// refuse to start with an unknown parameter (pgcc differs from Pigsty).
	if pgbVersionAtLeast(m, 1, 21) {
		w.kv("max_prepared_statements", "256")
	}
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}

// pgbDatabases renders database.txt (pooling-services.md §1.2).
func pgbDatabases(cl *compiler.Cluster, m *compiler.Instance) ([]byte, error) {
	w := &pgbWriter{}
	w.raw(inifmt.Comment(fmt.Sprintf("pgcc: database.txt for %s (cluster %s)", m.Name, m.Cluster)))
	host := m.Str("pgbouncer_redirect_to")
	if host == "" {
		host = m.Str("pg_localhost")
	}
	for _, d := range cl.Databases {
		if !d.Pgbouncer || d.State == "absent" {
			continue
		}
		kv := []string{"host", host}
		// pgcc only: Pigsty omits the port and pgbouncer then dials 5432.
		if p := m.Int("pg_port"); p != 5432 {
			kv = append(kv, "port", strconv.Itoa(p))
		}
		if d.PoolAuthUser != "" {
			kv = append(kv, "auth_user", d.PoolAuthUser)
		}
		if d.PoolMode != "" {
			kv = append(kv, "pool_mode", d.PoolMode)
		}
		for _, e := range []struct {
			key string
			v   *int
		}{{"pool_size", d.PoolSize}, {"min_pool_size", d.PoolSizeMin}, {"reserve_pool", d.PoolReserve}, {"max_db_connections", d.PoolConnLimit}} {
			if e.v != nil {
				kv = append(kv, e.key, strconv.Itoa(*e.v))
			}
		}
		cs, err := inifmt.ConnString(kv...)
		if err != nil {
			return nil, fmt.Errorf("database %q: %w", d.Name, err)
		}
		line, err := inifmt.Line(d.Name, cs)
		if err != nil {
			return nil, fmt.Errorf("database %q: %w", d.Name, err)
		}
		w.raw(line, nil)
	}
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}

// pgbUseropts renders the body of useropts.txt (pooling-services.md §1.3):
// pg_default_roles then pg_users, a line for each role that writes pool_mode
// or pool_connlimit; a name defined twice gets one line, from the later
// definition, at the place of the first.
func pgbUseropts(cl *compiler.Cluster) ([]byte, error) {
	var order []string
	last := map[string]*compiler.User{}
	for _, u := range append(append([]*compiler.User{}, cl.DefaultRoles...), cl.Users...) {
		if _, ok := last[u.Name]; !ok {
			order = append(order, u.Name)
		}
		last[u.Name] = u
	}
	w := &pgbWriter{}
	for _, name := range order {
		u := last[name]
		if u.State == "absent" {
			continue
		}
		var items []string
		if u.PoolMode != "" {
			items = append(items, "pool_mode="+u.PoolMode)
		}
		if u.PoolConnLimit != nil {
			items = append(items, "max_user_connections="+strconv.Itoa(*u.PoolConnLimit))
		}
		if len(items) == 0 {
			continue
		}
		line, err := inifmt.Line(name, strings.Join(items, " "))
		if err != nil {
			return nil, fmt.Errorf("useropts.txt: user %q: %w", name, err)
		}
		w.raw(line, nil)
	}
	return []byte(w.b.String()), nil
}
