package cutover

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
)

// switchTraffic re-points the traffic; the point of no return is the first
// RESUME, the hook's exit 0 or the printed instruction (§5.2 step 8).
func (t *attempt) switchTraffic() error {
	cfg := t.e.Cfg
	switch cfg.Switch.Mechanism {
	case "pgbouncer":
		for _, c := range t.consoles {
			if err := t.repoint(c); err != nil {
				return err
			}
			if err := t.guard(); err != nil {
				return err
			}
		}
		if err := t.unsealNew(); err != nil {
			return err
		}
		if err := t.guard(); err != nil {
			return err
		}
		if err := t.intent("switch", Intent{Kind: IntentPONR}); err != nil {
			return err
		}
		if errs := t.resumeAll(true); len(errs) > 0 {
			// Past the point of no return: the next run finishes it.
			return fmt.Errorf("%w: RESUME failed after the point of no return: %v", errPastPONR, errors.Join(errs...))
		}
	case "command":
		if err := t.unsealNew(); err != nil {
			return err
		}
		if err := t.intent("switch", Intent{Kind: IntentHook}); err != nil {
			return err
		}
		if err := t.runHook(t.hookCommand(false), time.Until(t.deadline())); err != nil {
			return err
		}
		if err := t.intent("switch", Intent{Kind: IntentPONR}); err != nil {
			return err
		}
	default:
		if err := t.unsealNew(); err != nil {
			return err
		}
		if err := t.intent("switch", Intent{Kind: IntentPONR}); err != nil {
			return err
		}
		u := t.d.newURL
		t.e.printf("SWITCH TRAFFIC TO %s:%d/%s NOW\n", u.Host(), u.Port(), t.newDB())
	}
	t.clk.mark(EvWritable, time.Now())
	return nil
}

func (t *attempt) newDB() string {
	if t.d.kind == "cutover" {
		return t.e.Cfg.DstDB
	}
	return t.e.Cfg.SrcDB
}

// targetLine computes the [databases] line entry c must get: the target
// (cutover), or the line the cutover saved (rollback).
func (t *attempt) targetLine(c *console, line dbLine) (string, error) {
	if t.d.kind == "rollback" {
		orig, err := loadOrigAs(t.e.Dir, origName("cutover", c.n))
		if err != nil {
			return "", fmt.Errorf("%s: the line saved by the cutover is gone: %w", c.name(), err)
		}
		return orig, nil
	}
	target, err := config.ParseConninfo(c.entry.Target)
	if err != nil {
		return "", fmt.Errorf("%s: target: %w", c.name(), err)
	}
	v, err := retarget(line.value, target)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", c.name(), c.entry.ConfigFile, err)
	}
	return line.prefix + v, nil
}

// expectFor is where SHOW DATABASES must point after the switch.
func (t *attempt) expectFor(c *console, newLine string) (host string, port int, dbname string) {
	_, v, _ := strings.Cut(newLine, "=")
	kvs, _ := ParseConnString(strings.TrimSpace(v))
	port = 5432
	for _, kv := range kvs {
		switch kv.Key {
		case "host":
			host = kv.Value
		case "port":
			port, _ = strconv.Atoi(kv.Value)
		case "dbname":
			dbname = kv.Value
		}
	}
	if dbname == "" {
		dbname = c.entry.Database
	}
	return
}

// origName names the saved line of entry n: the cutover keeps the source's
// line, a rollback the destination's.
func origName(kind string, n int) string {
	if kind == "rollback" {
		return "pgbouncer-" + strconv.Itoa(n) + ".rollback"
	}
	return "pgbouncer-" + strconv.Itoa(n)
}

// repoint saves the entry's line, rewrites it atomically and RELOADs; SHOW
// DATABASES must then show the new target.
func (t *attempt) repoint(c *console) error {
	data, err := readConfig(t.op, c.entry)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name(), err)
	}
	line, ok := findDBLine(data, c.entry.Database)
	if !ok {
		return fmt.Errorf("%s: %s has no line for database %s", c.name(), c.entry.ConfigFile, c.entry.Database)
	}
	orig := strings.TrimRight(strings.Split(string(data), "\n")[line.index], "\r")
	newLine, err := t.targetLine(c, line)
	if err != nil {
		return err
	}
	if err := saveOrigAs(t.e.Dir, origName(t.d.kind, c.n), orig); err != nil {
		return err
	}
	if err := t.intent("switch", Intent{Kind: IntentPGB, Entry: c.n, File: c.entry.ConfigFile, SSH: c.entry.SSH,
		Original: redactLine(orig), New: redactLine(newLine)}); err != nil {
		return err
	}
	if err := writeConfig(t.op, c.entry, replaceLine(data, line.index, newLine)); err != nil {
		return fmt.Errorf("%s: %w", c.name(), err)
	}
	return t.reloadAndConfirm(c, newLine, " (check the pgbouncer log)")
}

