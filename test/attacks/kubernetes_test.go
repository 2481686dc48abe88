//go:build integration

package attacks_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/retry"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// TestKubernetesIsolation attacks the Kubernetes API as A's ServiceAccount:
// the API server's own authorizer answers SubjectAccessReviews for it, and
// requests are made for real with a token the API server issues for it.
func TestKubernetesIsolation(t *testing.T) {
	t.Parallel()
	env := testenv.Platform(t)
	dir := workDir("kubernetes")
	tiers := tierIndependentTiers()

	defer test_structure.RunTestStage(t, "teardown", func() {
		k := &kube{kubeconfig: env.Kubernetes.Kubeconfig}
		for _, tier := range tiers {
			ka, _ := pairKeys(tier)
			if test_structure.IsTestDataPresent(t, test_structure.FormatTestDataPath(dir, ka+".json")) {
				// Cluster-scoped weakenings outlive the namespaces.
				name := "attack-" + test_structure.LoadString(t, dir, ka)
				if _, err := k.run(context.Background(), "", "delete", "clusterrolebinding,clusterrole", name, "--ignore-not-found"); err != nil {
					t.Errorf("removing the cluster-wide weakening %s: %v", name, err)
				}
			}
		}
		teardownPairs(t, dir, tiers)
	})
	test_structure.RunTestStage(t, "setup", func() {
		setupPairs(t, dir, "k8", tiers)
	})
	test_structure.RunTestStage(t, "validate", func() {
		k := &kube{kubeconfig: env.Kubernetes.Kubeconfig}
		for _, p := range loadPairs(t, dir, tiers) {
			t.Run(p.tier, func(t *testing.T) {
				target := newKubeTarget(t, k, p)
				for _, a := range kubeAttacks() {
					t.Run(a.name, func(t *testing.T) { prove(t, target, a) })
				}
			})
		}
	})
}

// kube runs kubectl with one kubeconfig.
type kube struct{ kubeconfig string }

// run runs kubectl with stdin; the error carries what kubectl said.
func (k *kube) run(ctx context.Context, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), &kubectlError{args: args, err: err, stderr: strings.TrimSpace(errOut.String())}
	}
	return out.String(), nil
}

type kubectlError struct {
	args   []string
	err    error
	stderr string
}

func (e *kubectlError) Error() string {
	return fmt.Sprintf("kubectl %s: %v: %s", strings.Join(e.args, " "), e.err, e.stderr)
}

// kubeRefused reports whether the API server refused: RBAC (Forbidden) or
// an admission plugin whose message contains one of says.
func kubeRefused(err error, says ...string) (string, bool) {
	var ke *kubectlError
	if !errors.As(err, &ke) {
		return "", false
	}
	for _, s := range says {
		if strings.Contains(ke.stderr, s) {
			return ke.stderr, true
		}
	}
	return "", false
}

// kubeTarget is one pair attacked in Kubernetes.
type kubeTarget struct {
	t *testing.T // the pair's test, for retries' logs
	k *kube
	// sa is a kubeconfig holding a token of A's ServiceAccount.
	sa   *kube
	a, b fleet.Credentials
}

func (kt *kubeTarget) nsA() string { return kt.a.Kubernetes.Namespace }
func (kt *kubeTarget) nsB() string { return kt.b.Kubernetes.Namespace }

// user is A's ServiceAccount as the authorizer sees it.
func (kt *kubeTarget) user() string {
	return "system:serviceaccount:" + kt.nsA() + ":" + kt.a.Kubernetes.ServiceAccount
}

func (kt *kubeTarget) groups() []string {
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + kt.nsA(), "system:authenticated"}
}

// weakName names the RBAC objects a weakening adds.
func (kt *kubeTarget) weakName() string { return "attack-" + kt.a.Tenant }

