package render

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render/scram"
)

// verifierCache makes roles.sql and every userlist.txt of a cluster agree on
// one verifier per role within a build.
type verifierCache struct {
	mu sync.Mutex
	m  map[string]string // cluster\x00role → verifier
}

var verifierRE = regexp.MustCompile(`SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+`)

// Verifier returns what to store for a role's password (README "Secrets"):
// a password given as a SCRAM verifier or md5 hash passes through; otherwise
// a SCRAM-SHA-256 verifier that still validates against the plaintext is
// reused from the previous bundle (the cluster's sql/roles.sql or any of its
// pgbouncer/userlist.txt), so rebuilding an unchanged inventory changes no
// byte; otherwise a new verifier with a random salt. The plaintext never
// leaves this function.
func (ctx *Context) Verifier(cl *compiler.Cluster, role, password string) (string, error) {
	if scram.IsVerifier(password) || scram.IsMD5(password) {
		return password, nil
	}
	// PBKDF2 with 4096 rounds costs about a millisecond, and a fleet repeats
	// passwords (system users are global): every check and every new
	// verifier is done once per build. Roles with the same password may
	// share a verifier (and so a salt); that reveals only what the
	// inventory already says, that the passwords are equal.
	for _, cand := range ctx.previousVerifiers(cl, role) {
		if ctx.check(cand, password) {
			ctx.remember(password, cand)
			return cand, nil
		}
	}
	ctx.vmu.Lock()
	if v, ok := ctx.verifiers[password]; ok {
		ctx.vmu.Unlock()
		return v, nil
	}
	if p := ctx.pending[password]; p != nil {
		// Another renderer is computing it.
		ctx.vmu.Unlock()
		<-p.done
		if p.err != nil {
			return "", fmt.Errorf("verifier for role %q: %w", role, p.err)
		}
		return p.v, nil
	}
	if ctx.saltKey == nil && ctx.Opts.Rand != nil {
		// Renderers called directly (tests) get the key on first use;
		// Render reads it before starting its workers.
		key := make([]byte, 32)
		if _, err := io.ReadFull(ctx.Opts.Rand, key); err != nil {
			ctx.vmu.Unlock()
			return "", fmt.Errorf("random source: %w", err)
		}
		ctx.saltKey = key
	}
	if ctx.saltKey == nil {
		ctx.vmu.Unlock()
		return "", fmt.Errorf("no random source for a new verifier of role %q", role)
	}
	p := &pendingVerifier{done: make(chan struct{})}
	if ctx.pending == nil {
		ctx.pending = map[string]*pendingVerifier{}
	}
	ctx.pending[password] = p
	saltKey := ctx.saltKey
	ctx.vmu.Unlock()

	// PBKDF2 runs outside the lock: holding it made the render workers take
	// turns for every new verifier (0.85 s of CPU for 2,000 passwords).
	// The salt is keyed by a per-build random key: random across builds,
	// but independent of the order in which concurrent renderers ask, so
	// tests with a seeded source get the same bytes every time.
	mac := hmac.New(sha256.New, saltKey)
	mac.Write([]byte(password))
	p.v, p.err = scram.Verifier(password, mac.Sum(nil)[:16], 4096)

	ctx.vmu.Lock()
	delete(ctx.pending, password)
	if p.err == nil {
		// A verifier reused meanwhile (remember) wins, as it would have
		// under the lock: every later caller gets what the map holds.
		if v, ok := ctx.verifiers[password]; ok {
			p.v = v
		} else {
			if ctx.verifiers == nil {
				ctx.verifiers = map[string]string{}
			}
			ctx.verifiers[password] = p.v
		}
	}
	ctx.vmu.Unlock()
	close(p.done)
	if p.err != nil {
		return "", fmt.Errorf("verifier for role %q: %w", role, p.err)
	}
	return p.v, nil
}

