package cluster

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	providerType      = "pulumi:providers:kubernetes"
	namespaceType     = "kubernetes:core/v1:Namespace"
	priorityClassType = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
)

// recorder is a mock resource monitor that records every registration and
// refuses resource types the component is not expected to create.
type recorder struct {
	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	r.resources = append(r.resources, args)
	r.mu.Unlock()
	switch args.TypeToken {
	case TypeToken:
		return "", resource.PropertyMap{}, nil
	case providerType, namespaceType, priorityClassType:
		return args.Name + "-id", args.Inputs, nil
	default:
		return "", nil, fmt.Errorf("unexpected resource type %q", args.TypeToken)
	}
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected call %q", args.Token)
}

func (r *recorder) ofType(typ string) []pulumi.MockResourceArgs {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []pulumi.MockResourceArgs
	for _, a := range r.resources {
		if a.TypeToken == typ {
			out = append(out, a)
		}
	}
	return out
}

func (r *recorder) byName(t *testing.T, name string) pulumi.MockResourceArgs {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.resources {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no resource named %q was registered", name)
	return pulumi.MockResourceArgs{}
}

// await blocks until out resolves; call it inside the program.
func await[T any](t *testing.T, out pulumi.Output) T {
	t.Helper()
	ch := make(chan T, 1)
	out.ApplyT(func(v T) T { ch <- v; return v })
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("output of type %s never resolved", out.ElementType())
		var zero T
		return zero
	}
}

// result is what a test needs from one program run.
type result struct {
	urn         string
	providerURN string
	platformNS  string
	obsNS       string
	namespaces  []string
	platformPC  string
	tenantPC    string
	c           *Cluster
}

func run(t *testing.T, name string, args func(ctx *pulumi.Context) *ClusterArgs) (*recorder, result, error) {
	t.Helper()
	rec := &recorder{}
	var res result
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := NewCluster(ctx, name, args(ctx))
		if err != nil {
			return err
		}
		res = result{
			urn:         string(await[pulumi.URN](t, c.URN())),
			providerURN: string(await[pulumi.URN](t, c.Provider.URN())),
			platformNS:  await[string](t, c.PlatformNamespace),
			obsNS:       await[string](t, c.ObservabilityNamespace),
			namespaces:  await[[]string](t, c.Namespaces),
			platformPC:  await[string](t, c.PlatformPriorityClass),
			tenantPC:    await[string](t, c.TenantPriorityClass),
			c:           c,
		}
		return nil
	}, pulumi.WithMocks("project", "stack", rec))
	return rec, res, err
}

func obj(t *testing.T, pm resource.PropertyMap, path ...string) resource.PropertyValue {
	t.Helper()
	v := resource.NewObjectProperty(pm)
	for _, k := range path {
		if !v.IsObject() {
			t.Fatalf("%s: not an object at %q", strings.Join(path, "."), k)
		}
		v = v.ObjectValue()[resource.PropertyKey(k)]
	}
	return v
}

func stringMap(t *testing.T, v resource.PropertyValue) map[string]string {
	t.Helper()
	if !v.IsObject() {
		t.Fatalf("want a map, got %v", v)
	}
	m := map[string]string{}
	for k, e := range v.ObjectValue() {
		m[string(k)] = e.StringValue()
	}
	return m
}