func newKubeTarget(t *testing.T, k *kube, p *pair) *kubeTarget {
	t.Helper()
	ctx := context.Background()
	kt := &kubeTarget{t: t, k: k, a: p.ca, b: p.cb}
	if kt.nsA() != tenant.Namespace(p.a) || kt.a.Kubernetes.ServiceAccount != tenant.ServiceAccountName {
		t.Fatalf("credentials name namespace %q and service account %q; want %q and %q",
			kt.nsA(), kt.a.Kubernetes.ServiceAccount, tenant.Namespace(p.a), tenant.ServiceAccountName)
	}
	token, err := k.run(ctx, "", "create", "token", kt.a.Kubernetes.ServiceAccount, "-n", kt.nsA(), "--duration", "2h")
	if err != nil {
		t.Fatalf("minting a token for %s: %v", kt.user(), err)
	}
	kt.sa = &kube{kubeconfig: writeTokenKubeconfig(t, k, strings.TrimSpace(token))}
	// The token works and the Role is there: A reads its own Secret. Without
	// that no refusal proves anything.
	if _, err := kt.sa.run(ctx, "", "get", "secret", tenant.CredentialsSecretName, "-n", kt.nsA(), "-o", "name"); err != nil {
		t.Fatalf("%s cannot read its own Secret with its token: %v", kt.user(), err)
	}
	allowed, err := kt.allowed(ctx, []access{{verb: "get", resource: "secrets", namespace: kt.nsA()}})
	if err != nil || len(allowed) != 1 {
		t.Fatalf("a SubjectAccessReview for %s reading its own Secrets says %v (%v); want allowed", kt.user(), allowed, err)
	}
	return kt
}

