package platformstack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type noResources struct{}

func (noResources) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return "", nil, fmt.Errorf("no resource expected, got %s", args.TypeToken)
}
func (noResources) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("no call expected, got %s", args.Token)
}

// TestMissingEndpointsAreAnError: the platform program takes its endpoints
// from config only; a missing one is an error naming each key and how to
// set it, and nothing is created.
func TestMissingEndpointsAreAnError(t *testing.T) {
	t.Setenv("PULUMI_CONFIG", `{"tenantstack:redisAdminUrl":"redis://admin:pw@127.0.0.1:6379/0"}`)
	err := pulumi.RunErr(Run, pulumi.WithMocks("tenantstack", "local", noResources{}))
	if err == nil {
		t.Fatal("the platform program ran without postgresAdminUrl and kubeconfig")
	}
	for _, want := range []string{"tenantstack:postgresAdminUrl", "tenantstack:kubeconfig", "tenantctl platform up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "tenantstack:redisAdminUrl (") {
		t.Errorf("error %q names redisAdminUrl, which is set", err)
	}
}
