package cutover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/inifmt"
)

// console is one switch.pgbouncer entry's admin console. The console speaks
// only the simple query protocol (pgbouncer "Admin console"), so it is driven
// with pgconn.Exec, never with prepared statements.
type console struct {
	n     int
	entry config.PgbouncerEntry
	url   config.URL
	pw    string
	mu    sync.Mutex // guards conn: a stuck PAUSE is abandoned from another goroutine
	conn  *pgconn.PgConn
}

func newConsole(o *db.Opener, n int, e config.PgbouncerEntry) (*console, error) {
	u, err := config.ParseURL(e.AdminURL)
	if err != nil {
		return nil, fmt.Errorf("switch.pgbouncer[%d].admin_url: %w", n, err)
	}
	return &console{n: n, entry: e, url: u, pw: o.Password(u)}, nil
}

func (c *console) name() string { return fmt.Sprintf("pgbouncer[%d]", c.n) }

// connect opens (or re-opens) the console session.
func (c *console) connect(ctx context.Context) error {
	_, err := c.session(ctx)
	return err
}

func (c *console) session(ctx context.Context) (*pgconn.PgConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && !c.conn.IsClosed() {
		return c.conn, nil
	}
	pc, err := pgconn.ParseConfig(c.url.WithoutPassword().Secret())
	if err != nil {
		return nil, fmt.Errorf("%s: parse admin_url %s: %s", c.name(), c.url.String(), config.Redact(err.Error()))
	}
	pc.Password = c.pw
	if pc.ConnectTimeout == 0 || pc.ConnectTimeout > 5*time.Second {
		pc.ConnectTimeout = 5 * time.Second
	}
	conn, err := pgconn.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("%s console %s: %w: %s", c.name(), c.url.String(), db.ErrUnreachable, redactSecret(config.Redact(err.Error()), c.pw))
	}
	c.conn = conn
	return conn, nil
}

func (c *console) close() {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(ctx)
		cancel()
	}
}

// abandon drops a session that is stuck in a command (a PAUSE that waits
// for server connections) without waiting for it.
func (c *console) abandon() {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = conn.Close(ctx)
	}
}

// exec runs one console command and returns the rows of its last result,
// each as column → text.
func (c *console) exec(ctx context.Context, cmd string) ([]map[string]string, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	results, err := conn.Exec(ctx, cmd).ReadAll()
	if err != nil {
		if conn.IsClosed() {
			c.mu.Lock()
			if c.conn == conn {
				c.conn = nil
			}
			c.mu.Unlock()
		}
		return nil, fmt.Errorf("%s: %s: %s", c.name(), cmd, config.Redact(err.Error()))
	}
	var rows []map[string]string
	if n := len(results); n > 0 {
		r := results[n-1]
		for _, vals := range r.Rows {
			m := map[string]string{}
			for i, fd := range r.FieldDescriptions {
				if i < len(vals) {
					m[fd.Name] = string(vals[i])
				}
			}
			rows = append(rows, m)
		}
	}
	return rows, nil
}

