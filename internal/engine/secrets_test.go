package engine

import (
	"strings"
	"testing"
)

func TestSecretsProvider(t *testing.T) {
	for _, ok := range []string{"", "passphrase", "default", "awskms://alias/tenantstack", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", "azurekeyvault://v.vault.azure.net/keys/k", "hashivault://tenantstack"} {
		if err := ValidateSecretsProvider(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"kms", "awskms://", "s3://bucket", "Passphrase"} {
		if err := ValidateSecretsProvider(bad); err == nil || !strings.Contains(err.Error(), "awskms://") {
			t.Errorf("%q: err %v, want a refusal naming the providers", bad, err)
		}
	}
	e := &Engine{SecretsProvider: "passphrase", Env: map[string]string{}}
	if err := e.SetSecretsProvider("awskms://alias/tenantstack"); err != nil {
		t.Fatal(err)
	}
	if err := e.SetSecretsProvider("bogus"); err == nil || e.SecretsProvider != "awskms://alias/tenantstack" {
		t.Errorf("a bad provider was taken or changed the engine: %v, %q", err, e.SecretsProvider)
	}
}
