package redis

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/internal/pulumitest"
	"github.com/tenantstack/tenantstack/internal/version"
)

// Type tokens of the component and of the children it may create.
const (
	tComponent   = "tenantstack:platform:Redis"
	tProvider    = "pulumi:providers:tenantstack"
	tK8sProvider = "pulumi:providers:kubernetes"
	tACLUser     = "tenantstack:redis:AclUser"
	tSecret      = "kubernetes:core/v1:Secret"
	tService     = "kubernetes:core/v1:Service"
	tStatefulSet = "kubernetes:apps/v1:StatefulSet"
)

// A password with every character a URL treats specially.
const adminPassword = "r3dis@:/?#%pass 0123456789"

// outputs are the component's outputs, resolved inside the program.
type outputs struct {
	urn, providerURN, k8sProviderURN string
	host, adminURL                   string
	port                             int
	adminSecret, endpointSecret      bool
	hasProvider                      bool
}

// run runs a program that creates a Kubernetes provider and one Redis from
// args(provider).
func run(t *testing.T, name string, args func(k8s pulumi.ProviderResource) *RedisArgs) (*pulumitest.Recorder, outputs, error) {
	t.Helper()
	rec := pulumitest.NewRecorder(tComponent, tProvider, tK8sProvider, tACLUser, tSecret, tService, tStatefulSet)
	var out outputs
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		out.k8sProviderURN = string(pulumitest.Await[pulumi.URN](t, k8s.URN()))
		c, err := NewRedis(ctx, name, args(k8s))
		if err != nil {
			return err
		}
		out.urn = string(pulumitest.Await[pulumi.URN](t, c.URN()))
		out.host = pulumitest.Await[string](t, c.Host)
		out.port = pulumitest.Await[int](t, c.Port)
		out.adminURL = pulumitest.Await[string](t, c.AdminURL)
		out.adminSecret = pulumi.IsSecret(c.AdminURL)
		out.endpointSecret = pulumi.IsSecret(c.Host) || pulumi.IsSecret(c.Port)
		if c.Provider != nil {
			out.hasProvider = true
			out.providerURN = string(pulumitest.Await[pulumi.URN](t, c.Provider.URN()))
		}
		return nil
	}, pulumi.WithMocks("project", "stack", rec))
	return rec, out, err
}

// checkParentsAndProviders asserts every child is parented to the
// component, every tenantstack resource uses the component's provider at
// the SDK's version, and every Kubernetes object the given provider.
func checkParentsAndProviders(t *testing.T, rec *pulumitest.Recorder, out outputs) {
	t.Helper()
	for _, a := range rec.All() {
		if a.TypeToken == tComponent || (a.TypeToken == tK8sProvider && a.Name == "k8s") {
			continue
		}
		if p := a.RegisterRPC.GetParent(); p != out.urn {
			t.Errorf("%s %s: parent %q, want the component %q", a.TypeToken, a.Name, p, out.urn)
		}
		switch {
		case a.TypeToken == tProvider:
			if v := a.RegisterRPC.GetVersion(); v != version.ProviderVersion {
				t.Errorf("%s %s: version %q, want %q", a.TypeToken, a.Name, v, version.ProviderVersion)
			}
		case strings.HasPrefix(a.TypeToken, "tenantstack:"):
			if p := a.Provider; out.providerURN == "" || !strings.HasPrefix(p, out.providerURN+"::") {
				t.Errorf("%s %s: provider %q, want the component's %q", a.TypeToken, a.Name, p, out.providerURN)
			}
			if v := a.RegisterRPC.GetVersion(); v != version.ProviderVersion {
				t.Errorf("%s %s: version %q, want %q", a.TypeToken, a.Name, v, version.ProviderVersion)
			}
		case strings.HasPrefix(a.TypeToken, "kubernetes:"):
			if p := a.Provider; !strings.HasPrefix(p, out.k8sProviderURN+"::") {
				t.Errorf("%s %s: provider %q, want the given Kubernetes provider %q", a.TypeToken, a.Name, p, out.k8sProviderURN)
			}
		}
	}
}