func TestNewClusterDefaults(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent/ambient-kubeconfig")
	rec, res, err := run(t, "base", func(*pulumi.Context) *ClusterArgs { return nil })
	if err != nil {
		t.Fatalf("NewCluster: %v", err)
	}

	if want := "urn:pulumi:stack::project::" + TypeToken + "::base"; res.urn != want {
		t.Errorf("component URN = %q, want %q", res.urn, want)
	}

	// Exactly the expected children, named after the component.
	var got []string
	for _, typ := range []string{providerType, namespaceType, priorityClassType} {
		for _, a := range rec.ofType(typ) {
			got = append(got, typ+" "+a.Name)
		}
	}
	want := []string{
		providerType + " base-k8s",
		namespaceType + " base-platform-ns",
		namespaceType + " base-observability-ns",
		priorityClassType + " base-platform-priority",
		priorityClassType + " base-tenant-priority",
	}
	// Registrations are concurrent: compare as sets.
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}
	if n := len(rec.ofType(TypeToken)); n != 1 {
		t.Errorf("%d components registered, want 1", n)
	}

	// Every child is parented to the component; every Kubernetes object uses the created provider.
	for _, a := range rec.resources {
		if a.TypeToken == TypeToken {
			continue
		}
		if p := a.RegisterRPC.GetParent(); p != res.urn {
			t.Errorf("%s %s: parent %q, want the component %q", a.TypeToken, a.Name, p, res.urn)
		}
		if a.TypeToken == providerType {
			continue
		}
		if p := a.RegisterRPC.GetProvider(); !strings.HasPrefix(p, res.providerURN+"::") {
			t.Errorf("%s %s: provider %q, want %q", a.TypeToken, a.Name, p, res.providerURN)
		}
	}

	// The ambient configuration is left to the provider: no render dir.
	p := rec.byName(t, "base-k8s")
	if v, ok := p.Inputs["renderYamlToDirectory"]; ok && !v.IsNull() {
		t.Errorf("provider renderYamlToDirectory = %v, want unset outside render mode", v)
	}
	if res.c.RenderMode {
		t.Error("RenderMode = true without RenderDir")
	}

	// Namespaces: names, convention labels and Pod Security defaults.
	wantNSLabels := map[string]string{
		ManagedByLabel:                               ManagedByValue,
		PartOfLabel:                                  PartOfValue,
		NamespaceRoleLabel:                           NamespaceRolePlatform,
		"pod-security.kubernetes.io/enforce":         "baseline",
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/audit":           "restricted",
		"pod-security.kubernetes.io/audit-version":   "latest",
		"pod-security.kubernetes.io/warn":            "restricted",
		"pod-security.kubernetes.io/warn-version":    "latest",
	}
	for res, ns := range map[string]string{"base-platform-ns": "platform-system", "base-observability-ns": "observability"} {
		a := rec.byName(t, res)
		if got := obj(t, a.Inputs, "metadata", "name").StringValue(); got != ns {
			t.Errorf("%s: metadata.name = %q, want %q", res, got, ns)
		}
		if got := stringMap(t, obj(t, a.Inputs, "metadata", "labels")); !maps.Equal(got, wantNSLabels) {
			t.Errorf("%s: labels =\n%v\nwant\n%v", res, got, wantNSLabels)
		}
	}

	// PriorityClasses: names, values, neither is the global default, tenants never preempt.
	for _, tc := range []struct {
		res, name, preemption string
		value                 float64
	}{
		{"base-platform-priority", PlatformPriorityClassName, "PreemptLowerPriority", DefaultPlatformPriority},
		{"base-tenant-priority", TenantPriorityClassName, "Never", DefaultTenantPriority},
	} {
		a := rec.byName(t, tc.res)
		if got := obj(t, a.Inputs, "metadata", "name").StringValue(); got != tc.name {
			t.Errorf("%s: name = %q, want %q", tc.res, got, tc.name)
		}
		if got := obj(t, a.Inputs, "value").NumberValue(); got != tc.value {
			t.Errorf("%s: value = %v, want %v", tc.res, got, tc.value)
		}
		if got := obj(t, a.Inputs, "globalDefault"); !got.IsBool() || got.BoolValue() {
			t.Errorf("%s: globalDefault = %v, want false", tc.res, got)
		}
		if got := obj(t, a.Inputs, "preemptionPolicy").StringValue(); got != tc.preemption {
			t.Errorf("%s: preemptionPolicy = %q, want %q", tc.res, got, tc.preemption)
		}
		wantLabels := map[string]string{ManagedByLabel: ManagedByValue, PartOfLabel: PartOfValue}
		if got := stringMap(t, obj(t, a.Inputs, "metadata", "labels")); !maps.Equal(got, wantLabels) {
			t.Errorf("%s: labels = %v, want %v", tc.res, got, wantLabels)
		}
	}

	// Outputs.
	if res.platformNS != "platform-system" || res.obsNS != "observability" {
		t.Errorf("namespace outputs = %q, %q", res.platformNS, res.obsNS)
	}
	if !slices.Equal(res.namespaces, []string{"platform-system", "observability"}) {
		t.Errorf("Namespaces = %q", res.namespaces)
	}
	if res.platformPC != PlatformPriorityClassName || res.tenantPC != TenantPriorityClassName {
		t.Errorf("priority class outputs = %q, %q", res.platformPC, res.tenantPC)
	}
	if !maps.Equal(res.c.Labels, map[string]string{ManagedByLabel: ManagedByValue, PartOfLabel: PartOfValue}) {
		t.Errorf("Labels = %v", res.c.Labels)
	}
}

