package tuning

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Template names (pg_conf without ".yml").
const (
	OLTP = "oltp"
	OLAP = "olap"
	Crit = "crit"
	Tiny = "tiny"
)

// MaxConnAuto is the Input.MaxConn value for `pg_max_conn: auto`.
const MaxConnAuto = 0

// DefaultLibs is the inventory default of pg_libs (inventory.md §4.4).
const DefaultLibs = "pg_stat_statements, auto_explain"

// Input holds one instance's hardware facts and the cluster variables the
// templates read. Every field is explicit: Compute applies no defaults except
// where a field's comment says so. NewInput returns the inventory defaults.
type Input struct {
	CPU    int // node_cpu, 1..1024
	MemMB  int // node_mem_mb, MiB, ≥ 256
	DiskGB int // node_disk_gb, GiB, ≥ 1

	Template          string  // pg_conf: oltp, olap, crit or tiny (".yml" suffix accepted)
	PGVersion         int     // pg_version, 13..19
	Storage           string  // pg_storage_type: SSD or HDD
	MaxConn           int     // pg_max_conn: MaxConnAuto (0) or 20..10000
	SharedBufferRatio float64 // pg_shared_buffer_ratio, 0.1..0.8
	Libs              string  // pg_libs, verbatim (becomes shared_preload_libraries, trimmed)

	// IOMethod is pg_io_method: auto, sync, worker or io_uring. With auto on
	// PG 18+, OSPackage (rpm|deb) and OSVersion (facts os_package, os_version)
	// pick io_uring or worker.
	IOMethod  string
	OSPackage string
	OSVersion int

	// StatMonitorLowMem is pg_stat_monitor_lowmem; nil means the default
	// (true for tiny, false otherwise).
	StatMonitorLowMem *bool

	DefaultServiceDest string // pg_default_service_dest: pgbouncer, postgres or a port
	Mode               string // pg_mode: pgsql, citus, ivory, polar, oracle, …
	Cluster            string // pg_cluster: the pgBackRest stanza in archive_command
	PgBackRest         bool   // pgbackrest_enabled: emit archive_mode/archive_command/archive_timeout
	LogDir             string // pg_log_dir → log_directory
	PrimaryDB          string // pg_primary_db → cron.database_name
	CronDatabase       string // pg_parameters['cron.database_name'] when set ("" = PrimaryDB)
}

// NewInput returns an Input with the facts given and every other field at its
// inventory default (inventory.md §4.4–4.5): oltp, PG 18, SSD, auto
// connections, ratio 0.25, default pg_libs, io method worker, service dest
// pgbouncer, pg_mode pgsql, log dir /pg/log/postgres, primary db postgres.
//
// PgBackRest is false because the standalone calculator (`pgcc tune`) knows
// no cluster name for the archive_command stanza; the compiler sets PgBackRest
// and Cluster from the inventory (default pgbackrest_enabled: true).
func NewInput(cpu, memMB, diskGB int) Input {
	return Input{
		CPU: cpu, MemMB: memMB, DiskGB: diskGB,
		Template:           OLTP,
		PGVersion:          18,
		Storage:            "SSD",
		MaxConn:            MaxConnAuto,
		SharedBufferRatio:  0.25,
		Libs:               DefaultLibs,
		IOMethod:           "worker",
		DefaultServiceDest: "pgbouncer",
		Mode:               "pgsql",
		LogDir:             "/pg/log/postgres",
		PrimaryDB:          "postgres",
	}
}

// InputError is one invalid input. Field is the inventory variable
// (pg_max_conn, node_cpu, …); Error() is "field: msg" in the message shapes
// of inventory.md §7.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