// pendingVerifier is a new verifier being computed; done is closed when v or
// err is set.
type pendingVerifier struct {
	done chan struct{}
	v    string
	err  error
}

func (ctx *Context) remember(password, v string) {
	ctx.vmu.Lock()
	defer ctx.vmu.Unlock()
	if ctx.verifiers == nil {
		ctx.verifiers = map[string]string{}
	}
	if _, ok := ctx.verifiers[password]; !ok {
		ctx.verifiers[password] = v
	}
}

// check runs scram.Check once per (verifier, password) in a build.
func (ctx *Context) check(v, password string) bool {
	key := v + "\x00" + password
	ctx.vmu.Lock()
	ok, seen := ctx.checked[key]
	ctx.vmu.Unlock()
	if seen {
		return ok
	}
	ok = scram.Check(v, password)
	ctx.vmu.Lock()
	if ctx.checked == nil {
		ctx.checked = map[string]bool{}
	}
	ctx.checked[key] = ok
	ctx.vmu.Unlock()
	return ok
}

// previousVerifiers collects verifiers written for role in the previous
// bundle: lines of roles.sql that name the role (as "role" or 'role'), and
// the role's line in each userlist.txt, in file and line order.
func (ctx *Context) previousVerifiers(cl *compiler.Cluster, role string) []string {
	lines := ctx.previousLines(cl)
	if len(lines) == 0 {
		return nil
	}
	quotedID := `"` + strings.ReplaceAll(role, `"`, `""`) + `"`
	quotedLit := `'` + strings.ReplaceAll(role, `'`, `''`) + `'`
	var out []string
	for _, l := range lines {
		if strings.Contains(l.text, quotedID) || strings.Contains(l.text, quotedLit) {
			out = append(out, l.verifiers...)
		}
	}
	return out
}

// verifierLine is a line of a previous-bundle file that holds verifiers.
type verifierLine struct {
	text      string
	verifiers []string
}

// prevLines is the per-cluster index of the previous bundle's verifier lines.
type prevLines struct {
	once  sync.Once
	lines []verifierLine
}

// previousLines reads a cluster's roles.sql and userlist.txt files of the
// previous bundle once per build and keeps only the lines that hold a
// verifier. Every role of the cluster asks for its verifiers (about 14 calls
// per cluster: roles.sql, then each member's userlist.txt); reading and
// scanning the four files on each call made a 1000-cluster rebuild read
// 56,000 files and allocate gigabytes of scanner buffers (measured: 1.1 s of
// CPU of a 5.7 s rebuild).
func (ctx *Context) previousLines(cl *compiler.Cluster) []verifierLine {
	ctx.vmu.Lock()
	if ctx.prev == nil {
		ctx.prev = map[string]*prevLines{}
	}
	pl := ctx.prev[cl.Name]
	if pl == nil {
		pl = &prevLines{}
		ctx.prev[cl.Name] = pl
	}
	ctx.vmu.Unlock()
	pl.once.Do(func() {
		files := []string{path.Join(cl.Name, "sql", "roles.sql")}
		for _, m := range cl.Members {
			files = append(files, path.Join(cl.Name, m.Name, "pgbouncer", "userlist.txt"))
		}
		for _, f := range files {
			data := ctx.Opts.Previous(f)
			for len(data) > 0 {
				// Lines as bufio.ScanLines cuts them: at LF, without a trailing CR.
				line := data
				if i := bytes.IndexByte(data, '\n'); i >= 0 {
					line, data = data[:i], data[i+1:]
				} else {
					data = nil
				}
				line = bytes.TrimSuffix(line, []byte{'\r'})
				if !bytes.Contains(line, []byte("SCRAM-SHA-256$")) {
					continue
				}
				text := string(line)
				if vs := verifierRE.FindAllString(text, -1); len(vs) > 0 {
					pl.lines = append(pl.lines, verifierLine{text: text, verifiers: vs})
				}
			}
		}
	})
	return pl.lines
}
