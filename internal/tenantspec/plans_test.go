package tenantspec

import (
	"reflect"
	"strings"
	"testing"
)

func TestEffective(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want Effective
	}{
		{"no plan", Spec{Name: "a", Tier: "schema"}, Effective{Tier: TierSchema, ConnectionLimit: DefaultConnectionLimit}},
		{"basic", Spec{Name: "a", Plan: "basic"}, Effective{Tier: TierShared, ConnectionLimit: 10,
			Limits: Limits{StatementTimeout: "5s", IdleInTransactionTimeout: "30s", WorkMem: "4MB", TempFileLimit: "256MB"},
			Quota:  Quota{CPU: "1", Memory: "2Gi", Pods: 10, Services: 5, PVCs: 2, Storage: "10Gi"}}},
		{"one limit overridden, tier kept", Spec{Name: "a", Tier: "database", Plan: "basic", ConnectionLimit: 3, Limits: Limits{StatementTimeout: "1s"}, Quota: Quota{Pods: 4}},
			Effective{Tier: TierDatabase, ConnectionLimit: 3,
				Limits: Limits{StatementTimeout: "1s", IdleInTransactionTimeout: "30s", WorkMem: "4MB", TempFileLimit: "256MB"},
				Quota:  Quota{CPU: "1", Memory: "2Gi", Pods: 4, Services: 5, PVCs: 2, Storage: "10Gi"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.spec.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.spec.WithDefaults().Effective(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Effective\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
}

func TestPlanValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  Spec
		field string
	}{
		{"unknown plan", Spec{Name: "a", Plan: "gold"}, "plan"},
		{"bad timeout", Spec{Name: "a", Plan: "basic", Limits: Limits{StatementTimeout: "5 seconds"}}, "limits.statement_timeout"},
		{"bad memory", Spec{Name: "a", Tier: "shared", Limits: Limits{WorkMem: "4mb"}}, "limits.work_mem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			fe, ok := err.(FieldErrors)
			if !ok || !strings.Contains(strings.Join(fe.Fields(), ","), tc.field) {
				t.Fatalf("error %v, want one on %s", err, tc.field)
			}
		})
	}
}

func TestSetLimit(t *testing.T) {
	var s Spec
	for _, kv := range [][2]string{{"connections", "4"}, {"statement_timeout", "250ms"}, {"work_mem", "8MB"}, {"temp_file_limit", "1GB"}, {"idle_in_transaction_session_timeout", "10s"}} {
		if err := SetLimit(&s, kv[0], kv[1]); err != nil {
			t.Fatalf("%s=%s: %v", kv[0], kv[1], err)
		}
	}
	want := map[string]string{"statement_timeout": "250ms", "work_mem": "8MB", "temp_file_limit": "1GB", "idle_in_transaction_session_timeout": "10s"}
	if s.ConnectionLimit != 4 || !reflect.DeepEqual(s.Limits.RoleSettings(), want) {
		t.Fatalf("spec %+v settings %v", s, s.Limits.RoleSettings())
	}
	for _, kv := range [][2]string{{"connections", "0"}, {"statement_timeout", "fast"}, {"work_mem", "-1"}, {"max_connections", "5"}} {
		if err := SetLimit(&s, kv[0], kv[1]); err == nil {
			t.Errorf("%s=%s accepted", kv[0], kv[1])
		}
	}
}

func TestSessionLimits(t *testing.T) {
	basic := Spec{Plan: "basic"}.Effective()
	standard := Spec{Plan: "standard"}.Effective()
	got := SessionLimits(basic, standard)
	if !reflect.DeepEqual(got, []string{"idle_in_transaction_session_timeout", "statement_timeout", "temp_file_limit", "work_mem"}) {
		t.Errorf("basic -> standard needs new sessions for %v", got)
	}
	if got := SessionLimits(basic, basic); len(got) != 0 {
		t.Errorf("no change needs new sessions for %v", got)
	}
}
