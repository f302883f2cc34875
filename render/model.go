package render

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
)

// secretKey reports keys whose values are credentials: they never reach
// model.json (README "Secrets").
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "pass", "secret", "s3_key", "token"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

const redacted = "(secret)"

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if secretKey(k) {
				out[k] = redacted
			} else {
				out[k] = redact(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(e)
		}
		return out
	}
	return v
}

type modelVar struct {
	Value any    `json:"value"`
	From  string `json:"from"`
}

type modelInstance struct {
	Name  string              `json:"name"`
	IP    string              `json:"ip"`
	Seq   int                 `json:"seq"`
	Role  string              `json:"role"`
	Group string              `json:"group"`
	Vars  map[string]modelVar `json:"vars"` // only the values that differ between members
}

type modelCluster struct {
	Format    int                 `json:"format"`
	Cluster   string              `json:"cluster"`
	Primary   string              `json:"primary"`
	MemberIPs []string            `json:"member_ips"`
	AdminIP   string              `json:"admin_ip"`
	InfraIPs  []string            `json:"infra_ips"`
	EtcdIPs   []string            `json:"etcd_ips"`
	Vars      map[string]modelVar `json:"vars"` // same value and origin on every member
	Instances []modelInstance     `json:"instances"`
}

// renderModel writes <cluster>/model.json: the resolved model with the
// provenance of every value and no secrets. A variable with the same value
// and origin on every member is written once at cluster level; the others
// per instance (that keeps a 3-member cluster's file about a third the size).
func renderModel(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	m := modelCluster{Format: 1, Cluster: cl.Name, MemberIPs: cl.MemberIPs, AdminIP: ctx.Fleet.AdminIP,
		InfraIPs: nonNil(ctx.Fleet.InfraIPs), EtcdIPs: nonNil(ctx.Fleet.EtcdIPs), Vars: map[string]modelVar{}}
	if cl.Primary != nil {
		m.Primary = cl.Primary.Name
	}
	conv := func(in *compiler.Instance, k string) modelVar {
		v := in.Vars[k]
		val := v.V
		if secretKey(k) {
			val = redacted
		} else {
			val = redact(val)
		}
		return modelVar{Value: val, From: v.Prov.String()}
	}
	first := cl.Members[0]
	shared := map[string]bool{}
	for _, k := range compiler.SortedKeys(first.Vars) {
		same := true
		a := first.Vars[k]
		for _, in := range cl.Members[1:] {
			b, ok := in.Vars[k]
			if !ok || b.Prov != a.Prov || !reflect.DeepEqual(a.V, b.V) {
				same = false
				break
			}
		}
		if same {
			shared[k] = true
			m.Vars[k] = conv(first, k)
		}
	}
	for _, in := range cl.Members {
		mi := modelInstance{Name: in.Name, IP: in.IP, Seq: in.Seq, Role: in.Role, Group: in.Group, Vars: map[string]modelVar{}}
		for _, k := range compiler.SortedKeys(in.Vars) {
			if !shared[k] {
				mi.Vars[k] = conv(in, k)
			}
		}
		m.Instances = append(m.Instances, mi)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return []File{{Path: cl.Name + "/model.json", Data: buf.Bytes(), Mode: ModePublic}}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
