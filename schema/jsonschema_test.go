package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/jsonschema"
)

// jsonSchemaAsCUE imports the generated JSON Schema back with CUE's own
// JSON Schema decoder (strict draft-07): a proof that it is a well-formed
// schema that another tool reads as we mean it.
func jsonSchemaAsCUE(t *testing.T) (cue.Value, map[string]any) {
	t.Helper()
	data, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	ctx := cuecontext.New()
	v := ctx.CompileBytes(data)
	if v.Err() != nil {
		t.Fatal(v.Err())
	}
	f, err := jsonschema.Extract(v, &jsonschema.Config{Strict: true, DefaultVersion: jsonschema.VersionDraft7})
	if err != nil {
		t.Fatalf("CUE's JSON Schema decoder rejects the schema: %v", err)
	}
	sch := ctx.BuildFile(f)
	if sch.Err() != nil {
		t.Fatal(sch.Err())
	}
	return sch, raw
}

// TestJSONSchemaKeepsConstraints: bounds, enums and patterns survive in the
// JSON Schema (what yaml-language-server shows and checks).
func TestJSONSchemaKeepsConstraints(t *testing.T) {
	_, raw := jsonSchemaAsCUE(t)
	vars := raw["definitions"].(map[string]any)["Vars"].(map[string]any)["properties"].(map[string]any)
	get := func(name string) string {
		b, _ := json.Marshal(vars[name])
		return string(b)
	}
	for _, c := range []struct{ name, want string }{
		{"pg_role", `"enum":["primary","replica","offline","standby","delayed"]`},
		{"pg_version", `"maximum":19`},
		{"pg_version", `"minimum":13`},
		{"pg_max_conn", `"maximum":10000`},
		{"pg_max_conn", `"auto"`},
		{"pg_port", `{"$ref":"#/definitions/Port"}`},
		{"pg_cluster", `"$ref":"#/definitions/ClusterName"`},
		{"pg_users", `"$ref":"#/definitions/User"`},
	} {
		if got := get(c.name); !strings.Contains(got, c.want) {
			t.Errorf("%s: %s lacks %s", c.name, got, c.want)
		}
	}
	defs := raw["definitions"].(map[string]any)
	port, _ := json.Marshal(defs["Port"])
	if string(port) != `{"maximum":65535,"minimum":1,"type":"integer"}` {
		t.Errorf("Port = %s", port)
	}
	user, _ := json.Marshal(defs["User"])
	for _, want := range []string{`"additionalProperties":false`, `"required":["name"]`, `"pattern":"^[a-z_][a-z0-9_@.-]{0,62}$"`} {
		if !strings.Contains(string(user)+mustJSON(defs["RoleName"]), want) {
			t.Errorf("User lacks %s: %s", want, user)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestJSONSchemaValidates: the reference inventory passes the JSON Schema
// and typical mistakes fail it.
func TestJSONSchemaValidates(t *testing.T) {
	sch, _ := jsonSchemaAsCUE(t)
	ref := filepath.Join("..", "..", "shared", "testdata", "reference", "pg-test.yml")
	data, err := os.ReadFile(ref)
	if err != nil {
		t.Skipf("shared test data not found (%v); the JSON Schema check against the reference inventory needs it", err)
	}
	root, ds := ParseYAML("pg-test.yml", data)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	check := func(name string, doc any, wantOK bool) {
		t.Helper()
		b, _ := json.Marshal(doc)
		v := sch.Context().CompileBytes(b)
		err := sch.Unify(v).Validate(cue.Concrete(true))
		if (err == nil) != wantOK {
			t.Errorf("%s: valid=%v, want %v (%v)", name, err == nil, wantOK, err)
		}
	}
	check("reference", root.Interface(), true)
	mutate := func(f func(pgTest map[string]any)) any {
		doc := root.Interface().(map[string]any)
		all := doc["all"].(map[string]any)
		f(all["children"].(map[string]any)["pg-test"].(map[string]any)["vars"].(map[string]any))
		return doc
	}
	check("pg_version 12", mutate(func(v map[string]any) { v["pg_version"] = 12 }), false)
	check("pg_max_conn 10", mutate(func(v map[string]any) { v["pg_max_conn"] = 10 }), false)
	check("pg_max_conn auto", mutate(func(v map[string]any) { v["pg_max_conn"] = "auto" }), true)
	check("pg_role master", mutate(func(v map[string]any) { v["pg_role"] = "master" }), false)
	check("user upper case", mutate(func(v map[string]any) {
		v["pg_users"] = []any{map[string]any{"name": "dbuser_Meta"}}
	}), false)
	check("database alias key", mutate(func(v map[string]any) {
		v["pg_databases"] = []any{map[string]any{"name": "x", "pool_size_reserve": 3}}
	}), false)
	check("other module var", mutate(func(v map[string]any) { v["node_tune"] = "oltp" }), true)
}