// writeTokenKubeconfig writes a kubeconfig for the admin's cluster that
// authenticates with token only (no client certificate).
func writeTokenKubeconfig(t *testing.T, admin *kube, token string) string {
	t.Helper()
	out, err := admin.run(context.Background(), "", "config", "view", "--raw", "--minify", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Clusters []struct {
			Cluster struct {
				Server                   string `json:"server"`
				CertificateAuthority     string `json:"certificate-authority"`
				CertificateAuthorityData string `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil || len(cfg.Clusters) != 1 {
		t.Fatalf("reading the admin kubeconfig's cluster: %v", err)
	}
	cl := cfg.Clusters[0].Cluster
	ca := cl.CertificateAuthorityData
	if ca == "" && cl.CertificateAuthority != "" {
		pem, err := os.ReadFile(cl.CertificateAuthority)
		if err != nil {
			t.Fatal(err)
		}
		ca = base64.StdEncoding.EncodeToString(pem)
	}
	kc := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "sa",
		"clusters": []any{map[string]any{"name": "c", "cluster": map[string]any{"server": cl.Server, "certificate-authority-data": ca}}},
		"users":    []any{map[string]any{"name": "sa", "user": map[string]any{"token": token}}},
		"contexts": []any{map[string]any{"name": "sa", "context": map[string]any{"cluster": "c", "user": "sa"}}},
	}
	b, _ := json.Marshal(kc)
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// access is one request the ServiceAccount might make.
type access struct {
	verb, group, resource, subresource, name, namespace string
}

func (a access) String() string {
	s := a.verb + " " + a.resource
	if a.group != "" {
		s += "." + a.group
	}
	if a.subresource != "" {
		s += "/" + a.subresource
	}
	if a.name != "" {
		s += " " + a.name
	}
	if a.namespace != "" {
		s += " in " + a.namespace
	}
	return s
}

// allowed asks the API server's authorizer, in one SubjectAccessReview per
// access, which of them A's ServiceAccount may make.
func (kt *kubeTarget) allowed(ctx context.Context, accesses []access) ([]string, error) {
	var items []any
	for _, a := range accesses {
		items = append(items, map[string]any{
			"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
			"spec": map[string]any{
				"user": kt.user(), "groups": kt.groups(),
				"resourceAttributes": map[string]any{
					"verb": a.verb, "group": a.group, "resource": a.resource, "subresource": a.subresource,
					"name": a.name, "namespace": a.namespace,
				},
			},
		})
	}
	in, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	out, err := kt.k.run(ctx, string(in), "create", "-f", "-", "-o", "json")
	if err != nil {
		return nil, err
	}
	// kubectl prints one JSON document per object created.
	type review struct {
		Kind   string   `json:"kind"`
		Items  []review `json:"items"`
		Status struct {
			Allowed bool `json:"allowed"`
		} `json:"status"`
	}
	var reviews []review
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var r review
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading the SubjectAccessReviews: %w", err)
		}
		if r.Kind == "List" {
			reviews = append(reviews, r.Items...)
		} else {
			reviews = append(reviews, r)
		}
	}
	list := struct{ Items []review }{reviews}
	if len(list.Items) != len(accesses) {
		return nil, fmt.Errorf("%d SubjectAccessReviews answered for %d asked", len(list.Items), len(accesses))
	}
	var yes []string
	for i, r := range list.Items {
		if r.Status.Allowed {
			yes = append(yes, accesses[i].String())
		}
	}
	return yes, nil
}

// probe checks accesses with SubjectAccessReviews, then makes requests as
// the ServiceAccount for real (kubectl arguments; a dry run where they
// would change something). Any access allowed or request served gets
// through.
func (kt *kubeTarget) probe(ctx context.Context, accesses []access, requests ...[]string) (outcome, error) {
	yes, err := kt.allowed(ctx, accesses)
	if err != nil {
		return outcome{}, err
	}
	var served, refused []string
	for _, args := range requests {
		_, err := kt.sa.run(ctx, "", args...)
		if err == nil {
			served = append(served, strings.Join(args, " "))
			continue
		}
		msg, ok := kubeRefused(err, "Forbidden", "forbidden")
		if !ok {
			return outcome{}, err
		}
		refused = append(refused, firstLine(msg))
	}
	if len(yes)+len(served) > 0 {
		return throughf("allowed: %v; served as the ServiceAccount: %v", yes, served), nil
	}
	return blockedf("%d accesses denied by the authorizer; requests refused: %s", len(accesses), strings.Join(refused, "; ")), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func accesses(namespace, group string, verbs []string, resources ...string) []access {
	var out []access
	for _, r := range resources {
		res, sub, _ := strings.Cut(r, "/")
		res, name, _ := strings.Cut(res, ":")
		for _, v := range verbs {
			out = append(out, access{verb: v, group: group, resource: res, subresource: sub, name: name, namespace: namespace})
		}
	}
	return out
}

// apply creates or updates objects as the admin; the undo deletes them.
func (kt *kubeTarget) apply(ctx context.Context, objects ...map[string]any) (undoFunc, error) {
	in, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": objects})
	undo := func(ctx context.Context) error {
		_, err := kt.k.run(ctx, string(in), "delete", "-f", "-", "--ignore-not-found", "--wait=true")
		return err
	}
	if _, err := kt.k.run(ctx, string(in), "apply", "-f", "-"); err != nil {
		return nil, errors.Join(err, undo(ctx))
	}
	return undo, nil
}

func rbacSubject(kt *kubeTarget) []any {
	return []any{map[string]any{"kind": "ServiceAccount", "name": kt.a.Kubernetes.ServiceAccount, "namespace": kt.nsA()}}
}

// bindClusterRole binds a ClusterRole to A's ServiceAccount in namespace.
func bindClusterRole(name, namespace, clusterRole string, kt *kubeTarget) map[string]any {
	return map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": clusterRole},
		"subjects": rbacSubject(kt),
	}
}

func weakenAdminIn(namespace func(kt *kubeTarget) string) func(ctx context.Context, kt *kubeTarget) (undoFunc, error) {
	return func(ctx context.Context, kt *kubeTarget) (undoFunc, error) {
		return kt.apply(ctx, bindClusterRole(kt.weakName(), namespace(kt), "admin", kt))
	}
}

// restrictedPod is a pod the restricted Pod Security Standard admits, with
// requests and limits of cpu and memory.
func restrictedPod(name, namespace, cpu, memory string) map[string]any {
	res := map[string]any{"cpu": cpu, "memory": memory}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"automountServiceAccountToken": false,
			"securityContext":              map[string]any{"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{
				"name": "app", "image": "registry.invalid/attack:1",
				"resources": map[string]any{"requests": res, "limits": res},
				"securityContext": map[string]any{
					"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}},
					"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
				},
			}},
		},
	}
}

func privilegedPod(name, namespace string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"hostNetwork": true, "hostPID": true,
			"containers": []any{map[string]any{
				"name": "app", "image": "registry.invalid/attack:1",
				"securityContext": map[string]any{"privileged": true, "runAsUser": 0},
				"volumeMounts":    []any{map[string]any{"name": "host", "mountPath": "/host"}},
			}},
			"volumes": []any{map[string]any{"name": "host", "hostPath": map[string]any{"path": "/"}}},
		},
	}
}

// dryRunCreate has kc create object with a server-side dry run: every
// admission plugin judges it and nothing is stored.
func dryRunCreate(ctx context.Context, kc *kube, object map[string]any, refusedIf ...string) (outcome, error) {
	in, _ := json.Marshal(object)
	out, err := kc.run(ctx, string(in), "create", "--dry-run=server", "-f", "-", "-o", "name")
	if err == nil {
		return throughf("admitted: %s", strings.TrimSpace(out)), nil
	}
	if msg, ok := kubeRefused(err, refusedIf...); ok {
		return blockedf("refused: %s", firstLine(msg)), nil
	}
	return outcome{}, err
}

// weakenDeleteQuota deletes A's ResourceQuota; the undo creates it again as
// it was and waits for the quota controller to count usage, without which
// the quota refuses every pod for a reason other than the one attacked.
func weakenDeleteQuota(ctx context.Context, kt *kubeTarget) (undoFunc, error) {
	saved, err := kt.k.run(ctx, "", "get", "resourcequota", tenant.QuotaName, "-n", kt.nsA(), "-o", "json")
	if err != nil {
		return nil, err
	}
	var q map[string]any
	if err := json.Unmarshal([]byte(saved), &q); err != nil {
		return nil, err
	}
	meta, _ := q["metadata"].(map[string]any)
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"} {
		delete(meta, f)
	}
	delete(q, "status")
	spec, _ := json.Marshal(q)
	undo := func(ctx context.Context) error {
		if _, err := kt.k.run(ctx, string(spec), "create", "-f", "-"); err != nil {
			if _, ok := kubeRefused(err, "AlreadyExists"); !ok {
				return err
			}
		}
		_, err := retry.DoWithRetryContextE(kt.t, ctx, "quota status", 30, time.Second, func() (string, error) {
			out, err := kt.k.run(ctx, "", "get", "resourcequota", tenant.QuotaName, "-n", kt.nsA(), "-o", "jsonpath={.status.hard.pods}")
			if err == nil && strings.TrimSpace(out) == "" {
				err = errors.New("the quota controller has not counted usage yet")
			}
			return out, err
		})
		return err
	}
	if _, err := kt.k.run(ctx, "", "delete", "resourcequota", tenant.QuotaName, "-n", kt.nsA(), "--wait=true"); err != nil {
		return nil, errors.Join(err, undo(ctx))
	}
	return undo, nil
}

func kubeAttacks() []attack[*kubeTarget] {
	nsB := func(kt *kubeTarget) string { return kt.nsB() }
	nsA := func(kt *kubeTarget) string { return kt.nsA() }
	read := []string{"get", "list", "watch"}
	write := []string{"create", "update", "patch", "delete"}
	return []attack[*kubeTarget]{
		{
			name:     "read B's Secrets",
			weakness: "a RoleBinding of ClusterRole admin to A's ServiceAccount in B's namespace", weaken: weakenAdminIn(nsB),
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				acc := append(accesses(kt.nsB(), "", read, "secrets"), access{verb: "get", resource: "secrets", name: tenant.CredentialsSecretName, namespace: kt.nsB()})
				return kt.probe(ctx, acc, []string{"get", "secret", tenant.CredentialsSecretName, "-n", kt.nsB(), "-o", "name"})
			},
		},
		{
			name:     "read and write B's ConfigMaps",
			weakness: "a RoleBinding of ClusterRole admin to A's ServiceAccount in B's namespace", weaken: weakenAdminIn(nsB),
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				acc := accesses(kt.nsB(), "", append(read, write...), "configmaps")
				return kt.probe(ctx, acc, []string{"get", "configmaps", "-n", kt.nsB(), "-o", "name"})
			},
		},
		{
			name:     "reach B's pods",
			weakness: "a RoleBinding of ClusterRole admin to A's ServiceAccount in B's namespace", weaken: weakenAdminIn(nsB),
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				acc := accesses(kt.nsB(), "", append(read, "create", "delete"), "pods")
				acc = append(acc, accesses(kt.nsB(), "", []string{"create", "get"}, "pods/exec", "pods/attach", "pods/portforward")...)
				acc = append(acc, accesses(kt.nsB(), "", []string{"get"}, "pods/log")...)
				return kt.probe(ctx, acc, []string{"get", "pods", "-n", kt.nsB(), "-o", "name"})
			},
		},
		{
			name:     "cluster-scoped reads",
			weakness: "a ClusterRole reading namespaces, nodes and RBAC bound to A's ServiceAccount",
			weaken: func(ctx context.Context, kt *kubeTarget) (undoFunc, error) {
				role := map[string]any{
					"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
					"metadata": map[string]any{"name": kt.weakName()},
					"rules": []any{
						map[string]any{"apiGroups": []string{""}, "resources": []string{"namespaces", "nodes", "persistentvolumes"}, "verbs": []string{"get", "list", "watch"}},
						map[string]any{"apiGroups": []string{"rbac.authorization.k8s.io"}, "resources": []string{"clusterroles", "clusterrolebindings"}, "verbs": []string{"get", "list", "watch"}},
					},
				}
				binding := map[string]any{
					"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
					"metadata": map[string]any{"name": kt.weakName()},
					"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": kt.weakName()},
					"subjects": rbacSubject(kt),
				}
				return kt.apply(ctx, role, binding)
			},
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				acc := accesses("", "", read, "namespaces", "nodes", "persistentvolumes")
				acc = append(acc, access{verb: "get", resource: "namespaces", name: kt.nsB()})
				acc = append(acc, accesses("", "rbac.authorization.k8s.io", []string{"list"}, "clusterroles", "clusterrolebindings")...)
				acc = append(acc, accesses("", "apiextensions.k8s.io", []string{"list"}, "customresourcedefinitions")...)
				acc = append(acc, accesses("", "storage.k8s.io", []string{"list"}, "storageclasses")...)
				return kt.probe(ctx, acc, []string{"get", "namespaces", "-o", "name"}, []string{"get", "nodes", "-o", "name"})
			},
		},
		{
			name:     "grant itself more rights in its own namespace",
			weakness: "a RoleBinding of ClusterRole admin to A's ServiceAccount in its own namespace", weaken: weakenAdminIn(nsA),
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				acc := accesses(kt.nsA(), "rbac.authorization.k8s.io", write, "roles", "rolebindings")
				acc = append(acc,
					access{verb: "update", group: "rbac.authorization.k8s.io", resource: "roles", name: tenant.AppRoleName, namespace: kt.nsA()},
					access{verb: "escalate", group: "rbac.authorization.k8s.io", resource: "roles", namespace: kt.nsA()},
					access{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "admin", namespace: kt.nsA()},
					access{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "cluster-admin"},
				)
				return kt.probe(ctx, acc, []string{"create", "rolebinding", "attack-escalate", "--clusterrole=admin",
					"--serviceaccount=" + kt.nsA() + ":" + kt.a.Kubernetes.ServiceAccount, "-n", kt.nsA(), "--dry-run=server", "-o", "name"})
			},
		},
		{
			name:     "lift its own quota, limits and network policy",
			weakness: "a Role writing ResourceQuotas, LimitRanges and NetworkPolicies bound to A's ServiceAccount in its own namespace",
			weaken: func(ctx context.Context, kt *kubeTarget) (undoFunc, error) {
				role := map[string]any{
					"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
					"metadata": map[string]any{"name": kt.weakName(), "namespace": kt.nsA()},
					"rules": []any{
						map[string]any{"apiGroups": []string{""}, "resources": []string{"resourcequotas", "limitranges"}, "verbs": write},
						map[string]any{"apiGroups": []string{"networking.k8s.io"}, "resources": []string{"networkpolicies"}, "verbs": write},
					},
				}
				binding := map[string]any{
					"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
					"metadata": map[string]any{"name": kt.weakName(), "namespace": kt.nsA()},
					"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": kt.weakName()},
					"subjects": rbacSubject(kt),
				}
				return kt.apply(ctx, role, binding)
			},
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				acc := accesses(kt.nsA(), "", write, "resourcequotas:"+tenant.QuotaName, "limitranges:"+tenant.LimitRangeName)
				acc = append(acc, accesses(kt.nsA(), "networking.k8s.io", write, "networkpolicies:default-deny")...)
				acc = append(acc, access{verb: "create", group: "networking.k8s.io", resource: "networkpolicies", namespace: kt.nsA()})
				acc = append(acc, accesses("", "", []string{"update", "patch"}, "namespaces:"+kt.nsA())...)
				return kt.probe(ctx, acc,
					[]string{"delete", "resourcequota", tenant.QuotaName, "-n", kt.nsA(), "--dry-run=server"},
					[]string{"delete", "networkpolicy", "default-deny", "-n", kt.nsA(), "--dry-run=server"},
					[]string{"delete", "limitrange", tenant.LimitRangeName, "-n", kt.nsA(), "--dry-run=server"})
			},
		},
		{
			// Pod Security admission judges every creator; the admin stands
			// in for whichever controller or user would create the pod.
			name:     "run a privileged pod in its namespace",
			weakness: "its namespace labelled pod-security.kubernetes.io/enforce=privileged",
			weaken: func(ctx context.Context, kt *kubeTarget) (undoFunc, error) {
				const label = "pod-security.kubernetes.io/enforce"
				was, err := kt.k.run(ctx, "", "get", "namespace", kt.nsA(), "-o", `jsonpath={.metadata.labels.pod-security\.kubernetes\.io/enforce}`)
				if err != nil {
					return nil, err
				}
				undo := func(ctx context.Context) error {
					arg := label + "-"
					if was = strings.TrimSpace(was); was != "" {
						arg = label + "=" + was
					}
					_, err := kt.k.run(ctx, "", "label", "namespace", kt.nsA(), arg, "--overwrite")
					return err
				}
				if _, err := kt.k.run(ctx, "", "label", "namespace", kt.nsA(), label+"=privileged", "--overwrite"); err != nil {
					return nil, errors.Join(err, undo(ctx))
				}
				return undo, nil
			},
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				return dryRunCreate(ctx, kt.k, privilegedPod("attack-privileged", kt.nsA()), "violates PodSecurity")
			},
		},
		{
			name:     "run a pod requesting more than its quota",
			weakness: "its ResourceQuota deleted", weaken: weakenDeleteQuota,
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				return dryRunCreate(ctx, kt.k, restrictedPod("attack-oversized", kt.nsA(), "64", "256Gi"), "exceeded quota")
			},
		},
		{
			// A may create Services; the quota allows no LoadBalancer or
			// NodePort, which would expose the tenant outside the cluster.
			name:     "expose itself with a LoadBalancer or NodePort Service",
			weakness: "its ResourceQuota deleted", weaken: weakenDeleteQuota,
			run: func(ctx context.Context, kt *kubeTarget) (outcome, error) {
				var notes []string
				for _, typ := range []string{"LoadBalancer", "NodePort"} {
					svc := map[string]any{
						"apiVersion": "v1", "kind": "Service",
						"metadata": map[string]any{"name": "attack-" + strings.ToLower(typ), "namespace": kt.nsA()},
						"spec": map[string]any{
							"type": typ, "selector": map[string]any{"app": "attack"},
							"ports": []any{map[string]any{"port": 80, "targetPort": 8080}},
						},
					}
					o, err := dryRunCreate(ctx, kt.sa, svc, "exceeded quota")
					if err != nil || o.through {
						return o, err
					}
					notes = append(notes, typ+": "+o.detail)
				}
				return blockedf("%s", strings.Join(notes, "; ")), nil
			},
		},
	}
}