// reloadAndConfirm RELOADs c's pgbouncer and checks that SHOW DATABASES
// follows line; hint ends the error.
func (t *attempt) reloadAndConfirm(c *console, line, hint string) error {
	if err := c.reload(t.op); err != nil {
		return err
	}
	host, port, dbname := t.expectFor(c, line)
	row, err := c.database(t.op)
	if err != nil {
		return err
	}
	if !pointsAt(row, host, port, dbname) {
		return fmt.Errorf("%s: after RELOAD, SHOW DATABASES shows %s:%s/%s, not %s:%d/%s%s",
			c.name(), row["host"], row["port"], row["database"], host, port, dbname, hint)
	}
	return nil
}

// resumeAll RESUMEs every paused entry. After the point of no return it
// retries with fresh console sessions until each answers.
func (t *attempt) resumeAll(mustSucceed bool) []error {
	var errs []error
	for _, c := range t.consoles {
		var err error
		for try := 0; try < 20; try++ {
			if err = c.resume(t.op); err == nil {
				break
			}
			c.close()
			if !mustSucceed && try >= 2 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// hookCommand is switch.command.run (cutover) or .revert (rollback).
func (t *attempt) hookCommand(undo bool) string {
	cmd := t.e.Cfg.Switch.Command
	forward := t.d.kind == "cutover"
	if undo {
		forward = !forward
	}
	if forward {
		return cmd.Run
	}
	return cmd.Revert
}

// runHook runs a switch command with PGMIGRATE_ID and the target in its
// environment (the hook must be idempotent).
func (t *attempt) runHook(command string, limit time.Duration) error {
	if strings.TrimSpace(command) == "" {
		return nil
	}
	timeout := t.e.Cfg.Switch.Command.Timeout.D()
	if limit > 0 && limit < timeout {
		timeout = limit
	}
	ctx, cancel := context.WithTimeout(t.op, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	src, dst := t.e.Cfg.Src(), t.e.Cfg.Dst()
	target, tdb := dst, t.e.Cfg.DstDB
	if t.d.kind == "rollback" {
		target, tdb = src, t.e.Cfg.SrcDB
	}
	cmd.Env = append(os.Environ(),
		"PGMIGRATE_ID="+t.e.Cfg.Names.ID,
		"PGMIGRATE_KIND="+t.d.kind,
		"PGMIGRATE_DST_HOST="+dst.Host(), "PGMIGRATE_DST_PORT="+strconv.Itoa(dst.Port()), "PGMIGRATE_DST_DB="+t.e.Cfg.DstDB,
		"PGMIGRATE_SRC_HOST="+src.Host(), "PGMIGRATE_SRC_PORT="+strconv.Itoa(src.Port()), "PGMIGRATE_SRC_DB="+t.e.Cfg.SrcDB,
		"PGMIGRATE_TARGET_HOST="+target.Host(), "PGMIGRATE_TARGET_PORT="+strconv.Itoa(target.Port()), "PGMIGRATE_TARGET_DB="+tdb)
	out, err := cmd.CombinedOutput()
	if len(out) > 0 {
		t.e.log().Info("switch command output", "output", config.Redact(strings.TrimSpace(string(out))))
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("switch command did not finish within %s", timeout)
	}
	if err != nil {
		return fmt.Errorf("switch command failed: %v", err)
	}
	return nil
}

// unsealNew (rollback only): the source becomes writable again right before
// traffic returns to it: seal 0, privileges and connection limit as the
// cutover found them.
func (t *attempt) unsealNew() error {
	if t.d.kind != "rollback" || t.prev == nil || t.prev.Seal == nil {
		return nil
	}
	if err := t.intent("switch", Intent{Kind: IntentUnsealNew, Side: t.d.new}); err != nil {
		return err
	}
	return unsealStmts(t.op, t.d.newCtl, t.prev.Seal)
}

// unsealSQL lists what undoes a seal intent: seal 0, grants, connection limit.
func unsealSQL(s *Intent) []string {
	var stmts []string
	for _, l := range s.Layers {
		if l == "trigger" {
			stmts = append(stmts, sealSQL(0))
		}
	}
	stmts = append(stmts, grantSQL(s.ACLs)...)
	if s.ConnLimit != nil {
		stmts = append(stmts, connLimitSQL(s.Database, *s.ConnLimit))
	}
	return stmts
}

// unsealStmts undoes a seal intent on c.
func unsealStmts(ctx context.Context, c *db.Conn, s *Intent) error {
	stmts := unsealSQL(s)
	if len(stmts) == 0 {
		return nil
	}
	_, err := c.Exec(ctx, strings.Join(stmts, ";\n"))
	return err
}

// resealStmts re-applies a seal intent (rollback abort: the source was
// unsealed and traffic did not move).
func resealStmts(ctx context.Context, c *db.Conn, s *Intent) error {
	var stmts []string
	for _, l := range s.Layers {
		if l == "trigger" {
			stmts = append(stmts, sealSQL(1))
		}
	}
	stmts = append(stmts, revokeSQL(s.ACLs)...)
	if s.ConnLimit != nil {
		stmts = append(stmts, connLimitSQL(s.Database, 0))
	}
	if len(stmts) == 0 {
		return nil
	}
	_, err := c.Exec(ctx, strings.Join(stmts, ";\n"))
	return err
}