// checkDefaultUser asserts the ACL user that switches the default user off.
func checkDefaultUser(t *testing.T, rec *pulumitest.Recorder, name string) {
	t.Helper()
	u := rec.ByName(t, tACLUser, name+"-default-user")
	if got := pulumitest.Str(t, u.Inputs, "username"); got != "default" {
		t.Errorf("ACL user username = %q, want default", got)
	}
	if v := pulumitest.Get(t, u.Inputs, "enabled"); !v.IsBool() || v.BoolValue() {
		t.Errorf("ACL user enabled = %v, want false", v)
	}
	// The provider takes the built-in user only as a privileged one kept off.
	if v := pulumitest.Get(t, u.Inputs, "allowPrivileged"); !v.IsBool() || !v.BoolValue() {
		t.Errorf("ACL user allowPrivileged = %v, want true (the provider refuses the default user otherwise)", v)
	}
	// Nothing that would let anyone in as the default user.
	for _, k := range []string{"password", "keyPatterns", "channelPatterns", "commands"} {
		if v, ok := u.Inputs[resource.PropertyKey(k)]; ok && !v.IsNull() {
			t.Errorf("ACL user %s = %v, want unset", k, v)
		}
	}
	// Redis cannot delete its default user: destroy must leave it (off).
	if !u.RegisterRPC.GetRetainOnDelete() {
		t.Error("the default user's ACL user is not RetainOnDelete")
	}
}

func TestNewRedisExternal(t *testing.T) {
	adminURL := "redis://admin:s3cr%40t@cache.example.com:6380"
	rec, out, err := run(t, "rd", func(pulumi.ProviderResource) *RedisArgs {
		return &RedisArgs{AdminURL: pulumi.String(adminURL)}
	})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	if want := "urn:pulumi:stack::project::" + tComponent + "::rd"; out.urn != want {
		t.Errorf("component URN = %q, want %q", out.urn, want)
	}
	want := []string{tACLUser + " rd-default-user", tProvider + " rd-admin"}
	slices.Sort(want)
	if got := rec.Children(tK8sProvider); !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}
	checkParentsAndProviders(t, rec, out)

	prov := rec.ByName(t, tProvider, "rd-admin")
	if got := pulumitest.Str(t, prov.Inputs, "redisUrl"); got != adminURL || !pulumitest.SecretAt(t, prov.Inputs, "redisUrl") {
		t.Errorf("provider redisUrl = %q (secret %v), want the admin URL as a secret", got, pulumitest.SecretAt(t, prov.Inputs, "redisUrl"))
	}
	if v, ok := prov.Inputs["postgresUrl"]; ok && !v.IsNull() {
		t.Errorf("provider postgresUrl = %v, want unset", v)
	}
	checkDefaultUser(t, rec, "rd")

	if out.host != "cache.example.com" || out.port != 6380 {
		t.Errorf("Host, Port = %q, %d, want cache.example.com, 6380", out.host, out.port)
	}
	if out.endpointSecret {
		t.Error("Host or Port is secret; only the URL should be")
	}
	if out.adminURL != adminURL || !out.adminSecret {
		t.Errorf("AdminURL = %q (secret %v), want %q as a secret even though it was given in plain text", out.adminURL, out.adminSecret, adminURL)
	}
	if !out.hasProvider {
		t.Error("Provider is nil in external mode")
	}
}

func TestNewRedisEndpoints(t *testing.T) {
	tests := []struct {
		name, url, host string
		port            int
	}{
		{"default port", "redis://admin:pw@cache.internal", "cache.internal", 6379},
		{"IPv6 host", "redis://admin:pw@[::1]:16379", "::1", 16379},
		{"a password with URL delimiters",
			(&url.URL{Scheme: "redis", User: url.UserPassword("admin", adminPassword), Host: "127.0.0.1:7000"}).String(),
			"127.0.0.1", 7000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, out, err := run(t, "rd", func(pulumi.ProviderResource) *RedisArgs {
				return &RedisArgs{Mode: External, AdminURL: pulumi.ToSecret(pulumi.String(tc.url)).(pulumi.StringOutput)}
			})
			if err != nil {
				t.Fatalf("NewRedis: %v", err)
			}
			if out.host != tc.host || out.port != tc.port {
				t.Errorf("Host, Port = %q, %d, want %q, %d", out.host, out.port, tc.host, tc.port)
			}
			if out.endpointSecret {
				t.Error("Host or Port is secret although only the URL is")
			}
		})
	}
}

func TestNewRedisInvalidURL(t *testing.T) {
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewRedis(ctx, "rd", &RedisArgs{AdminURL: pulumi.String("redis://admin:pw@cache:notaport")})
		return err
	}, pulumi.WithMocks("project", "stack", pulumitest.NewRecorder(tComponent, tProvider, tK8sProvider, tACLUser, tSecret, tService, tStatefulSet)))
	if err == nil || !strings.Contains(err.Error(), "invalid Redis URL") {
		t.Fatalf("err = %v, want an invalid Redis URL error", err)
	}
}

