package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Kubernetes probes. The admin asks the API server, with
// SubjectAccessReviews, what the tenant's service account may do: its
// authorizer answers for the account exactly as it would for the account's
// own requests, without anything being created, changed or read.

// access is one request a service account might make.
type access struct {
	Verb        string `json:"verb"`
	Group       string `json:"group,omitempty"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
}

func (a access) String() string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	if a.Name != "" {
		r += " " + a.Name
	}
	switch {
	case a.Namespace != "":
		return a.Verb + " " + r + " in namespace " + a.Namespace
	case namespaced(a.Resource):
		return a.Verb + " " + r + " in all namespaces"
	}
	return a.Verb + " " + r
}

func namespaced(resource string) bool {
	switch resource {
	case "namespaces", "nodes", "clusterroles", "clusterrolebindings", "persistentvolumes", "users", "groups":
		return false
	}
	return true
}

// accesses expands verbs × resources in one namespace.
func accesses(ns, group string, verbs, resources []string) []access {
	var out []access
	for _, r := range resources {
		res, sub, _ := strings.Cut(r, "/")
		for _, v := range verbs {
			out = append(out, access{Verb: v, Group: group, Resource: res, Subresource: sub, Namespace: ns})
		}
	}
	return out
}

type kubeSuite struct {
	c *KubeClient
}

func kubernetesOpener(admin Admin) opener {
	return func(ctx context.Context) (suite, error) {
		if admin.Kubeconfig == "" {
			return nil, errors.New("no admin kubeconfig given; pass the platform's kubeconfig (tenantctl dev env -o json)")
		}
		c, err := LoadKubeconfig(admin.Kubeconfig)
		if err != nil {
			return nil, err
		}
		if err := c.Do(ctx, http.MethodGet, "/api/v1/namespaces?limit=1", nil, nil); err != nil {
			c.Close()
			return nil, fmt.Errorf("reaching the Kubernetes API server %s as the kubeconfig's admin: %w; is the platform up?", c.server, err)
		}
		return &kubeSuite{c: c}, nil
	}
}

// serviceAccountUser is the user name the API server gives a service
// account's tokens.
func serviceAccountUser(c tenantspec.Credentials) string {
	return "system:serviceaccount:" + c.Kubernetes.Namespace + ":" + c.Kubernetes.ServiceAccount
}

// review asks whether self's service account may make request a.
func (s *kubeSuite) review(ctx context.Context, self tenantspec.Credentials, a access) (allowed bool, reason string, err error) {
	in := map[string]any{
		"apiVersion": "authorization.k8s.io/v1",
		"kind":       "SubjectAccessReview",
		"spec": map[string]any{
			"user":               serviceAccountUser(self),
			"groups":             []string{"system:serviceaccounts", "system:serviceaccounts:" + self.Kubernetes.Namespace, "system:authenticated"},
			"resourceAttributes": a,
		},
	}
	var out struct {
		Status struct {
			Allowed         bool   `json:"allowed"`
			Reason          string `json:"reason"`
			EvaluationError string `json:"evaluationError"`
		} `json:"status"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/apis/authorization.k8s.io/v1/subjectaccessreviews", in, &out); err != nil {
		return false, "", err
	}
	reason = out.Status.Reason
	if out.Status.EvaluationError != "" {
		reason = strings.TrimSpace(reason + " (evaluation error: " + out.Status.EvaluationError + ")")
	}
	return out.Status.Allowed, reason, nil
}

// denyAll passes when every access is denied; on a leak it lists the ones
// allowed and the authorizer's reason.
func (s *kubeSuite) denyAll(self tenantspec.Credentials, as []access) probeFunc {
	return func(ctx context.Context) (string, error) {
		var allowed []string
		for _, a := range as {
			ok, reason, err := s.review(ctx, self, a)
			if err != nil {
				return "", err
			}
			if ok {
				allowed = append(allowed, a.String()+reasonSuffix(reason))
			}
		}
		if len(allowed) > 0 {
			return "", leakf("%s may %s", serviceAccountUser(self), strings.Join(allowed, "; "))
		}
		return "denied: " + summarize(as), nil
	}
}

