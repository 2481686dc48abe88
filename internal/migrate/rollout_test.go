package migrate

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tenantstack/tenantstack/internal/migrate/source"
)

func testSet(t *testing.T) *source.Set {
	t.Helper()
	set, err := source.LoadFS(fstest.MapFS{
		"m/0001_a.up.sql":        {Data: []byte("CREATE TABLE a (tenant_id text NOT NULL, id int);")},
		"m/0002_b.up.sql":        {Data: []byte("ALTER TABLE a ADD COLUMN b int;")},
		"m/0003_drop_a.up.sql":   {Data: []byte("-- tenantstack:contract\nALTER TABLE a DROP COLUMN id;")},
		"m/0004_c.up.sql":        {Data: []byte("ALTER TABLE a ADD COLUMN c int;")},
		"m/0005_drop_b.up.sql":   {Data: []byte("-- tenantstack:contract\nALTER TABLE a DROP COLUMN b;")},
		"m/0006_after.up.sql":    {Data: []byte("ALTER TABLE a ADD COLUMN d int;")},
		"m/0006_after.down.sql":  {Data: []byte("ALTER TABLE a DROP COLUMN d;")},
		"m/README.md":            {Data: []byte("ignored")},
		"m/0001_a.down.sql":      {Data: []byte("DROP TABLE a;")},
		"m/0002_b.down.sql":      {Data: []byte("ALTER TABLE a DROP COLUMN b;")},
		"m/0004_c.down.sql":      {Data: []byte("ALTER TABLE a DROP COLUMN c;")},
		"m/0003_drop_a.down.sql": {Data: []byte("ALTER TABLE a ADD COLUMN id int;")},
	}, "m")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// at records versions 1..v of set as applied.
func at(set *source.Set, v int64) applied {
	a := applied{}
	for _, m := range set.Upto(v) {
		a[m.Version] = m.Checksum
	}
	return a
}

func fleetState(set *source.Set, versions map[string]int64) *state {
	st := &state{applied: map[string]applied{}}
	for _, name := range []string{SharedTarget, "acme", "globex"} {
		v, ok := versions[name]
		if !ok {
			continue
		}
		t := sharedTarget("platform")
		if name != SharedTarget {
			t = Target{Name: name, Tier: "schema"}
		}
		st.targets = append(st.targets, t)
		st.applied[name] = at(set, v)
	}
	return st
}

func TestPlanHoldsContractMigrations(t *testing.T) {
	set := testSet(t)
	e := &Engine{Set: set}
	tests := []struct {
		name     string
		versions map[string]int64
		opts     PlanOptions
		goal     int64
		held     []int64
		pending  map[string][]int64
		refused  string
	}{
		{"a new fleet stops before the first contract", map[string]int64{SharedTarget: 0, "acme": 0}, PlanOptions{}, 2, []int64{3, 5},
			map[string][]int64{SharedTarget: {1, 2}, "acme": {1, 2}}, ""},
		{"--to stops earlier", map[string]int64{SharedTarget: 0}, PlanOptions{To: 1}, 1, []int64{}, map[string][]int64{SharedTarget: {1}}, ""},
		{"--contract is refused while a target is behind", map[string]int64{SharedTarget: 2, "acme": 1}, PlanOptions{Contract: true}, 0, nil, nil,
			"targets have not applied everything before it (acme)"},
		{"--contract runs it, and holds the next contract", map[string]int64{SharedTarget: 2, "acme": 2}, PlanOptions{Contract: true}, 4, []int64{5},
			map[string][]int64{SharedTarget: {3, 4}, "acme": {3, 4}}, ""},
		{"--contract once everything before it is everywhere", map[string]int64{SharedTarget: 4, "acme": 4}, PlanOptions{Contract: true}, 6, []int64{},
			map[string][]int64{SharedTarget: {5, 6}, "acme": {5, 6}}, ""},
		{"an applied contract holds nothing", map[string]int64{SharedTarget: 3, "acme": 3}, PlanOptions{}, 4, []int64{5},
			map[string][]int64{SharedTarget: {4}, "acme": {4}}, ""},
		{"--to a version that is not there", map[string]int64{SharedTarget: 0}, PlanOptions{To: 9}, 0, nil, nil, "--to 9 is not a version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.plan(fleetState(set, tt.versions), tt.opts)
			if tt.refused != "" {
				if err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("plan = %+v, %v; want refused with %q", p, err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Goal != tt.goal || !slices.Equal(p.Held, tt.held) {
				t.Fatalf("goal %d held %v; want %d %v", p.Goal, p.Held, tt.goal, tt.held)
			}
			for _, tp := range p.Targets {
				if !slices.Equal(tp.Pending, tt.pending[tp.Target]) {
					t.Errorf("%s pending %v, want %v", tp.Target, tp.Pending, tt.pending[tp.Target])
				}
			}
		})
	}
}

func TestCheckAppliedRefusesEditsAndMissingFiles(t *testing.T) {
	set := testSet(t)
	have := at(set, 2)
	if err := checkApplied(set, "acme", have); err != nil {
		t.Fatalf("a matching record: %v", err)
	}
	edited := at(set, 2)
	edited[2] = "0000"
	if err := checkApplied(set, "acme", edited); err == nil || !strings.Contains(err.Error(), "0002_b.up.sql was edited after target acme applied it") {
		t.Fatalf("an edited file: %v", err)
	}
	gone := at(set, 2)
	gone[40] = "x"
	if err := checkApplied(set, "acme", gone); err == nil || !strings.Contains(err.Error(), "has version 40 applied") {
		t.Fatalf("a file removed: %v", err)
	}
}

func TestSplitCanary(t *testing.T) {
	pending := []Target{sharedTarget("p"), {Name: "acme"}, {Name: "globex"}, {Name: "initech"}}
	names := func(ts []Target) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Name)
		}
		return out
	}
	c, r, err := splitCanary(pending, UpOptions{})
	if err != nil || !slices.Equal(names(c), []string{"acme"}) || !slices.Equal(names(r), []string{"globex", "initech", "app"}) {
		t.Fatalf("default canary %v rest %v %v: the canary is one tenant's own target, the shared schema goes last", names(c), names(r), err)
	}
	c, r, _ = splitCanary(pending, UpOptions{Canary: -1})
	if len(c) != 0 || len(r) != 4 {
		t.Fatalf("no canary: %v %v", names(c), names(r))
	}
	c, r, _ = splitCanary(pending, UpOptions{CanaryNames: []string{"initech", "app"}})
	if !slices.Equal(names(c), []string{"initech", "app"}) || !slices.Equal(names(r), []string{"acme", "globex"}) {
		t.Fatalf("named canary %v rest %v", names(c), names(r))
	}
	if _, _, err := splitCanary(pending, UpOptions{CanaryNames: []string{"nobody"}}); !errors.Is(err, ErrRefused) {
		t.Fatalf("an unknown canary: %v", err)
	}
}