func TestNewClusterCustomArgs(t *testing.T) {
	rec, res, err := run(t, "prod", func(*pulumi.Context) *ClusterArgs {
		return &ClusterArgs{
			PlatformNamespace:      "ts-platform",
			ObservabilityNamespace: "ts-telemetry",
			ExtraNamespaces:        []string{"ts-databases"},
			Labels:                 map[string]string{"example.com/env": "prod", ManagedByLabel: ManagedByValue},
			PlatformPriority:       5000,
			TenantPriority:         10,
			PodSecurityEnforce:     PodSecurityRestricted,
			PodSecurityAudit:       PodSecurityRestricted,
			PodSecurityWarn:        PodSecurityRestricted,
		}
	})
	if err != nil {
		t.Fatalf("NewCluster: %v", err)
	}
	if !slices.Equal(res.namespaces, []string{"ts-platform", "ts-telemetry", "ts-databases"}) {
		t.Errorf("Namespaces = %q", res.namespaces)
	}
	if res.platformNS != "ts-platform" || res.obsNS != "ts-telemetry" {
		t.Errorf("namespace outputs = %q, %q", res.platformNS, res.obsNS)
	}
	extra := rec.byName(t, "prod-ns-ts-databases")
	labels := stringMap(t, obj(t, extra.Inputs, "metadata", "labels"))
	for k, v := range map[string]string{
		"example.com/env":                    "prod",
		ManagedByLabel:                       ManagedByValue,
		"pod-security.kubernetes.io/enforce": "restricted",
	} {
		if labels[k] != v {
			t.Errorf("extra namespace label %s = %q, want %q", k, labels[k], v)
		}
	}
	if got := obj(t, rec.byName(t, "prod-platform-priority").Inputs, "value").NumberValue(); got != 5000 {
		t.Errorf("platform priority = %v, want 5000", got)
	}
	if got := obj(t, rec.byName(t, "prod-tenant-priority").Inputs, "value").NumberValue(); got != 10 {
		t.Errorf("tenant priority = %v, want 10", got)
	}
	pcLabels := stringMap(t, obj(t, rec.byName(t, "prod-tenant-priority").Inputs, "metadata", "labels"))
	if pcLabels["example.com/env"] != "prod" {
		t.Errorf("priority class labels = %v, want the extra label", pcLabels)
	}
}

func TestNewClusterProviderModes(t *testing.T) {
	tests := []struct {
		name           string
		args           func(ctx *pulumi.Context) (*ClusterArgs, error)
		wantCreated    bool
		wantRender     string
		wantKubeconfig string
	}{
		{
			name: "render mode writes YAML to the directory",
			args: func(*pulumi.Context) (*ClusterArgs, error) {
				return &ClusterArgs{RenderDir: "/tmp/rendered"}, nil
			},
			wantCreated: true,
			wantRender:  "/tmp/rendered",
		},
		{
			name: "kubeconfig is passed to the created provider",
			args: func(*pulumi.Context) (*ClusterArgs, error) {
				return &ClusterArgs{Kubeconfig: pulumi.String("/etc/tenantstack/kubeconfig")}, nil
			},
			wantCreated:    true,
			wantKubeconfig: "/etc/tenantstack/kubeconfig",
		},
		{
			name: "a given provider is used as is",
			args: func(ctx *pulumi.Context) (*ClusterArgs, error) {
				p, err := kubernetes.NewProvider(ctx, "given", &kubernetes.ProviderArgs{})
				return &ClusterArgs{Provider: p}, err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var argErr error
			rec, res, err := run(t, "base", func(ctx *pulumi.Context) *ClusterArgs {
				a, err := tc.args(ctx)
				argErr = err
				return a
			})
			if argErr != nil || err != nil {
				t.Fatalf("NewCluster: %v / %v", argErr, err)
			}
			var created []pulumi.MockResourceArgs
			for _, p := range rec.ofType(providerType) {
				if p.RegisterRPC.GetParent() == res.urn {
					created = append(created, p)
				}
			}
			if got := len(created) == 1; got != tc.wantCreated || len(created) > 1 {
				t.Fatalf("component created %d providers, want created=%v", len(created), tc.wantCreated)
			}
			if !tc.wantCreated {
				if !strings.HasSuffix(res.providerURN, "::given") {
					t.Errorf("Provider output = %q, want the given provider", res.providerURN)
				}
			} else {
				render := created[0].Inputs["renderYamlToDirectory"]
				if tc.wantRender != "" && (!render.IsString() || render.StringValue() != tc.wantRender) {
					t.Errorf("renderYamlToDirectory = %v, want %q", render, tc.wantRender)
				}
				kc := created[0].Inputs["kubeconfig"]
				if tc.wantKubeconfig != "" {
					if !kc.IsSecret() {
						t.Errorf("kubeconfig = %v, want a secret: its contents can hold client keys", kc)
					} else if v := kc.SecretValue().Element; !v.IsString() || v.StringValue() != tc.wantKubeconfig {
						t.Errorf("kubeconfig = %v, want %q", v, tc.wantKubeconfig)
					}
				}
			}
			if res.c.RenderMode != (tc.wantRender != "") {
				t.Errorf("RenderMode = %v", res.c.RenderMode)
			}
			for _, typ := range []string{namespaceType, priorityClassType} {
				for _, a := range rec.ofType(typ) {
					if p := a.RegisterRPC.GetProvider(); !strings.HasPrefix(p, res.providerURN+"::") {
						t.Errorf("%s: provider %q, want %q", a.Name, p, res.providerURN)
					}
				}
			}
		})
	}
}

func TestNewClusterRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    ClusterArgs
		wantErr string
	}{
		{"empty extra namespace", ClusterArgs{ExtraNamespaces: []string{""}}, `ExtraNamespaces[0]: the name is empty`},
		{"uppercase namespace", ClusterArgs{PlatformNamespace: "Platform"}, `PlatformNamespace: "Platform" is not a DNS label`},
		{"namespace with a dot", ClusterArgs{ObservabilityNamespace: "obs.system"}, `ObservabilityNamespace: "obs.system" is not a DNS label`},
		{"namespace too long", ClusterArgs{PlatformNamespace: strings.Repeat("a", 64)}, `is 64 characters; a DNS label has at most 63`},
		{"namespace ending in a dash", ClusterArgs{ExtraNamespaces: []string{"db-"}}, `"db-" is not a DNS label`},
		{"tenant prefix", ClusterArgs{PlatformNamespace: "tenant-platform"}, `the prefix "tenant-" is reserved`},
		{"duplicate namespaces", ClusterArgs{ObservabilityNamespace: "platform-system"}, `PlatformNamespace and ObservabilityNamespace are both "platform-system"`},
		{"duplicate extra", ClusterArgs{ExtraNamespaces: []string{"db", "db"}}, `ExtraNamespaces[0] and ExtraNamespaces[1] are both "db"`},
		{"provider and render dir", ClusterArgs{Provider: &kubernetes.Provider{}, RenderDir: "out"}, "set at most one of Provider, Kubeconfig and RenderDir"},
		{"kubeconfig and render dir", ClusterArgs{Kubeconfig: pulumi.String("k"), RenderDir: "out"}, "set at most one of Provider, Kubeconfig and RenderDir"},
		{"bad label key", ClusterArgs{Labels: map[string]string{"-bad": "x"}}, `label key "-bad"`},
		{"bad label value", ClusterArgs{Labels: map[string]string{"team": "a b"}}, `label "team": value "a b"`},
		{"managed-by overridden", ClusterArgs{Labels: map[string]string{ManagedByLabel: "helm"}}, `"app.kubernetes.io/managed-by" is always "tenantstack"`},
		{"pod security label", ClusterArgs{Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}, "use the PodSecurity* fields"},
		{"negative tenant priority", ClusterArgs{TenantPriority: -1}, "TenantPriority -1 is negative"},
		{"platform priority too high", ClusterArgs{PlatformPriority: MaxUserPriority + 1}, "PlatformPriority 1000000001 is out of range"},
		{"tenant above platform", ClusterArgs{PlatformPriority: 100, TenantPriority: 100}, "TenantPriority 100 must be below PlatformPriority 100"},
		{"unknown pod security level", ClusterArgs{PodSecurityEnforce: "strict"}, `PodSecurityEnforce "strict" is not a Pod Security level`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := run(t, "base", func(*pulumi.Context) *ClusterArgs { return &tc.args })
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), `cluster "base"`) {
				t.Errorf("error %q does not name the component", err)
			}
			if n := len(rec.resources); n != 0 {
				t.Errorf("%d resources registered before the arguments were rejected", n)
			}
		})
	}
}