var bareDBName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// dbArg renders the database argument of PAUSE/RESUME: bare when it is a
// plain word, else double-quoted (the console lower-cases bare words as
// PostgreSQL does).
func dbArg(name string) string {
	if bareDBName.MatchString(name) && strings.ToLower(name) == name {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// pause issues PAUSE <db>: pgbouncer queues new transactions and returns
// once every server connection of the database is released.
func (c *console) pause(ctx context.Context) error {
	_, err := c.exec(ctx, "PAUSE "+dbArg(c.entry.Database))
	return err
}

// resume issues RESUME <db>; a database that is not paused is fine (the
// command is repeated after a crash).
func (c *console) resume(ctx context.Context) error {
	_, err := c.exec(ctx, "RESUME "+dbArg(c.entry.Database))
	if err != nil && strings.Contains(err.Error(), "not paused") {
		return nil
	}
	return err
}

func (c *console) reload(ctx context.Context) error {
	_, err := c.exec(ctx, "RELOAD")
	return err
}

// database returns the SHOW DATABASES row of the entry's database.
func (c *console) database(ctx context.Context) (map[string]string, error) {
	rows, err := c.exec(ctx, "SHOW DATABASES")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r["name"] == c.entry.Database {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s: database %s is not in SHOW DATABASES", c.name(), c.entry.Database)
}

// pointsAt reports whether a SHOW DATABASES row targets host:port/dbname.
func pointsAt(row map[string]string, host string, port int, dbname string) bool {
	if row == nil {
		return false
	}
	p := row["port"]
	if p == "" {
		p = "5432"
	}
	d := row["database"]
	if d == "" {
		d = row["name"]
	}
	return row["host"] == host && p == strconv.Itoa(port) && d == dbname
}

func redactSecret(s, secret string) string {
	if len(secret) >= 3 {
		s = strings.ReplaceAll(s, secret, "********")
	}
	return s
}

// ---- [databases] lines ----------------------------------------------------

// KV is one key=value of a pgbouncer connection string.
type KV struct{ Key, Value string }

// ErrConnString is a [databases] value pgbouncer would not read back.
var ErrConnString = errors.New("not a valid pgbouncer connection string")

// ParseConnString parses the value of a [databases] line as pgbouncer 1.18
// does (src/loader.c cstr_get_pair): key=value pairs separated by
// whitespace; a value may be single-quoted, with ” standing for '.
func ParseConnString(s string) ([]KV, error) {
	var out []KV
	i, n := 0, len(s)
	for {
		for i < n && isBlank(s[i]) {
			i++
		}
		if i >= n {
			return out, nil
		}
		start := i
		for i < n && s[i] != '=' && !isBlank(s[i]) {
			i++
		}
		key := s[start:i]
		for i < n && isBlank(s[i]) {
			i++
		}
		if key == "" || i >= n || s[i] != '=' {
			return nil, fmt.Errorf("%w: key %q has no value", ErrConnString, key)
		}
		i++
		for i < n && isBlank(s[i]) {
			i++
		}
		var v strings.Builder
		if i < n && s[i] == '\'' {
			i++
			closed := false
			for i < n {
				if s[i] == '\'' {
					if i+1 < n && s[i+1] == '\'' {
						v.WriteByte('\'')
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				v.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%w: unterminated quote in the value of %s", ErrConnString, key)
			}
		} else {
			for i < n && !isBlank(s[i]) {
				v.WriteByte(s[i])
				i++
			}
		}
		if v.Len() == 0 {
			return nil, fmt.Errorf("%w: empty value for %s", ErrConnString, key)
		}
		out = append(out, KV{key, v.String()})
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// FormatConnString renders pairs with inifmt's quoter (the one quoter for
// pgbouncer connection strings).
func FormatConnString(kvs []KV) (string, error) {
	flat := make([]string, 0, 2*len(kvs))
	for _, kv := range kvs {
		flat = append(flat, kv.Key, kv.Value)
	}
	return inifmt.ConnString(flat...)
}

// dbLine is the [databases] line of one database in a config file.
type dbLine struct {
	index  int    // line number (0-based)
	prefix string // everything up to and including "=" and following blanks
	value  string // the connection string as written
}

// findDBLine finds the line whose key is database (keys compare exactly, as
// pgbouncer's do).
func findDBLine(data []byte, database string) (dbLine, bool) {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		if t == "" || t[0] == ';' || t[0] == '#' || t[0] == '[' || t[0] == '%' {
			continue
		}
		k, rest, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) != database {
			continue
		}
		v := strings.TrimLeft(rest, " \t")
		return dbLine{index: i, prefix: l[:len(l)-len(v)], value: strings.TrimRight(v, " \t\r")}, true
	}
	return dbLine{}, false
}

// retarget replaces host, port and dbname of a connection string with the
// target's, keeping every other key (user, pool_size …) and their order.
func retarget(value string, target config.Conninfo) (string, error) {
	kvs, err := ParseConnString(value)
	if err != nil {
		return "", err
	}
	for _, key := range []string{"host", "port", "dbname"} {
		v, ok := target.Get(key)
		if !ok {
			continue
		}
		found := false
		for i := range kvs {
			if kvs[i].Key == key {
				kvs[i].Value = v
				found = true
			}
		}
		if !found {
			kvs = append(kvs, KV{key, v})
		}
	}
	return FormatConnString(kvs)
}

// replaceLine returns data with line index replaced.
func replaceLine(data []byte, index int, line string) []byte {
	lines := strings.Split(string(data), "\n")
	lines[index] = line
	return []byte(strings.Join(lines, "\n"))
}

// redactLine hides a password= in a [databases] line for the journal (the
// full line is kept only in data/pgbouncer-<n>.orig, mode 0600).
func redactLine(line string) string { return config.Redact(line) }

// readConfig reads the entry's config file, locally or over ssh.
func readConfig(ctx context.Context, e config.PgbouncerEntry) ([]byte, error) {
	if e.SSH == "" {
		b, err := os.ReadFile(e.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("read pgbouncer config_file: %w", err)
		}
		return b, nil
	}
	out, err := exec.CommandContext(ctx, "ssh", "-o", "BatchMode=yes", e.SSH, "cat "+plan.ShellQuote(e.ConfigFile)).Output()
	if err != nil {
		return nil, fmt.Errorf("read pgbouncer config_file over ssh %s: %v", e.SSH, err)
	}
	return out, nil
}

// writeConfig replaces the entry's config file atomically: a temporary file
// in the same directory with the original's mode and owner, fsynced, then
// renamed over it (pgbouncer reads the file only on RELOAD).
func writeConfig(ctx context.Context, e config.PgbouncerEntry, data []byte) error {
	if e.SSH != "" {
		tmp := e.ConfigFile + ".pgmigrate.tmp"
		script := "umask 077 && cat > " + plan.ShellQuote(tmp) +
			" && chmod --reference=" + plan.ShellQuote(e.ConfigFile) + " " + plan.ShellQuote(tmp) +
			" && { chown --reference=" + plan.ShellQuote(e.ConfigFile) + " " + plan.ShellQuote(tmp) + " 2>/dev/null || true; }" +
			" && mv -f " + plan.ShellQuote(tmp) + " " + plan.ShellQuote(e.ConfigFile)
		cmd := exec.CommandContext(ctx, "ssh", "-o", "BatchMode=yes", e.SSH, script)
		cmd.Stdin = bytes.NewReader(data)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("write pgbouncer config_file over ssh %s: %v: %s", e.SSH, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	st, err := os.Stat(e.ConfigFile)
	if err != nil {
		return fmt.Errorf("write pgbouncer config_file: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(e.ConfigFile), "."+filepath.Base(e.ConfigFile)+".pgmigrate*")
	if err != nil {
		return fmt.Errorf("write pgbouncer config_file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), st.Mode().Perm())
	}
	if err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			err = os.Chown(f.Name(), int(sys.Uid), int(sys.Gid))
		}
	}
	if err == nil {
		err = os.Rename(f.Name(), e.ConfigFile)
	}
	if err != nil {
		return fmt.Errorf("write pgbouncer config_file: %w", err)
	}
	return nil
}
