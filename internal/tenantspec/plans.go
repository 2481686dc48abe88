package tenantspec

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Limits are a tenant's per-login-role limits in PostgreSQL, each enforced
// by the server itself (ALTER ROLE ... SET on both of the tenant's login
// roles). Zero fields take the plan's value, or have no limit without a
// plan. They apply to sessions that start after a change; a session
// already open keeps the values it started with (SessionLimits).
type Limits struct {
	// StatementTimeout cancels any statement running longer
	// (statement_timeout), e.g. "30s".
	StatementTimeout string `json:"statement_timeout,omitempty" yaml:"statement_timeout,omitempty"`
	// IdleInTransactionTimeout ends a session idle inside a transaction
	// longer (idle_in_transaction_session_timeout), e.g. "60s".
	IdleInTransactionTimeout string `json:"idle_in_transaction_session_timeout,omitempty" yaml:"idle_in_transaction_session_timeout,omitempty"`
	// WorkMem bounds each sort or hash before it spills to disk (work_mem),
	// e.g. "16MB".
	WorkMem string `json:"work_mem,omitempty" yaml:"work_mem,omitempty"`
	// TempFileLimit bounds the temporary files of one session
	// (temp_file_limit), e.g. "1GB".
	TempFileLimit string `json:"temp_file_limit,omitempty" yaml:"temp_file_limit,omitempty"`
}

// Plan is a named bundle of a tier and limits, chosen with create --plan
// or a fleet file's plan:.
type Plan struct {
	Name string `json:"name" yaml:"name"`
	// Tier is where a tenant of the plan is created when no tier is given.
	Tier Tier `json:"tier" yaml:"tier"`
	// ConnectionLimit is each login role's CONNECTION LIMIT.
	ConnectionLimit int    `json:"connection_limit" yaml:"connection_limit"`
	Limits          Limits `json:"limits" yaml:"limits"`
	// Quota bounds the tenant's namespace.
	Quota Quota `json:"quota" yaml:"quota"`
}

// The default plans. They are a starting point: a platform names its own
// with LoadPlans.
var defaultPlans = []Plan{
	{Name: "basic", Tier: TierShared, ConnectionLimit: 10,
		Limits: Limits{StatementTimeout: "5s", IdleInTransactionTimeout: "30s", WorkMem: "4MB", TempFileLimit: "256MB"},
		Quota:  Quota{CPU: "1", Memory: "2Gi", Pods: 10, Services: 5, PVCs: 2, Storage: "10Gi"}},
	{Name: "standard", Tier: TierSchema, ConnectionLimit: 20,
		Limits: Limits{StatementTimeout: "30s", IdleInTransactionTimeout: "60s", WorkMem: "16MB", TempFileLimit: "1GB"},
		Quota:  Quota{CPU: "2", Memory: "4Gi", Pods: 20, Services: 10, PVCs: 5, Storage: "20Gi"}},
	{Name: "premium", Tier: TierDatabase, ConnectionLimit: 50,
		Limits: Limits{StatementTimeout: "120s", IdleInTransactionTimeout: "300s", WorkMem: "64MB", TempFileLimit: "10GB"},
		Quota:  Quota{CPU: "8", Memory: "16Gi", Pods: 50, Services: 20, PVCs: 20, Storage: "100Gi"}},
}

// DefaultPlans returns the plans every platform has, by name.
func DefaultPlans() map[string]Plan {
	out := make(map[string]Plan, len(defaultPlans))
	for _, p := range defaultPlans {
		out[p.Name] = p
	}
	return out
}

// LookupPlan returns the default plan named name.
func LookupPlan(name string) (Plan, error) {
	p, ok := DefaultPlans()[name]
	if !ok {
		return Plan{}, fmt.Errorf("plan %q is unknown; use %s", name, strings.Join(slices.Sorted(maps.Keys(DefaultPlans())), ", "))
	}
	return p, nil
}

// LimitKeys are the keys --limit accepts, in the order help text lists them.
var LimitKeys = []string{"connections", "statement_timeout", "idle_in_transaction_session_timeout", "work_mem", "temp_file_limit"}

// pgDuration is a duration as PostgreSQL reads it: a whole number with an
// optional unit.
var pgDuration = regexp.MustCompile(`^[1-9][0-9]*(us|ms|s|min|h|d)?$`)

