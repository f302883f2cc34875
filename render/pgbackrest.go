package render

// pgbackrest.conf (pooling-services.md §5; Pigsty v4.5 template
// pgbackrest.conf). pgBackRest reads `key=value` lines without quoting
// (src/common/ini.c: key and value trimmed, `#` starts a comment line), so
// values go through render/inifmt.Value, which refuses anything that would not
// read back unchanged.

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render/inifmt"
)

func init() {
	RegisterCluster(ClusterRenderer{Name: "pgbackrest", Render: renderPgBackRest})
}

// repoKeyRE: repository keys become option names repo1-<key with _ → -> (§5).
var repoKeyRE = regexp.MustCompile(`^[a-z0-9_]+$`)

func renderPgBackRest(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	var files []File
	for _, m := range cl.Members {
		if !m.Bool("pgbackrest_enabled") {
			continue
		}
		data, err := pgbackrestConf(m)
		if err != nil {
			return nil, fmt.Errorf("%s: pgbackrest.conf: %w", m.Name, err)
		}
		// 0600: the minio repository holds the S3 secret and the cipher pass.
		files = append(files, File{Path: path.Join(cl.Name, m.Name, "pgbackrest.conf"), Data: data, Mode: ModeSecret})
	}
	return files, nil
}

// brProcessMax: backup, archive-get and archive-push use clamp(ceil(C/4), 2, 4),
// restore min(C, 8), C = node_cpu (pooling-services.md §5).
func brProcessMax(cpu int) (parallel, restore int) {
	parallel = (cpu + 3) / 4
	parallel = max(2, min(parallel, 4))
	restore = min(cpu, 8)
	if restore < 1 {
		restore = 1
	}
	return parallel, restore
}

func pgbackrestConf(m *compiler.Instance) ([]byte, error) {
	var b strings.Builder
	var firstErr error
	kv := func(k, v string) {
		val, err := inifmt.Value(v)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("value of %s %w", k, err)
			}
			return
		}
		b.WriteString(k + "=" + val + "\n")
	}
	fmt.Fprintf(&b, "# pgcc: pgbackrest.conf for %s (cluster %s)\n", m.Name, m.Cluster)
	b.WriteString("[" + m.Cluster + "]\n")
	kv("pg1-path", m.Str("pg_data"))
	kv("pg1-port", strconv.Itoa(m.Int("pg_port")))
	if m.Str("pg_mode") == "ivory" {
		// IvorySQL's control file differs from PostgreSQL's: pgBackRest must
		// not check the WAL header and needs the version forced.
		kv("archive-header-check", "n")
		kv("pg-version-force", m.Str("pg_version"))
	}
	b.WriteString("\n[global]\n")
	kv("archive-async", "y")
	kv("archive-push-queue-max", "4GiB")
	kv("annotation", "pg_cluster="+m.Cluster)
	kv("expire-auto", "y")
	kv("start-fast", "y")
	kv("compress-type", "zst")
	kv("spool-path", "/pg/spool")
	kv("log-path", m.Str("pgbackrest_log_dir"))
	kv("log-level-file", "info")
	kv("log-level-console", "info")
	method := m.Str("pgbackrest_method")
	repoVal, _ := m.Get("pgbackrest_repo")
	repos := m.Map("pgbackrest_repo")
	repo, ok := repos[method].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("pgbackrest_method %q is not a key of pgbackrest_repo", method)
	}
	// Entries in map order: the order written in the inventory (or the
	// defaults), read from the value's source node.
	var keys []string
	if n := repoVal.Node(); n != nil {
		if rn := n.Get(method); rn != nil {
			for _, e := range rn.Keys {
				keys = append(keys, e.Key)
			}
		}
	}
	if len(keys) != len(repo) {
		keys = compiler.SortedKeys(repo)
	}
	for _, k := range keys {
		if !repoKeyRE.MatchString(k) {
			return nil, fmt.Errorf("pgbackrest_repo.%s: key %q must match %s", method, k, repoKeyRE)
		}
		kv("repo1-"+strings.ReplaceAll(k, "_", "-"), brValue(repo[k], m.Cluster))
	}
	kv("delta", "y")
	par, restore := brProcessMax(m.Int("node_cpu"))
	for _, sec := range []struct {
		name string
		n    int
	}{{"global:backup", par}, {"global:restore", restore}, {"global:archive-get", par}, {"global:archive-push", par}} {
		b.WriteString("\n[" + sec.name + "]\n")
		kv("process-max", strconv.Itoa(sec.n))
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return []byte(b.String()), nil
}

// brValue renders a repository value: booleans y/n, numbers in decimal,
// strings with ${pg_cluster} replaced.
func brValue(v any, cluster string) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "y"
		}
		return "n"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return strings.ReplaceAll(x, "${pg_cluster}", cluster)
	}
	return compiler.AsString(v)
}
