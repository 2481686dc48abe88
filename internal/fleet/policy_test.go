package fleet

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyPacksAreNeverSkippedSilently(t *testing.T) {
	missing := errors.New("pulumi-analyzer-policy-tenantstack-guardrails not found")
	for _, tt := range []struct {
		name    string
		s       *Service
		want    []string
		wantErr string
	}{
		{name: "found", s: &Service{PolicyPacks: []string{"/bin/pack"}}, want: []string{"/bin/pack"}},
		{name: "missing is refused", s: &Service{PolicyMissing: missing}, wantErr: "pass --no-policy"},
		{name: "missing with --no-policy", s: &Service{PolicyMissing: missing, NoPolicy: true}},
		{name: "found but --no-policy", s: &Service{PolicyPacks: []string{"/bin/pack"}, NoPolicy: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.policyPacks()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err %v, want an ErrInvalid saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("packs %v, err %v; want %v", got, err, tt.want)
			}
		})
	}
}
