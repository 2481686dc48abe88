//go:build integration

package policies

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/internal/engine"
	"github.com/tenantstack/tenantstack/internal/toolchain"
)

// tool returns the path of a toolchain binary, failing the test with how to
// get it: these tests never pass by skipping.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := toolchain.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// previewWithPack previews the inline program as a fresh stack with the pack,
// in an engine of its own (offline, file backend under a temporary home), and
// returns the preview's output and error. providers are the plugins the
// program needs: the engine finds them on its PATH as ambient plugins, which
// tool checks first so a missing one fails with how to build it.
func previewWithPack(t *testing.T, program pulumi.RunFunc, providers ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, p := range providers {
		tool(t, p)
	}
	eng, err := engine.New(t.TempDir(), "")
	if err != nil {
		t.Fatalf("preparing the Pulumi engine: %v", err)
	}
	stack, err := auto.UpsertStackInlineSource(ctx, "policy-"+strings.ToLower(random.UniqueID()), "guardrails-test",
		program, eng.Workspace(t.TempDir())...)
	if err != nil {
		t.Fatalf("creating the stack: %v", err)
	}
	var out bytes.Buffer
	_, err = stack.Preview(ctx,
		optpreview.PolicyPacks(packPath),
		optpreview.Color("never"),
		optpreview.ProgressStreams(&out),
		optpreview.ErrorProgressStreams(&out))
	if err != nil {
		// The error carries the CLI's stderr, where the engine may put the summary.
		return out.String() + "\n" + err.Error(), err
	}
	return out.String(), nil
}

// kubernetesObject is one object of the inline program, registered through
// the Kubernetes provider by type token.
type kubernetesObject struct {
	typ, apiVersion, kind, name string
	fields                      pulumi.Map // metadata and spec
}

// renderProgram registers objs with a Kubernetes provider in render mode: it
// writes YAML instead of talking to a cluster, so previews need none.
func renderProgram(dir string, objs ...kubernetesObject) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		var k8s pulumi.ProviderResourceState
		err := ctx.RegisterResource("pulumi:providers:kubernetes", "render",
			pulumi.Map{"renderYamlToDirectory": pulumi.String(dir)}, &k8s)
		if err != nil {
			return err
		}
		for _, o := range objs {
			props := pulumi.Map{"apiVersion": pulumi.String(o.apiVersion), "kind": pulumi.String(o.kind)}
			for k, v := range o.fields {
				props[k] = v
			}
			var r pulumi.CustomResourceState
			if err := ctx.RegisterResource(o.typ, o.name, props, &r, pulumi.Provider(&k8s)); err != nil {
				return err
			}
		}
		return nil
	}
}

// tenantNamespace returns the objects of a tenant namespace as tenantstack
// means it to be: labelled restricted, with its quota, limits and
// default-deny policy.
func tenantNamespace(ns string) []kubernetesObject {
	md := func(name string) pulumi.Map {
		return pulumi.Map{"name": pulumi.String(name), "namespace": pulumi.String(ns)}
	}
	return []kubernetesObject{
		{coreType("Namespace"), "v1", "Namespace", ns, pulumi.Map{"metadata": pulumi.Map{
			"name":   pulumi.String(ns),
			"labels": pulumi.StringMap{"pod-security.kubernetes.io/enforce": pulumi.String("restricted")},
		}}},
		{coreType("ResourceQuota"), "v1", "ResourceQuota", ns + "-quota", pulumi.Map{
			"metadata": md(ns + "-quota"),
			"spec": pulumi.Map{"hard": pulumi.StringMap{
				"pods": pulumi.String("10"), "services.loadbalancers": pulumi.String("0"),
				"services.nodeports": pulumi.String("0"),
			}},
		}},
		{coreType("LimitRange"), "v1", "LimitRange", ns + "-limits", pulumi.Map{
			"metadata": md(ns + "-limits"),
			"spec": pulumi.Map{"limits": pulumi.Array{pulumi.Map{
				"type":    pulumi.String("Container"),
				"default": pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("256Mi")},
			}}},
		}},
		{"kubernetes:networking.k8s.io/v1:NetworkPolicy", "networking.k8s.io/v1", "NetworkPolicy", ns + "-deny", pulumi.Map{
			"metadata": md(ns + "-deny"),
			"spec": pulumi.Map{
				"podSelector": pulumi.Map{},
				"policyTypes": pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
			},
		}},
	}
}

func coreType(kind string) string { return "kubernetes:core/v1:" + kind }