func TestNewRedisInCluster(t *testing.T) {
	ic := &InClusterArgs{AdminPassword: pulumi.ToSecret(pulumi.String(adminPassword)).(pulumi.StringOutput), SkipAwait: true}
	rec, out, err := run(t, "rd", func(k8s pulumi.ProviderResource) *RedisArgs {
		ic.KubernetesProvider = k8s
		return &RedisArgs{Mode: InCluster, InCluster: ic}
	})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	// Without an AdminURL the baseline lives in the aclfile only.
	want := []string{tStatefulSet + " rd-redis", tSecret + " rd-acl", tService + " rd-redis"}
	slices.Sort(want)
	if got := rec.Children(tK8sProvider); !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}
	checkParentsAndProviders(t, rec, out)
	if out.hasProvider {
		t.Error("Provider is set without an AdminURL")
	}
	if ic.Namespace != "" || ic.Image != "" {
		t.Errorf("the caller's InClusterArgs were changed to %+v", *ic)
	}

	wantLabels := map[string]string{"app.kubernetes.io/name": "redis", "app.kubernetes.io/managed-by": "tenantstack"}
	for _, c := range []struct{ typ, name string }{{tSecret, "rd-acl"}, {tService, "rd-redis"}, {tStatefulSet, "rd-redis"}} {
		a := rec.ByName(t, c.typ, c.name)
		if got := pulumitest.Str(t, a.Inputs, "metadata", "name"); got != c.name {
			t.Errorf("%s %s: metadata.name = %q", c.typ, c.name, got)
		}
		if got := pulumitest.Str(t, a.Inputs, "metadata", "namespace"); got != "platform-system" {
			t.Errorf("%s %s: namespace = %q, want platform-system", c.typ, c.name, got)
		}
		if got := pulumitest.Str(t, a.Inputs, "metadata", "annotations", "pulumi.com/skipAwait"); got != "true" {
			t.Errorf("%s %s: skipAwait annotation = %q, want true", c.typ, c.name, got)
		}
		if got := pulumitest.StringMap(t, pulumitest.Get(t, a.Inputs, "metadata", "labels")); !maps.Equal(got, wantLabels) {
			t.Errorf("%s %s: labels = %v, want %v", c.typ, c.name, got, wantLabels)
		}
	}

	secret := rec.ByName(t, tSecret, "rd-acl").Inputs
	wantACL := "user default off resetkeys resetchannels -@all\nuser admin on >" + adminPassword + " ~* &* +@all\n"
	if got := pulumitest.Str(t, secret, "stringData", "users.acl"); got != wantACL || !pulumitest.SecretAt(t, secret, "stringData", "users.acl") {
		t.Errorf("users.acl = %q (secret %v), want the baseline as a secret", got, pulumitest.SecretAt(t, secret, "stringData", "users.acl"))
	}

	sts := rec.ByName(t, tStatefulSet, "rd-redis").Inputs
	for path, want := range map[string]string{
		"spec.serviceName":                               "rd-redis",
		"spec.template.spec.priorityClassName":           "tenantstack-platform",
		"spec.template.spec.containers.0.image":          "redis:7.0",
		"spec.template.spec.initContainers.0.image":      "redis:7.0",
		"spec.template.spec.volumes.0.secret.secretName": "rd-acl",
	} {
		if got := pulumitest.Str(t, sts, strings.Split(path, ".")...); got != want {
			t.Errorf("statefulset %s = %q, want %q", path, got, want)
		}
	}
	args := pulumitest.Strs(t, pulumitest.Get(t, sts, "spec", "template", "spec", "containers", "0", "args"))
	if i := slices.Index(args, "--aclfile"); i < 0 || i+1 >= len(args) || args[i+1] != "/data/users.acl" {
		t.Errorf("redis args = %q, want --aclfile /data/users.acl (writable, for ACL SAVE)", args)
	}
	if got := pulumitest.StringMap(t, pulumitest.Get(t, rec.ByName(t, tService, "rd-redis").Inputs, "spec", "selector")); !maps.Equal(got, wantLabels) {
		t.Errorf("service selector = %v, want the StatefulSet's pods", got)
	}

	if out.host != "rd-redis.platform-system.svc" || out.port != 6379 {
		t.Errorf("Host, Port = %q, %d", out.host, out.port)
	}
	u, err := url.Parse(out.adminURL)
	if err != nil {
		t.Fatalf("AdminURL %q: %v", out.adminURL, err)
	}
	if pw, _ := u.User.Password(); u.Scheme != "redis" || u.User.Username() != "admin" || pw != adminPassword || u.Host != "rd-redis.platform-system.svc:6379" {
		t.Errorf("AdminURL = %q, want redis://admin:<password>@rd-redis.platform-system.svc:6379", out.adminURL)
	}
	if !out.adminSecret {
		t.Error("AdminURL is not secret")
	}
}

