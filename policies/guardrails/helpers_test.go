package guardrails

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// m and l keep the test tables short: a property map and an array.
type (
	m = map[string]any
	l = []any
)

// secret marks a test value as a Pulumi secret.
type secret struct{ v any }

// unknown is a value not known until the resource it comes from exists.
var unknown = property.New(property.Computed)

func val(x any) property.Value {
	switch x := x.(type) {
	case nil:
		return property.Value{}
	case property.Value:
		return x
	case secret:
		return val(x.v).WithSecret(true)
	case string:
		return property.New(x)
	case bool:
		return property.New(x)
	case int:
		return property.New(float64(x))
	case float64:
		return property.New(x)
	case []string:
		vs := make([]property.Value, len(x))
		for i, s := range x {
			vs[i] = property.New(s)
		}
		return property.New(vs)
	case l:
		vs := make([]property.Value, len(x))
		for i, e := range x {
			vs[i] = val(e)
		}
		return property.New(vs)
	case m:
		vs := make(map[string]property.Value, len(x))
		for k, e := range x {
			vs[k] = val(e)
		}
		return property.New(vs)
	}
	panic(fmt.Sprintf("val: unsupported %T", x))
}

// res builds a resource of type typ whose Pulumi name is name.
func res(typ, name string, props m) Resource {
	return Resource{Type: typ, Name: name, URN: "urn:pulumi:test::tenant::" + typ + "::" + name, Props: val(props).AsMap()}
}

// obj builds a Kubernetes object; metadata gets name, namespace (when not
// empty) and labels (when not nil), and rest adds top-level fields.
func obj(typ, namespace, name string, labels m, rest m) Resource {
	md := m{"name": name}
	if namespace != "" {
		md["namespace"] = namespace
	}
	if labels != nil {
		md["labels"] = labels
	}
	props := m{"metadata": md}
	for k, v := range rest {
		props[k] = v
	}
	return res(typ, name, props)
}

// with returns a copy of base with the top-level keys of extra set (nil
// deletes a key).
func with(base, extra m) m {
	out := m{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func assertMessages(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("messages differ\n got: %q\nwant: %q", got, want)
	}
}

func assertViolations(t *testing.T, got, want []Violation) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("violations differ\n got: %+v\nwant: %+v", got, want)
	}
}