func TestDriftComparesWithTheMajority(t *testing.T) {
	same := []string{"column a.id integer", "table a (r)"}
	odd := []string{"column a.hacked integer", "column a.id integer", "table a (r)"}
	prints := map[int][]string{0: same, 1: odd, 2: same}
	ref := majority([]int{0, 1, 2}, func(i int) string { return strings.Join(prints[i], "\n") })
	if ref == 1 {
		t.Fatal("the odd one out was taken as the reference")
	}
	if d := diffLines(prints[ref], odd); !slices.Equal(d, []string{"+ column a.hacked integer"}) {
		t.Fatalf("diff = %v", d)
	}
	if d := diffLines(odd, same); !slices.Equal(d, []string{"- column a.hacked integer"}) {
		t.Fatalf("diff = %v", d)
	}
}

func TestFailureNamesWhere(t *testing.T) {
	f := &Failure{Target: "acme", File: "0002_b.up.sql", Line: 3, Statement: "ALTER TABLE a ADD CHECK (b > 0)", SQLState: "23514", Message: "check constraint is violated by some row"}
	want := "target acme: 0002_b.up.sql:3: check constraint is violated by some row (SQLSTATE 23514)\n    statement: ALTER TABLE a ADD CHECK (b > 0)"
	if f.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", f.Error(), want)
	}
}
