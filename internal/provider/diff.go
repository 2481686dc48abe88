package provider

import (
	"slices"

	p "github.com/pulumi/pulumi-go-provider"
)

// changes accumulates a resource's property differences and whether each
// can be applied in place.
type changes struct {
	detail map[string]p.PropertyDiff
	// deleteFirst asks for delete-before-replace: the new resource would
	// collide with the old one (same name on the server, overlapping grant).
	deleteFirst bool
}

func newChanges() *changes { return &changes{detail: map[string]p.PropertyDiff{}} }

// update records prop as changed in place when differ is true.
func (c *changes) update(prop string, differ bool) {
	if differ {
		c.detail[prop] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
}

// replace records prop as forcing a replacement when differ is true.
func (c *changes) replace(prop string, differ bool) {
	if differ {
		c.detail[prop] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
}

// drift records that the live object no longer matches its inputs (seen by
// Read), so an update must run even though the inputs did not change.
func (c *changes) drift(prop string, drifted bool) {
	if drifted {
		c.detail[prop] = p.PropertyDiff{Kind: p.Update}
	}
}

func (c *changes) response() p.DiffResponse {
	replaces := false
	for _, d := range c.detail {
		if d.Kind == p.UpdateReplace {
			replaces = true
		}
	}
	return p.DiffResponse{
		HasChanges:          len(c.detail) > 0,
		DetailedDiff:        c.detail,
		DeleteBeforeReplace: replaces && c.deleteFirst,
	}
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func intOr(i *int, def int) int {
	if i == nil {
		return def
	}
	return *i
}

func stringOr(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// keepOrder returns observed in prior's order when both hold the same set,
// so a refresh of an unchanged object reports no change; otherwise observed
// sorted.
func keepOrder(prior, observed []string) []string {
	if sameSet(prior, observed) {
		return prior
	}
	if len(observed) == 0 {
		return nil
	}
	out := slices.Clone(observed)
	slices.Sort(out)
	return out
}
