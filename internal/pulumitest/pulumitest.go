// Package pulumitest holds what component unit tests share: a mock resource
// monitor that records registrations, and helpers that read outputs and
// property maps. It is for tests only.
package pulumitest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Recorder is a mock resource monitor (pulumi.MockResourceMonitor) that
// records every registration and refuses resource types a component is not
// expected to create.
type Recorder struct {
	component string
	allowed   map[string]bool

	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
}

// NewRecorder returns a Recorder for the component type token, accepting
// the given child type tokens.
func NewRecorder(component string, children ...string) *Recorder {
	r := &Recorder{component: component, allowed: map[string]bool{}}
	for _, c := range children {
		r.allowed[c] = true
	}
	return r
}

// NewResource records a registration; children echo their inputs as state.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	r.resources = append(r.resources, args)
	r.mu.Unlock()
	switch {
	case args.TypeToken == r.component:
		return "", resource.PropertyMap{}, nil
	case r.allowed[args.TypeToken]:
		return args.Name + "-id", args.Inputs, nil
	}
	return "", nil, fmt.Errorf("unexpected resource type %q", args.TypeToken)
}

// Call refuses every provider function call.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected call %q", args.Token)
}

// All returns every registration so far.
func (r *Recorder) All() []pulumi.MockResourceArgs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.resources)
}

// ByName returns the registration of typ called name, failing the test if
// there is none.
func (r *Recorder) ByName(t *testing.T, typ, name string) pulumi.MockResourceArgs {
	t.Helper()
	for _, a := range r.All() {
		if a.TypeToken == typ && a.Name == name {
			return a
		}
	}
	t.Fatalf("no %s named %q was registered", typ, name)
	return pulumi.MockResourceArgs{}
}

// Children lists "type name" of every registration but the component's and
// those of the skipped types, sorted: registrations are concurrent.
func (r *Recorder) Children(skip ...string) []string {
	var out []string
	for _, a := range r.All() {
		if a.TypeToken != r.component && !slices.Contains(skip, a.TypeToken) {
			out = append(out, a.TypeToken+" "+a.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Await blocks until out resolves; call it inside the program.
func Await[T any](t *testing.T, out pulumi.Output) T {
	t.Helper()
	ch := make(chan T, 1)
	out.ApplyT(func(v T) T { ch <- v; return v })
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("output of type %s never resolved", out.ElementType())
		var zero T
		return zero
	}
}

// Get walks pm along path; array elements are addressed by their index.
// Secrets on the way are unwrapped; the value at the end is returned as it is.
func Get(t *testing.T, pm resource.PropertyMap, path ...string) resource.PropertyValue {
	t.Helper()
	v, _ := walk(t, pm, path...)
	return v
}

// SecretAt reports whether the value at path, or anything that holds it, is secret.
func SecretAt(t *testing.T, pm resource.PropertyMap, path ...string) bool {
	t.Helper()
	_, secret := walk(t, pm, path...)
	return secret
}

func walk(t *testing.T, pm resource.PropertyMap, path ...string) (v resource.PropertyValue, secret bool) {
	t.Helper()
	v = resource.NewObjectProperty(pm)
	for i, k := range path {
		if v.IsSecret() {
			v, secret = v.SecretValue().Element, true
		}
		switch {
		case v.IsObject():
			v = v.ObjectValue()[resource.PropertyKey(k)]
		case v.IsArray():
			n, err := strconv.Atoi(k)
			if err != nil || n >= len(v.ArrayValue()) {
				t.Fatalf("%s: no element %q", strings.Join(path[:i+1], "."), k)
			}
			v = v.ArrayValue()[n]
		default:
			t.Fatalf("%s: %v is neither an object nor an array", strings.Join(path[:i+1], "."), v)
		}
	}
	return v, secret || v.IsSecret()
}

// Str returns the string at path, unwrapping a secret; it fails on anything else.
func Str(t *testing.T, pm resource.PropertyMap, path ...string) string {
	t.Helper()
	v := Get(t, pm, path...)
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		t.Fatalf("%s = %v, want a string", strings.Join(path, "."), v)
	}
	return v.StringValue()
}

// Strs returns the strings of an array value.
func Strs(t *testing.T, v resource.PropertyValue) []string {
	t.Helper()
	if !v.IsArray() {
		t.Fatalf("%v is not an array", v)
	}
	var out []string
	for _, e := range v.ArrayValue() {
		out = append(out, e.StringValue())
	}
	return out
}

// StringMap returns the entries of a map of strings.
func StringMap(t *testing.T, v resource.PropertyValue) map[string]string {
	t.Helper()
	if !v.IsObject() {
		t.Fatalf("want a map, got %v", v)
	}
	m := map[string]string{}
	for k, e := range v.ObjectValue() {
		m[string(k)] = e.StringValue()
	}
	return m
}

// URNOf is the URN the mock monitor gives a child of the component.
func URNOf(componentURN, typ, name string) string {
	// urn:pulumi:stack::project::<parent types>$<type>::<name>
	prefix, _, _ := strings.Cut(strings.TrimPrefix(componentURN, "urn:pulumi:stack::project::"), "::")
	return "urn:pulumi:stack::project::" + prefix + "$" + typ + "::" + name
}
