package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/toolchain"
)

// object is a Kubernetes object as kubectl prints it.
type object map[string]any

func (o object) kind() string { s, _ := o["kind"].(string); return s }

func (o object) meta() map[string]any {
	m, _ := o["metadata"].(map[string]any)
	if m == nil {
		m = map[string]any{}
		o["metadata"] = m
	}
	return m
}

func (o object) name() string { s, _ := o.meta()["name"].(string); return s }

func (o object) id() string { return o.kind() + "/" + o.name() }

// own says whether the tenant made o, rather than its stack (labelled as
// managed by tenantstack) or Kubernetes (the root CA ConfigMap and service
// account tokens).
func (o object) own() bool {
	if labels, _ := o.meta()["labels"].(map[string]any); labels[tenantspec.ManagedByLabel] == tenantspec.ManagedByValue {
		return false
	}
	if o.kind() == "ConfigMap" && o.name() == "kube-root-ca.crt" {
		return false
	}
	if t, _ := o["type"].(string); o.kind() == "Secret" && t == "kubernetes.io/service-account-token" {
		return false
	}
	return true
}

// portable strips what the API server sets, so o can be created elsewhere.
func (o object) portable() object {
	m := o.meta()
	for _, k := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields", "ownerReferences", "selfLink", "generation", "namespace"} {
		delete(m, k)
	}
	if ann, _ := m["annotations"].(map[string]any); ann != nil {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		if len(ann) == 0 {
			delete(m, "annotations")
		}
	}
	delete(o, "status")
	return o
}

func (a Admin) kubectl(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	bin, err := toolchain.Lookup("kubectl")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", a.Kubeconfig}, args...)...)
	cmd.Stdin = stdin
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kubectl %v: %v: %s", args, err, bytes.TrimSpace(errOut.Bytes()))
	}
	return out.Bytes(), nil
}

// ownObjects lists the tenant's own ConfigMaps and Secrets in ns.
func (a Admin) ownObjects(ctx context.Context, ns string) ([]object, error) {
	out, err := a.kubectl(ctx, nil, "get", "configmaps,secrets", "-n", ns, "-o", "json")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []object `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("reading the objects of namespace %s: %w", ns, err)
	}
	var own []object
	for _, o := range list.Items {
		if o.own() {
			own = append(own, o.portable())
		}
	}
	sort.Slice(own, func(i, j int) bool { return own[i].id() < own[j].id() })
	return own, nil
}

// restoreKubernetes makes the tenant's own objects in ns those of the
// archive: it applies them (server-side) and deletes its own objects that
// the archive does not have.
func (a Admin) restoreKubernetes(ctx context.Context, ns string, objs []object) (applied, removed []string, err error) {
	have, err := a.ownObjects(ctx, ns)
	if err != nil {
		return nil, nil, err
	}
	keep := map[string]bool{}
	for _, o := range objs {
		keep[o.id()] = true
	}
	for _, o := range have {
		if keep[o.id()] {
			continue
		}
		if _, err := a.kubectl(ctx, nil, "delete", "-n", ns, o.kind(), o.name(), "--ignore-not-found"); err != nil {
			return applied, removed, err
		}
		removed = append(removed, o.id())
	}
	if len(objs) == 0 {
		return applied, removed, nil
	}
	items := make([]any, len(objs))
	for i, o := range objs {
		o.meta()["namespace"] = ns
		items[i] = o
		applied = append(applied, o.id())
	}
	b, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		return nil, nil, err
	}
	if _, err := a.kubectl(ctx, bytes.NewReader(b), "apply", "--server-side", "--force-conflicts", "--field-manager", "tenantctl-restore", "-n", ns, "-f", "-"); err != nil {
		return nil, nil, err
	}
	return applied, removed, nil
}
