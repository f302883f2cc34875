package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxIdent is PostgreSQL's NAMEDATALEN-1.
const MaxIdent = 63

// LimitName shortens a name over 63 bytes to its first 54 bytes + "_" + 8 hex
// of sha256(name) (migrate.md §2), so long cluster names stay unique.
func LimitName(name string) string {
	if len(name) <= MaxIdent {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:54] + "_" + hex.EncodeToString(sum[:])[:8]
}

func dashToUnderscore(s string) string { return strings.ReplaceAll(s, "-", "_") }

// SlotName lower-cases and replaces any character outside [a-z0-9_] with
// "_": replication slot names allow only those.
func SlotName(s string) string {
	s = strings.ToLower(s)
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// DeriveNames computes the names of migrate.md §2, as Pigsty does for pub/sub.
func DeriveNames(srcCls, srcDB, contextDir string) Names {
	base := dashToUnderscore(srcCls) + "_" + dashToUnderscore(srcDB)
	id := srcCls + "." + srcDB
	sub := LimitName("sub_" + base)
	rsub := LimitName(SlotName("rsub_" + base))
	return Names{
		ID:     id,
		Dir:    strings.TrimRight(contextDir, "/") + "/" + id,
		Pub:    LimitName("pub_" + base),
		Sub:    sub,
		Slot:   LimitName(SlotName(sub)),
		RPub:   LimitName("rpub_" + base),
		RSub:   rsub,
		RSlot:  rsub,
		Schema: "pgmigrate",
	}
}

func (c *Config) derive() {
	if c.SrcPG == "" {
		c.SrcPG = "postgres://" + c.AdminUser + "@" + c.SrcIP + "/" + c.SrcDB
	}
	if c.DstPG == "" {
		c.DstPG = "postgres://" + c.AdminUser + "@" + c.DstIP + "/" + c.DstDB
	}
	if c.SubConn == "" {
		ci := Conninfo{{"host", c.SrcIP}, {"dbname", c.SrcDB}, {"user", c.ReplUser}}
		if u, err := ParseURL(c.SrcPG); err == nil && u.Port() != 5432 {
			ci = append(ci, KV{"port", strconv.Itoa(u.Port())})
		}
		c.SubConn = ci.Secret()
	}
	if c.Rollback.Enabled && c.Rollback.Conn == "" {
		c.Rollback.Conn = Conninfo{{"host", c.DstIP}, {"dbname", c.DstDB}, {"user", c.ReplUser}}.Secret()
	}
	c.Names = DeriveNames(c.SrcCls, c.SrcDB, c.ContextDir)
	for i := range c.Switch.Pgbouncer {
		e := &c.Switch.Pgbouncer[i]
		if e.AdminURL == "" {
			e.AdminURL = "postgres://" + c.AdminUser + "@" + c.SrcIP + ":6432/pgbouncer"
		}
		if e.Database == "" {
			e.Database = c.SrcDB
		}
		if e.ConfigFile == "" {
			e.ConfigFile = "/etc/pgbouncer/database.txt"
		}
		if e.Target == "" {
			port := 5432
			host := c.DstIP
			if u, err := ParseURL(c.DstPG); err == nil {
				port = u.Port()
				host = u.Host()
			}
			e.Target = "host=" + host + " port=" + strconv.Itoa(port) + " dbname=" + c.DstDB
		}
	}
}

// Dir returns the migration directory with "~" expanded.
func (c *Config) Dir() string { return ExpandHome(c.Names.Dir) }

// ExpandHome expands a leading "~/" with $HOME.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// Src and Dst return the parsed connection URLs (validated by Load).
func (c *Config) Src() URL { u, _ := ParseURL(c.SrcPG); return u }
func (c *Config) Dst() URL { u, _ := ParseURL(c.DstPG); return u }

// MonitorURL is u with the user replaced by pg_monitor_username (§2).
func (c *Config) MonitorURL(u URL) URL { return u.WithUser(c.MonitorUser) }

// SubConninfo returns sub_conn parsed (validated by Load).
func (c *Config) SubConninfo() Conninfo { ci, _ := ParseConninfo(c.SubConn); return ci }