// pgMemory is a memory amount as PostgreSQL reads it.
var pgMemory = regexp.MustCompile(`^[1-9][0-9]*(B|kB|MB|GB|TB)?$`)

// fields are l's checks, keyed as a fleet file spells them.
func (l Limits) fields() []quotaField {
	check := func(v string, re *regexp.Regexp, example string) func() error {
		return func() error {
			if v == "" || re.MatchString(v) {
				return nil
			}
			return fmt.Errorf("%q is not a PostgreSQL %s; use one such as %s", v, map[bool]string{true: "duration", false: "amount of memory"}[re == pgDuration], example)
		}
	}
	return []quotaField{
		{"statement_timeout", check(l.StatementTimeout, pgDuration, "5s, 500ms or 2min")},
		{"idle_in_transaction_session_timeout", check(l.IdleInTransactionTimeout, pgDuration, "30s or 5min")},
		{"work_mem", check(l.WorkMem, pgMemory, "4MB or 64MB")},
		{"temp_file_limit", check(l.TempFileLimit, pgMemory, "256MB or 1GB")},
	}
}

// Merge returns base with every field that over sets replaced.
func (l Limits) Merge(over Limits) Limits {
	l.StatementTimeout = orDefault(over.StatementTimeout, l.StatementTimeout)
	l.IdleInTransactionTimeout = orDefault(over.IdleInTransactionTimeout, l.IdleInTransactionTimeout)
	l.WorkMem = orDefault(over.WorkMem, l.WorkMem)
	l.TempFileLimit = orDefault(over.TempFileLimit, l.TempFileLimit)
	return l
}

// RoleSettings are l as the login roles' settings (ALTER ROLE ... SET).
func (l Limits) RoleSettings() map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{
		"statement_timeout":                   l.StatementTimeout,
		"idle_in_transaction_session_timeout": l.IdleInTransactionTimeout,
		"work_mem":                            l.WorkMem,
		"temp_file_limit":                     l.TempFileLimit,
	} {
		if v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// SetLimit sets one limit of s from --limit key=value.
func SetLimit(s *Spec, key, val string) error {
	switch key {
	case "connections":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			return fmt.Errorf("connections=%s: use a whole number of at least 1", val)
		}
		s.ConnectionLimit = n
		return nil
	case "statement_timeout":
		s.Limits.StatementTimeout = val
	case "idle_in_transaction_session_timeout":
		s.Limits.IdleInTransactionTimeout = val
	case "work_mem":
		s.Limits.WorkMem = val
	case "temp_file_limit":
		s.Limits.TempFileLimit = val
	default:
		return fmt.Errorf("unknown limit %q; use %s (and --quota for the namespace)", key, strings.Join(LimitKeys, ", "))
	}
	for _, f := range s.Limits.fields() {
		if f.key == key {
			if err := f.check(); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	return nil
}

// Effective is what a spec resolves to with its plan: the tier, the
// connection limit, the per-role limits and the quota the services are
// given. Explicit fields win over the plan's.
type Effective struct {
	Tier            Tier
	ConnectionLimit int
	Limits          Limits
	Quota           Quota
}

// Effective resolves s with its plan (none when Plan is empty). It assumes
// s is valid.
func (s Spec) Effective() Effective {
	e := Effective{Tier: Tier(s.Tier), ConnectionLimit: s.ConnectionLimit, Limits: s.Limits, Quota: s.Quota}
	if p, err := LookupPlan(s.Plan); err == nil && s.Plan != "" {
		if e.Tier == "" {
			e.Tier = p.Tier
		}
		e.ConnectionLimit = orDefault(e.ConnectionLimit, p.ConnectionLimit)
		e.Limits = p.Limits.Merge(s.Limits)
		e.Quota = MergeQuota(p.Quota, s.Quota)
	}
	e.ConnectionLimit = orDefault(e.ConnectionLimit, DefaultConnectionLimit)
	return e
}

// SessionLimits names the limits that sessions already open keep until
// they end: PostgreSQL reads a role's settings at login. The connection
// limit and the quota take effect at once.
func SessionLimits(old, new Effective) []string {
	var out []string
	for k, v := range new.Limits.RoleSettings() {
		if old.Limits.RoleSettings()[k] != v {
			out = append(out, k)
		}
	}
	for k := range old.Limits.RoleSettings() {
		if _, ok := new.Limits.RoleSettings()[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
