package render

import (
	"fmt"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render/inifmt"
)

// The pgbouncer renderer registers here, in a file whose name sorts after
// sql_*.go, because Go runs init functions in file-name order and Render
// calls renderers in registration order: roles.sql asks ctx.Verifier for
// every password first, and userlist.txt then finds each verifier in the
// cache. Registered earlier, the userlist would draw the first salts from
// the shared random source and shift every salt of roles.sql (its goldens
// use a seeded source).
func init() {
	RegisterCluster(ClusterRenderer{Name: "pgbouncer", Render: renderPgbouncer})
}

// pgbUserlist renders the body of userlist.txt (pooling-services.md §1.4):
// SCRAM verifiers from ctx.Verifier, byte-identical to roles.sql's, so that
// pgbouncer can reuse the client's SCRAM proof against PostgreSQL.
func pgbUserlist(ctx *Context, cl *compiler.Cluster) ([]byte, error) {
	var b strings.Builder
	for _, e := range compiler.PgbouncerUsers(cl) {
		secret := ""
		if e.Password != "" {
			v, err := ctx.Verifier(cl, e.Name, e.Password)
			if err != nil {
				return nil, fmt.Errorf("userlist.txt: %w", err)
			}
			secret = v
		}
		line, err := inifmt.AuthLine(e.Name, secret)
		if err != nil {
			return nil, fmt.Errorf("userlist.txt: %w", err)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}