// TestPreviewWithGuardrails runs real `pulumi preview --policy-pack` on
// Kubernetes programs: a complete tenant namespace passes (so a refusal below
// is the pack's doing, not the environment's), and unsafe ones are refused with
// the rule's message.
func TestPreviewWithGuardrails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		objs     func(ns string) []kubernetesObject
		wantErr  bool
		messages func(ns string) []string
	}{
		{
			name: "complete tenant namespace passes",
			objs: tenantNamespace,
		},
		{
			name: "tenant namespace without the Pod Security label",
			objs: func(ns string) []kubernetesObject {
				objs := tenantNamespace(ns)
				objs[0].fields = pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String(ns)}}
				return objs
			},
			wantErr: true,
			messages: func(ns string) []string {
				return []string{`Namespace "` + ns + `" must have label pod-security.kubernetes.io/enforce: restricted`}
			},
		},
		{
			name:    "tenant namespace without quota, limits or default deny",
			objs:    func(ns string) []kubernetesObject { return tenantNamespace(ns)[:1] },
			wantErr: true,
			messages: func(ns string) []string {
				return []string{
					`Namespace "` + ns + `" has no ResourceQuota in this stack`,
					`Namespace "` + ns + `" has no LimitRange in this stack`,
					`Namespace "` + ns + `" has no default-deny NetworkPolicy in this stack`,
				}
			},
		},
		{
			name: "quota allowing load balancers",
			objs: func(ns string) []kubernetesObject {
				objs := tenantNamespace(ns)
				objs[1].fields["spec"] = pulumi.Map{"hard": pulumi.StringMap{
					"services.loadbalancers": pulumi.String("2"), "services.nodeports": pulumi.String("0"),
				}}
				return objs
			},
			wantErr: true,
			messages: func(ns string) []string {
				return []string{`ResourceQuota "` + ns + `-quota" sets services.loadbalancers to "2"; it must be "0"`}
			},
		},
		{
			name: "ClusterRole with wildcards granted to a tenant ServiceAccount",
			objs: func(ns string) []kubernetesObject {
				const rbac = "rbac.authorization.k8s.io/v1"
				return append(tenantNamespace(ns),
					kubernetesObject{"kubernetes:" + rbac + ":ClusterRole", rbac, "ClusterRole", ns + "-wide", pulumi.Map{
						"metadata": pulumi.Map{"name": pulumi.String(ns + "-wide")},
						"rules": pulumi.Array{pulumi.Map{
							"apiGroups": pulumi.StringArray{pulumi.String("")},
							"resources": pulumi.StringArray{pulumi.String("configmaps")},
							"verbs":     pulumi.StringArray{pulumi.String("*")},
						}},
					}},
					kubernetesObject{"kubernetes:" + rbac + ":RoleBinding", rbac, "RoleBinding", ns + "-grant", pulumi.Map{
						"metadata": pulumi.Map{"name": pulumi.String(ns + "-grant"), "namespace": pulumi.String(ns)},
						"roleRef": pulumi.Map{
							"apiGroup": pulumi.String("rbac.authorization.k8s.io"),
							"kind":     pulumi.String("ClusterRole"),
							"name":     pulumi.String(ns + "-wide"),
						},
						"subjects": pulumi.Array{pulumi.Map{
							"kind": pulumi.String("ServiceAccount"), "name": pulumi.String("app"),
							"namespace": pulumi.String(ns),
						}},
					}})
			},
			wantErr: true,
			messages: func(ns string) []string {
				return []string{`ClusterRole "` + ns + `-wide" is granted to ServiceAccount "app" of tenant namespace "` +
					ns + `" by RoleBinding "` + ns + `-grant" and has "*" in rules[0].verbs`}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := "tenant-" + strings.ToLower(random.UniqueID())
			out, err := previewWithPack(t, renderProgram(t.TempDir(), tt.objs(ns)...), "pulumi-resource-kubernetes")
			checkPreview(t, err, out, tt.wantErr, tt.messages, ns)
		})
	}
}

// TestPreviewRefusesUnsafeDatabaseObjects runs real previews of our own
// provider's resources that its Check accepts but the pack refuses.
func TestPreviewRefusesUnsafeDatabaseObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		typ      string
		props    func(name string) pulumi.Map
		messages func(name string) []string
	}{
		{
			// createDb and an unset connectionLimit (the provider's default,
			// -1, is unlimited) pass the provider's own checks.
			name: "tenant role with createDb and no connection limit",
			typ:  "tenantstack:postgres:Role",
			props: func(name string) pulumi.Map {
				return pulumi.Map{
					"name":     pulumi.String(name),
					"login":    pulumi.Bool(true),
					"createDb": pulumi.Bool(true),
					"password": pulumi.ToSecret(pulumi.String("correct-horse-battery-staple")),
				}
			},
			messages: func(name string) []string {
				return []string{
					`Postgres role "` + name + `" is a tenant login role and must not set createDb: true`,
					`Postgres role "` + name + `" has connectionLimit -1, which means unlimited`,
				}
			},
		},
		{
			name: "database keeping CONNECT for PUBLIC",
			typ:  "tenantstack:postgres:Database",
			props: func(name string) pulumi.Map {
				return pulumi.Map{"name": pulumi.String(name), "revokePublicConnect": pulumi.Bool(false)}
			},
			messages: func(name string) []string {
				return []string{`Postgres database "` + name + `" sets revokePublicConnect: false`}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := "t_" + strings.ToLower(random.UniqueID())
			program := func(ctx *pulumi.Context) error {
				var r pulumi.CustomResourceState
				return ctx.RegisterResource(tt.typ, "unsafe", tt.props(name), &r)
			}
			out, err := previewWithPack(t, program, "pulumi-resource-tenantstack")
			checkPreview(t, err, out, true, tt.messages, name)
		})
	}
}

func checkPreview(t *testing.T, err error, out string, wantErr bool, messages func(string) []string, name string) {
	t.Helper()
	switch {
	case wantErr && err == nil:
		t.Fatalf("preview succeeded, want it refused by the policy pack; output:\n%s", out)
	case !wantErr && err != nil:
		t.Fatalf("preview failed: %v\noutput:\n%s", err, out)
	}
	if messages == nil {
		if strings.Contains(out, "[mandatory]") {
			t.Errorf("preview reported a policy violation:\n%s", out)
		}
		return
	}
	if !strings.Contains(out, "[mandatory]") {
		t.Errorf("preview output shows no mandatory violation:\n%s", out)
	}
	for _, m := range messages(name) {
		if !strings.Contains(out, m) {
			t.Errorf("preview output lacks %q:\n%s", m, out)
		}
	}
}
