package guardrails

import (
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Resource is what a rule sees of one resource: its type token, its
// properties, and the names used to point at it in a message.
type Resource struct {
	// Type is the type token, e.g. kubernetes:core/v1:Namespace.
	Type string
	// Name is the Pulumi resource name; messages fall back to it when the
	// object has no name of its own.
	Name string
	// URN identifies the resource to the engine.
	URN string
	// Props are the resource's inputs (resource policies) or outputs (stack
	// policies), with secretness and unknowns preserved.
	Props property.Map
}

// Violation is a broken rule found by a stack-wide check: the resource at
// fault and a message that says what is wrong and how to fix it.
type Violation struct {
	URN     string
	Message string
}

func fromAnalyzer(r policyx.AnalyzerResource) Resource {
	return Resource{Type: r.Type, Name: r.Name, URN: r.URN, Props: r.Properties}
}

// lookup follows keys through nested maps. It returns null when a key is
// missing or a step is not a map, and a computed value when a step is unknown.
func lookup(m property.Map, keys ...string) property.Value {
	v := property.New(m)
	for _, k := range keys {
		switch {
		case v.IsComputed():
			return v
		case !v.IsMap():
			return property.Value{}
		}
		v = v.AsMap().Get(k)
	}
	return v
}

// stringOf returns v's string when it is a known string.
func stringOf(v property.Value) (string, bool) {
	if !v.IsString() {
		return "", false
	}
	return v.AsString(), true
}

// isTrue reports whether v is the known boolean true.
func isTrue(v property.Value) bool { return v.IsBool() && v.AsBool() }

// isFalse reports whether v is the known boolean false.
func isFalse(v property.Value) bool { return v.IsBool() && !v.AsBool() }

// stringList returns the known strings of v, which may be one string or an
// array of strings; unknown elements are left out.
func stringList(v property.Value) []string {
	if s, ok := stringOf(v); ok {
		return []string{s}
	}
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.AsArray().All {
		if s, ok := stringOf(e); ok {
			out = append(out, s)
		}
	}
	return out
}

// mapList returns the elements of v that are maps, keeping their index.
func mapList(v property.Value) map[int]property.Map {
	if !v.IsArray() {
		return nil
	}
	out := map[int]property.Map{}
	for i, e := range v.AsArray().All {
		if e.IsMap() {
			out[i] = e.AsMap()
		}
	}
	return out
}

// isSet reports whether v holds a value (unknown counts as set).
func isSet(v property.Value) bool {
	if s, ok := stringOf(v); ok {
		return s != ""
	}
	return !v.IsNull()
}

// isSecretOrUnknown reports whether v is a Pulumi secret, or is unknown and so
// cannot be judged yet. A map or array counts as secret when it is secret
// itself or every element is.
func isSecretOrUnknown(v property.Value) bool {
	if v.Secret() || v.IsComputed() {
		return true
	}
	switch {
	case v.IsMap():
		for _, e := range v.AsMap().All {
			if !isSecretOrUnknown(e) {
				return false
			}
		}
		return true
	case v.IsArray():
		for _, e := range v.AsArray().All {
			if !isSecretOrUnknown(e) {
				return false
			}
		}
		return true
	}
	return false
}

// displayName is the name a message uses for r: the first of keys (a path
// into the properties) that is a known non-empty string, else the Pulumi name.
func displayName(r Resource, keys ...string) string {
	if s, ok := stringOf(lookup(r.Props, keys...)); ok && s != "" {
		return s
	}
	return r.Name
}