// allowAll passes when every access is allowed: a self check.
func (s *kubeSuite) allowAll(ctx context.Context, self tenantspec.Credentials, as []access) (string, error) {
	var denied []string
	for _, a := range as {
		ok, reason, err := s.review(ctx, self, a)
		if err != nil {
			return "", err
		}
		if !ok {
			denied = append(denied, a.String()+reasonSuffix(reason))
		}
	}
	if len(denied) > 0 {
		return "", brokenf("%s may not %s in its own namespace", serviceAccountUser(self), strings.Join(denied, "; "))
	}
	return "allowed: " + summarize(as), nil
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func summarize(as []access) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func (s *kubeSuite) probe(ctx context.Context, rec *recorder, self tenantspec.Credentials, others []tenantspec.Credentials) error {
	own := self.Kubernetes.Namespace
	rec.check(ctx, LayerKubernetes, "use own namespace", "", func(ctx context.Context) (string, error) {
		return s.ownNamespace(ctx, self)
	})
	rec.check(ctx, LayerKubernetes, "read cluster-scoped resources", "", s.denyAll(self, []access{
		{Verb: "list", Resource: "namespaces"},
		{Verb: "create", Resource: "namespaces"},
		{Verb: "list", Resource: "nodes"},
		{Verb: "list", Resource: "persistentvolumes"},
		{Verb: "list", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
		{Verb: "list", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
		{Verb: "list", Resource: "secrets"},
		{Verb: "list", Resource: "configmaps"},
		{Verb: "list", Resource: "pods"},
	}))
	rbac := accesses(own, "rbac.authorization.k8s.io", []string{"create", "update", "patch", "delete"}, []string{"roles", "rolebindings"})
	rbac = append(rbac,
		access{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "cluster-admin"},
		access{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "roles", Namespace: own},
		access{Verb: "impersonate", Resource: "users"},
		access{Verb: "impersonate", Resource: "serviceaccounts"},
	)
	rec.check(ctx, LayerKubernetes, "escalate with RBAC", "", s.denyAll(self, rbac))
	guard := accesses(own, "", []string{"update", "patch", "delete"}, []string{"resourcequotas", "limitranges"})
	guard = append(guard, accesses(own, "networking.k8s.io", []string{"create", "update", "patch", "delete"}, []string{"networkpolicies"})...)
	guard = append(guard,
		access{Verb: "update", Resource: "namespaces", Name: own},
		access{Verb: "patch", Resource: "namespaces", Name: own},
	)
	rec.check(ctx, LayerKubernetes, "weaken own guardrails", "", s.denyAll(self, guard))

	for _, b := range others {
		theirs := b.Kubernetes.Namespace
		for _, p := range []struct {
			name string
			as   []access
		}{
			{"read other tenant's secrets", accesses(theirs, "", []string{"get", "list", "watch"}, []string{"secrets"})},
			{"read other tenant's configmaps", accesses(theirs, "", []string{"get", "list", "watch"}, []string{"configmaps"})},
			{"read other tenant's pods", append(accesses(theirs, "", []string{"get", "list"}, []string{"pods"}),
				access{Verb: "get", Resource: "pods", Subresource: "log", Namespace: theirs})},
			{"run in other tenant's namespace", append(
				accesses(theirs, "", []string{"create"}, []string{"pods", "pods/exec"}),
				access{Verb: "create", Group: "apps", Resource: "deployments", Namespace: theirs},
				access{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: theirs, Name: b.Kubernetes.ServiceAccount},
			)},
		} {
			rec.check(ctx, LayerKubernetes, p.name, b.Tenant, s.denyAll(self, p.as))
		}
	}
	return nil
}

// ownNamespace checks that the tenant's namespace and service account
// exist and the account may use its namespace: without this, a deleted
// namespace would pass every attack.
func (s *kubeSuite) ownNamespace(ctx context.Context, self tenantspec.Credentials) (string, error) {
	ns, sa := self.Kubernetes.Namespace, self.Kubernetes.ServiceAccount
	err := s.c.Do(ctx, http.MethodGet, "/api/v1/namespaces/"+url.PathEscape(ns)+"/serviceaccounts/"+url.PathEscape(sa), nil, nil)
	if IsNotFound(err) {
		return "", brokenf("service account %s/%s does not exist", ns, sa)
	}
	if err != nil {
		return "", err
	}
	return s.allowAll(ctx, self, []access{
		{Verb: "get", Resource: "configmaps", Namespace: ns},
		{Verb: "list", Resource: "configmaps", Namespace: ns},
		// Tenants run workloads through Deployments and Jobs; the
		// TenantStack Role grants no bare pod creation.
		{Verb: "create", Group: "apps", Resource: "deployments", Namespace: ns},
	})
}

func (s *kubeSuite) close(context.Context) error {
	s.c.Close()
	return nil
}
