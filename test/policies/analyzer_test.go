//go:build integration

package policies

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tenantstack/tenantstack/policies/guardrails"
)

// startPack launches the pack binary the way the engine does and returns a
// client for the analyzer it serves.
func startPack(t *testing.T) pulumirpc.AnalyzerClient {
	t.Helper()
	cmd := exec.Command(packPath, "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", packPath, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// The analyzer protocol: the plugin's first line on stdout is its port.
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the pack's port: %v", err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

func marshal(t *testing.T, props resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(props, plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPackServesAnalyzerProtocol talks to the built binary as the engine does
// (handshake, stack configuration, analyzer info, analysis) and checks that the
// engine would see every policy as mandatory and get our messages back.
func TestPackServesAnalyzerProtocol(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := startPack(t)

	dir := filepath.Dir(packPath)
	if _, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{RootDirectory: &dir, ProgramDirectory: &dir}); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	if _, err := client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
		Stack: "acme", Project: "tenant", Organization: "organization", DryRun: true,
	}); err != nil {
		t.Fatalf("ConfigureStack: %v", err)
	}

	info, err := client.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatalf("GetAnalyzerInfo: %v", err)
	}
	if info.GetName() != guardrails.PackName || info.GetVersion() != guardrails.Version.String() {
		t.Errorf("analyzer is %s@%s, want %s@%s", info.GetName(), info.GetVersion(), guardrails.PackName, guardrails.Version)
	}
	if got, want := len(info.GetPolicies()), len(guardrails.Policies()); got != want {
		t.Errorf("analyzer declares %d policies, want %d", got, want)
	}
	for _, p := range info.GetPolicies() {
		if p.GetEnforcementLevel() != pulumirpc.EnforcementLevel_MANDATORY {
			t.Errorf("policy %q is %v to the engine, want MANDATORY", p.GetName(), p.GetEnforcementLevel())
		}
	}

	nsURN := "urn:pulumi:acme::tenant::kubernetes:core/v1:Namespace::tenant-x"
	ns := resource.PropertyMap{
		"apiVersion": resource.NewStringProperty("v1"),
		"kind":       resource.NewStringProperty("Namespace"),
		"metadata": resource.NewObjectProperty(resource.PropertyMap{
			"name": resource.NewStringProperty("tenant-x"),
		}),
	}
	resp, err := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{
		Urn: nsURN, Type: guardrails.TypeNamespace, Name: "tenant-x", Properties: marshal(t, ns),
	})
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	want := `Namespace "tenant-x" must have label pod-security.kubernetes.io/enforce: restricted`
	assertDiagnostic(t, resp.GetDiagnostics(), "tenant-namespace-pod-security", nsURN, want)

	role := resource.PropertyMap{
		"name":            resource.NewStringProperty("t_acme"),
		"login":           resource.NewBoolProperty(true),
		"password":        resource.NewStringProperty("plain"),
		"connectionLimit": resource.NewNumberProperty(5),
	}
	roleURN := "urn:pulumi:acme::tenant::tenantstack:postgres:Role::acme"
	resp, err = client.Analyze(ctx, &pulumirpc.AnalyzeRequest{
		Urn: roleURN, Type: guardrails.TypePostgresRole, Name: "acme", Properties: marshal(t, role),
	})
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	assertDiagnostic(t, resp.GetDiagnostics(), "credentials-are-secrets", roleURN,
		`Postgres role "t_acme" has a password that is not a Pulumi secret`)
	role["password"] = resource.MakeSecret(resource.NewStringProperty("hidden"))
	resp, err = client.Analyze(ctx, &pulumirpc.AnalyzeRequest{
		Urn: roleURN, Type: guardrails.TypePostgresRole, Name: "acme", Properties: marshal(t, role),
	})
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	if d := resp.GetDiagnostics(); len(d) != 0 {
		t.Errorf("a compliant role with a secret password got diagnostics: %v", d)
	}

	stack, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{Resources: []*pulumirpc.AnalyzerResource{{
		Urn: nsURN, Type: guardrails.TypeNamespace, Name: "tenant-x", Properties: marshal(t, ns),
	}}})
	if err != nil {
		t.Fatalf("AnalyzeStack: %v", err)
	}
	assertDiagnostic(t, stack.GetDiagnostics(), "tenant-namespace-baseline", nsURN,
		`Namespace "tenant-x" has no ResourceQuota in this stack`)
}

// assertDiagnostic fails unless ds holds a mandatory diagnostic of policy for
// urn whose message contains want.
func assertDiagnostic(t *testing.T, ds []*pulumirpc.AnalyzeDiagnostic, policy, urn, want string) {
	t.Helper()
	for _, d := range ds {
		if d.GetPolicyName() == policy && d.GetUrn() == urn && strings.Contains(d.GetMessage(), want) {
			if d.GetEnforcementLevel() != pulumirpc.EnforcementLevel_MANDATORY {
				t.Errorf("policy %q reported at %v, want MANDATORY", policy, d.GetEnforcementLevel())
			}
			return
		}
	}
	t.Errorf("no %s diagnostic for %s containing %q; got %v", policy, urn, want, ds)
}
