// Command tenant is the program of a tenant stack, for `pulumi preview` and
// `pulumi up` by hand: the function tenantctl runs inline
// (tenantprogram.Program), given the same inputs. For a tenant tenantctl
// made, those are the stack's own recorded outputs (spec, status,
// passwords) and the platform stack's outputs, so a preview by hand shows
// what tenantctl would change, and right after tenantctl, nothing:
//
//	cd stacks/tenant
//	pulumi preview --stack local-acme
//
// with the environment tenantctl's engine uses (PULUMI_BACKEND_URL,
// PULUMI_CONFIG_PASSPHRASE_FILE; see the README). The outputs are read with
// `pulumi stack output`, which reads and never locks.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/stacks/tenant/tenantprogram"
)

func main() {
	pulumi.Run(run)
}

func run(ctx *pulumi.Context) error {
	c := config.New(ctx, "tenant")
	platform := c.Get("platform")
	if platform == "" {
		platform = "local"
	}
	name, ok := strings.CutPrefix(ctx.Stack(), platform+"-")
	if !ok {
		return fmt.Errorf("stack %q is not named %s-TENANT; select the tenant's stack (tenantctl names it PLATFORM-TENANT), or set tenant:platform", ctx.Stack(), platform)
	}
	var p tenantprogram.Platform
	if err := stackOutputs("organization/tenantstack/"+platform, &p); err != nil {
		return fmt.Errorf("reading the platform stack %q: %w; bring it up first (tenantctl platform up)", platform, err)
	}
	var st tenantprogram.State
	if err := stackOutputs(ctx.Stack(), &st); err != nil {
		return fmt.Errorf("reading what stack %q recorded: %w", ctx.Stack(), err)
	}
	if raw := c.Get("spec"); raw != "" {
		var spec tenantspec.Spec
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			return fmt.Errorf("tenant:spec is not a tenant spec: %w", err)
		}
		st.Spec = spec
	}
	if st.Spec.Name == "" {
		return fmt.Errorf("stack %q recorded no tenant and tenant:spec is empty; create the tenant with \"tenantctl create %s\" (or set tenant:spec)", ctx.Stack(), name)
	}
	if st.Spec.Name != name {
		return fmt.Errorf("tenant:spec names tenant %q, but the stack is tenant %q's", st.Spec.Name, name)
	}
	if err := st.Spec.Validate(); err != nil {
		return err
	}
	if st.Status == "" {
		st.Status = tenantspec.StatusActive
	}
	if st.Created.IsZero() {
		st.Created = time.Now().UTC().Truncate(time.Second)
	}
	if st.Credentials.Postgres.Password == "" || st.Credentials.Redis.Password == "" {
		return fmt.Errorf("stack %q recorded no passwords; a new tenant is made by \"tenantctl create %s\", which chooses them", ctx.Stack(), name)
	}
	return tenantprogram.Program(st, &p)(ctx)
}

// stackOutputs decodes the outputs of stack, secrets included, into v. A
// stack with no outputs leaves v as it is.
func stackOutputs(stack string, v any) error {
	var out, errOut bytes.Buffer
	cmd := exec.Command("pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack)
	cmd.Stdout, cmd.Stderr, cmd.Env = &out, &errOut, os.Environ()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pulumi stack output --stack %s: %v: %s", stack, err, strings.TrimSpace(errOut.String()))
	}
	if bytes.Equal(bytes.TrimSpace(out.Bytes()), []byte("{}")) {
		return nil
	}
	return json.Unmarshal(out.Bytes(), v)
}