func TestNewRedisInClusterOptions(t *testing.T) {
	rec, out, err := run(t, "cache", func(k8s pulumi.ProviderResource) *RedisArgs {
		return &RedisArgs{
			Mode:     InCluster,
			AdminURL: pulumi.String("redis://admin:pw@127.0.0.1:16379"),
			InCluster: &InClusterArgs{
				KubernetesProvider: k8s,
				AdminPassword:      pulumi.String("pw"),
				Namespace:          "data",
				Image:              "registry.example.com/redis:7.0.15",
			},
		}
	})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	// With an AdminURL (a port-forward, say) the baseline is also enforced live.
	want := []string{
		tStatefulSet + " cache-redis", tSecret + " cache-acl", tService + " cache-redis",
		tACLUser + " cache-default-user", tProvider + " cache-admin",
	}
	slices.Sort(want)
	if got := rec.Children(tK8sProvider); !slices.Equal(got, want) {
		t.Errorf("children =\n%q\nwant\n%q", got, want)
	}
	checkParentsAndProviders(t, rec, out)
	checkDefaultUser(t, rec, "cache")
	if got := pulumitest.Str(t, rec.ByName(t, tProvider, "cache-admin").Inputs, "redisUrl"); got != "redis://admin:pw@127.0.0.1:16379" {
		t.Errorf("provider redisUrl = %q, want the reachable AdminURL", got)
	}
	sts := rec.ByName(t, tStatefulSet, "cache-redis").Inputs
	if got := pulumitest.Str(t, sts, "metadata", "namespace"); got != "data" {
		t.Errorf("namespace = %q, want data", got)
	}
	if got := pulumitest.Str(t, sts, "spec", "template", "spec", "containers", "0", "image"); got != "registry.example.com/redis:7.0.15" {
		t.Errorf("image = %q", got)
	}
	if v, ok := pulumitest.Get(t, sts, "metadata").ObjectValue()["annotations"]; ok && v.IsObject() && len(v.ObjectValue()) > 0 {
		t.Errorf("annotations = %v, want none without SkipAwait", v)
	}
	// The outputs are how workloads in the cluster reach the server.
	if out.host != "cache-redis.data.svc" {
		t.Errorf("Host = %q, want cache-redis.data.svc", out.host)
	}
}

func TestNewRedisRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args func(k8s pulumi.ProviderResource) *RedisArgs
		want string
	}{
		{"nil args", func(pulumi.ProviderResource) *RedisArgs { return nil }, `redis "bad": args are required`},
		{"no AdminURL, default mode", func(pulumi.ProviderResource) *RedisArgs { return &RedisArgs{} },
			`redis "bad": AdminURL is required in external mode`},
		{"unknown mode", func(pulumi.ProviderResource) *RedisArgs {
			return &RedisArgs{Mode: "managed", AdminURL: pulumi.String("redis://a:b@h")}
		}, `unknown mode "managed"; use "external" or "incluster"`},
		{"incluster without settings", func(pulumi.ProviderResource) *RedisArgs { return &RedisArgs{Mode: InCluster} },
			"incluster mode needs InCluster.KubernetesProvider and InCluster.AdminPassword"},
		{"incluster without provider", func(pulumi.ProviderResource) *RedisArgs {
			return &RedisArgs{Mode: InCluster, InCluster: &InClusterArgs{AdminPassword: pulumi.String("pw")}}
		}, "incluster mode needs InCluster.KubernetesProvider"},
		{"incluster without password", func(k8s pulumi.ProviderResource) *RedisArgs {
			return &RedisArgs{Mode: InCluster, InCluster: &InClusterArgs{KubernetesProvider: k8s}}
		}, "InCluster.AdminPassword"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := run(t, "bad", tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if got := rec.Children(tK8sProvider); len(got) != 0 {
				t.Errorf("registered %q before rejecting the args", got)
			}
			for _, a := range rec.All() {
				if a.TypeToken == tComponent {
					t.Error("the component was registered before its args were checked")
				}
			}
		})
	}
}
