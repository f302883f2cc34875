package render

import (
	"bufio"
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
	defer ctx.vmu.Unlock()
	if v, ok := ctx.verifiers[password]; ok {
		return v, nil
	}
	if ctx.saltKey == nil && ctx.Opts.Rand != nil {
		// Renderers called directly (tests) get the key on first use;
		// Render reads it before starting its workers.
		key := make([]byte, 32)
		if _, err := io.ReadFull(ctx.Opts.Rand, key); err != nil {
			return "", fmt.Errorf("random source: %w", err)
		}
		ctx.saltKey = key
	}
	if ctx.saltKey == nil {
		return "", fmt.Errorf("no random source for a new verifier of role %q", role)
	}
	// The salt is keyed by a per-build random key: random across builds,
	// but independent of the order in which concurrent renderers ask, so
	// tests with a seeded source get the same bytes every time.
	mac := hmac.New(sha256.New, ctx.saltKey)
	mac.Write([]byte(password))
	v, err := scram.Verifier(password, mac.Sum(nil)[:16], 4096)
	if err != nil {
		return "", fmt.Errorf("verifier for role %q: %w", role, err)
	}
	if ctx.verifiers == nil {
		ctx.verifiers = map[string]string{}
	}
	ctx.verifiers[password] = v
	return v, nil
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
// the role's line in each userlist.txt.
func (ctx *Context) previousVerifiers(cl *compiler.Cluster, role string) []string {
	var out []string
	files := []string{path.Join(cl.Name, "sql", "roles.sql")}
	for _, m := range cl.Members {
		files = append(files, path.Join(cl.Name, m.Name, "pgbouncer", "userlist.txt"))
	}
	quotedID := `"` + strings.ReplaceAll(role, `"`, `""`) + `"`
	quotedLit := `'` + strings.ReplaceAll(role, `'`, `''`) + `'`
	for _, f := range files {
		data := ctx.Opts.Previous(f)
		if data == nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, quotedID) && !strings.Contains(line, quotedLit) {
				continue
			}
			out = append(out, verifierRE.FindAllString(line, -1)...)
		}
	}
	return out
}
