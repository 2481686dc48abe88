package probe

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

type sarSpec struct {
	User               string   `json:"user"`
	Groups             []string `json:"groups"`
	ResourceAttributes access   `json:"resourceAttributes"`
}

// fakeAuthorizer is an API server that answers SubjectAccessReviews with
// allow and serves service accounts that exist.
func fakeAuthorizer(t *testing.T, allow func(sarSpec) bool, accounts ...string) (*KubeClient, *[]sarSpec) {
	t.Helper()
	pki := newTestPKI(t)
	var mu sync.Mutex
	var seen []sarSpec
	srv := pki.apiServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/apis/authorization.k8s.io/v1/subjectaccessreviews":
			var in struct {
				APIVersion string  `json:"apiVersion"`
				Kind       string  `json:"kind"`
				Spec       sarSpec `json:"spec"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Kind != "SubjectAccessReview" || in.APIVersion != "authorization.k8s.io/v1" {
				http.Error(w, `{"message":"bad review"}`, http.StatusBadRequest)
				return
			}
			mu.Lock()
			seen = append(seen, in.Spec)
			mu.Unlock()
			ok := allow(in.Spec)
			reason := ""
			if ok {
				reason = `RBAC: allowed by RoleBinding "leak/` + in.Spec.ResourceAttributes.Namespace + `"`
			}
			json.NewEncoder(w).Encode(map[string]any{"status": map[string]any{"allowed": ok, "reason": reason}})
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/serviceaccounts/"):
			if !slices.Contains(accounts, r.URL.Path) {
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"kind":"Status","message":"not found"}`))
				return
			}
			w.Write([]byte(`{"kind":"ServiceAccount"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	c, err := parseKubeconfig([]byte(kubeconfigYAML(srv.URL, map[string]string{"certificate-authority-data": b64(pki.caPEM)},
		map[string]string{"client-certificate-data": b64(pki.clientCert), "client-key-data": b64(pki.clientKey)})), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, &seen
}

func kubeTenant(id string) tenantspec.Credentials {
	return tenantspec.Credentials{Tenant: id, Kubernetes: tenantspec.KubernetesCredentials{Namespace: "tenant-" + id, ServiceAccount: "app"}}
}

// tenantRole allows what the tenant Role allows: configmaps and
// deployments in the tenant's own namespace.
func tenantRole(s sarSpec) bool {
	a := s.ResourceAttributes
	own := strings.TrimPrefix(s.User, "system:serviceaccount:")
	own, _, _ = strings.Cut(own, ":")
	return a.Namespace == own && a.Subresource == "" &&
		((a.Group == "" && a.Resource == "configmaps") || (a.Group == "apps" && a.Resource == "deployments"))
}

func TestKubernetesProbes(t *testing.T) {
	t.Parallel()
	a, b := kubeTenant("a"), kubeTenant("b")
	accounts := []string{"/api/v1/namespaces/tenant-a/serviceaccounts/app"}
	tests := []struct {
		name     string
		allow    func(sarSpec) bool
		failures map[string]string // probe name and target -> detail substring
	}{
		{"isolated", tenantRole, nil},
		{"secrets of b readable", func(s sarSpec) bool {
			return tenantRole(s) || (s.ResourceAttributes.Namespace == "tenant-b" && s.ResourceAttributes.Resource == "secrets")
		}, map[string]string{
			"read other tenant's secrets/b": `system:serviceaccount:tenant-a:app may get secrets in namespace tenant-b (RBAC: allowed by RoleBinding "leak/tenant-b")`,
		}},
		{"own quota deletable", func(s sarSpec) bool {
			return tenantRole(s) || (s.ResourceAttributes.Resource == "resourcequotas" && s.ResourceAttributes.Verb == "delete")
		}, map[string]string{"weaken own guardrails/": "may delete resourcequotas in namespace tenant-a"}},
		{"nodes listable", func(s sarSpec) bool {
			return tenantRole(s) || s.ResourceAttributes.Resource == "nodes"
		}, map[string]string{"read cluster-scoped resources/": "may list nodes"}},
		{"everything denied fails the self check", func(sarSpec) bool { return false },
			map[string]string{"use own namespace/": "may not get configmaps in namespace tenant-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, seen := fakeAuthorizer(t, tt.allow, accounts...)
			var rec recorder
			if err := (&kubeSuite{c: c}).probe(t.Context(), &rec, a, []tenantspec.Credentials{b}); err != nil {
				t.Fatal(err)
			}
			if len(rec.probes) < 8 {
				t.Fatalf("only %d probes ran: %+v", len(rec.probes), rec.probes)
			}
			for _, p := range rec.probes {
				key := p.Name + "/" + p.Target
				want, wantFail := tt.failures[key]
				switch {
				case wantFail && p.Passed:
					t.Errorf("%s passed, want it to fail: %s", key, p.Detail)
				case wantFail && !strings.Contains(p.Detail, want):
					t.Errorf("%s detail = %q, want it to contain %q", key, p.Detail, want)
				case !wantFail && !p.Passed:
					t.Errorf("%s failed: %s", key, p.Detail)
				}
				delete(tt.failures, key)
			}
			for key := range tt.failures {
				t.Errorf("probe %s did not run", key)
			}
			for _, s := range *seen {
				want := []string{"system:serviceaccounts", "system:serviceaccounts:tenant-a", "system:authenticated"}
				if s.User != "system:serviceaccount:tenant-a:app" || !slices.Equal(s.Groups, want) {
					t.Fatalf("review for user %q groups %v, want the tenant's service account and its groups", s.User, s.Groups)
				}
			}
		})
	}
}

func TestKubernetesSelfCheckNeedsServiceAccount(t *testing.T) {
	t.Parallel()
	c, _ := fakeAuthorizer(t, tenantRole) // no service account exists
	var rec recorder
	if err := (&kubeSuite{c: c}).probe(t.Context(), &rec, kubeTenant("a"), nil); err != nil {
		t.Fatal(err)
	}
	p := rec.probes[0]
	if p.Name != "use own namespace" || p.Passed || !strings.Contains(p.Detail, "service account tenant-a/app does not exist") {
		t.Fatalf("first probe = %+v, want a failed self check saying the service account is missing", p)
	}
}

func TestAccessString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    access
		want string
	}{
		{access{Verb: "get", Resource: "secrets", Namespace: "tenant-b"}, "get secrets in namespace tenant-b"},
		{access{Verb: "list", Resource: "secrets"}, "list secrets in all namespaces"},
		{access{Verb: "list", Resource: "nodes"}, "list nodes"},
		{access{Verb: "create", Group: "apps", Resource: "deployments", Namespace: "n"}, "create deployments.apps in namespace n"},
		{access{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: "app", Namespace: "n"}, "create serviceaccounts/token app in namespace n"},
		{access{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "cluster-admin"}, "bind clusterroles.rbac.authorization.k8s.io cluster-admin"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.a, got, tt.want)
		}
	}
}