func inputErr(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

var (
	libItemRE = regexp.MustCompile(`^[A-Za-z0-9_$./-]+$`)
	modes     = []string{"pgsql", "citus", "mssql", "mysql", "ivory", "pgtde", "polar", "oracle", "agens", "oriole", "pgedge"}
)

// wantList renders "A, B or C" (inventory.md §7 enum shape).
func wantList(opts []string) string {
	if len(opts) == 1 {
		return opts[0]
	}
	return strings.Join(opts[:len(opts)-1], ", ") + " or " + opts[len(opts)-1]
}

func oneOf(s string, opts []string) bool {
	for _, o := range opts {
		if s == o {
			return true
		}
	}
	return false
}

// TemplateName returns the template name of a pg_conf value ("oltp.yml" →
// "oltp") and whether it is one of the four supported templates.
func TemplateName(pgConf string) (string, bool) {
	t := strings.TrimSuffix(pgConf, ".yml")
	return t, oneOf(t, []string{OLTP, OLAP, Crit, Tiny})
}

// Validate checks every field and returns all problems at once, joined
// (errors.As finds the first *InputError; use Errors to get them all).
func (in Input) Validate() error {
	var errs []error
	add := func(e *InputError) { errs = append(errs, e) }

	if in.CPU < 1 || in.CPU > 1024 {
		add(inputErr("node_cpu", "%d is out of range; want 1..1024", in.CPU))
	}
	if in.MemMB < 256 {
		add(inputErr("node_mem_mb", "%d is out of range; want 256..", in.MemMB))
	}
	if in.DiskGB < 1 {
		add(inputErr("node_disk_gb", "%d is out of range; want 1..", in.DiskGB))
	}
	if _, ok := TemplateName(in.Template); !ok {
		add(inputErr("pg_conf", "%q is not allowed; want oltp, olap, crit or tiny", in.Template))
	}
	if in.PGVersion < 13 || in.PGVersion > 19 {
		add(inputErr("pg_version", "%d is out of range; want 13..19", in.PGVersion))
	}
	if in.Storage != "SSD" && in.Storage != "HDD" {
		add(inputErr("pg_storage_type", "%q is not allowed; want SSD or HDD", in.Storage))
	}
	if in.MaxConn != MaxConnAuto && (in.MaxConn < 20 || in.MaxConn > 10000) {
		add(inputErr("pg_max_conn", "%d is out of range; want 20..10000 or auto", in.MaxConn))
	}
	// NaN fails both comparisons, so test the accepted range positively.
	if !(in.SharedBufferRatio >= 0.1 && in.SharedBufferRatio <= 0.8) {
		add(inputErr("pg_shared_buffer_ratio", "%s is out of range; want 0.1..0.8", strconv.FormatFloat(in.SharedBufferRatio, 'g', -1, 64)))
	}
	for _, it := range strings.Split(in.Libs, ",") {
		if it = strings.TrimSpace(it); it != "" && !libItemRE.MatchString(it) {
			add(inputErr("pg_libs", "%q must match %s", it, libItemRE))
		}
	}
	ioMethods := []string{"auto", "sync", "worker", "io_uring"}
	if !oneOf(in.IOMethod, ioMethods) {
		add(inputErr("pg_io_method", "%q is not allowed; want %s", in.IOMethod, wantList(ioMethods)))
	} else if in.IOMethod == "auto" && in.PGVersion >= 18 {
		// Facts os_package / os_version are required only here (inventory.md §4.6).
		switch in.OSPackage {
		case "deb":
		case "rpm":
			if in.OSVersion < 1 {
				add(inputErr("os_version", "missing required fact os_version (needed by pg_io_method auto on pg_version %d)", in.PGVersion))
			}
		case "":
			add(inputErr("os_package", "missing required fact os_package (needed by pg_io_method auto on pg_version %d)", in.PGVersion))
		default:
			add(inputErr("os_package", "%q is not allowed; want rpm or deb", in.OSPackage))
		}
	}
	if in.DefaultServiceDest == "" {
		add(inputErr("pg_default_service_dest", `"" is not allowed; want postgres, pgbouncer or a port`))
	}
	if !oneOf(in.Mode, modes) {
		add(inputErr("pg_mode", "%q is not allowed; want %s", in.Mode, wantList(modes)))
	}
	if in.PgBackRest && in.Cluster == "" {
		add(inputErr("pg_cluster", "missing required field \"pg_cluster\" (the pgBackRest stanza of archive_command)"))
	}
	if in.LogDir == "" {
		add(inputErr("pg_log_dir", "missing required field \"pg_log_dir\""))
	}
	if in.PrimaryDB == "" && in.CronDatabase == "" {
		add(inputErr("pg_primary_db", "missing required field \"pg_primary_db\""))
	}
	// A newline would let a value escape its postgresql.conf line (§7: an error).
	for _, f := range []struct{ name, v string }{
		{"pg_cluster", in.Cluster}, {"pg_log_dir", in.LogDir}, {"pg_primary_db", in.PrimaryDB},
		{"pg_parameters.cron.database_name", in.CronDatabase}, {"pg_libs", in.Libs},
	} {
		if strings.ContainsAny(f.v, "\n\r\x00") {
			add(inputErr(f.name, "must not contain a newline or NUL byte"))
		}
	}
	return errors.Join(errs...)
}

// Errors flattens an error returned by Validate or Compute into its
// *InputError values (nil if err holds none).
func Errors(err error) []*InputError {
	var out []*InputError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ie, ok := e.(*InputError); ok {
			out = append(out, ie)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}

// ParseMaxConn reads a pg_max_conn value: "auto" → MaxConnAuto, or an integer
// 20..10000 (numeric strings are accepted, inventory.md §4.4). pgcc differs
// from Pigsty: anything else is an error, never a silent auto.
func ParseMaxConn(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "auto" {
		return MaxConnAuto, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, inputErr("pg_max_conn", "%q is not allowed; want an integer 20..10000 or auto", s)
	}
	if n < 20 || n > 10000 {
		return 0, inputErr("pg_max_conn", "%d is out of range; want 20..10000 or auto", n)
	}
	return n, nil
}

// ParseMemMB parses a `pgcc tune --mem` size: <number>[unit], unit one of
// M MB MiB G GB GiB T TB TiB (case-insensitive, all binary); a bare number is
// MiB. The result is MiB rounded up (tuning.md §1). Exact decimal arithmetic.
func ParseMemMB(s string) (int, error) { return parseSize("node_mem_mb", s, 0) }

// ParseDiskGB parses a `pgcc tune --disk` size like ParseMemMB; a bare number
// is GiB and the result is GiB rounded up.
func ParseDiskGB(s string) (int, error) { return parseSize("node_disk_gb", s, 1) }

// parseSize converts to 1024^(target+2) bytes units: target 0 = MiB, 1 = GiB.
func parseSize(field, s string, target int) (int, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	exp := -1 // power of 1024 above MiB
	switch unit {
	case "":
		exp = target
	case "m", "mb", "mib":
		exp = 0
	case "g", "gb", "gib":
		exp = 1
	case "t", "tb", "tib":
		exp = 2
	}
	r, ok := new(big.Rat).SetString(num)
	if num == "" || strings.Count(num, ".") > 1 || !ok || exp < 0 {
		return 0, inputErr(field, "%q is not a size; want <number>[M|MB|MiB|G|GB|GiB|T|TB|TiB]", s)
	}
	if r.Sign() <= 0 {
		return 0, inputErr(field, "%q is out of range; want a size above 0", s)
	}
	for ; exp > target; exp-- {
		r.Mul(r, big.NewRat(1024, 1))
	}
	for ; exp < target; exp++ {
		r.Quo(r, big.NewRat(1024, 1))
	}
	// ceil(r) for r > 0.
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > 1<<40 {
		return 0, inputErr(field, "%q is out of range; too large", s)
	}
	return int(q.Int64()), nil
}
