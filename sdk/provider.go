package tenantstack

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/sdk/internal/sdkutil"
)

// Provider is an explicit instance of the tenantstack provider, for
// programs that talk to more than one server or do not use stack config.
type Provider struct {
	pulumi.ProviderResourceState
}

// ProviderArgs configures a Provider. All fields are optional; a program
// using only PostgreSQL resources needs only PostgresURL, and the other way
// round.
type ProviderArgs struct {
	// PostgresURL is the admin URL, e.g. postgres://admin:PW@127.0.0.1:5432/postgres.
	// It is stored as a secret. Its database is the default for resources.
	PostgresURL pulumi.StringPtrInput
	// RedisURL is the admin URL, e.g. redis://admin:PW@127.0.0.1:6379, stored as a secret.
	RedisURL pulumi.StringPtrInput
	// SSLMode overrides the sslmode of PostgresURL.
	SSLMode pulumi.StringPtrInput
	// ConnectTimeoutSeconds bounds connecting to either server; default 10.
	ConnectTimeoutSeconds pulumi.IntPtrInput
}

type providerArgs struct {
	PostgresURL           *string `pulumi:"postgresUrl"`
	RedisURL              *string `pulumi:"redisUrl"`
	SSLMode               *string `pulumi:"sslMode"`
	ConnectTimeoutSeconds *int    `pulumi:"connectTimeoutSeconds"`
}

// ElementType returns the plain type the arguments resolve to.
func (ProviderArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*providerArgs)(nil)).Elem()
}

// NewProvider registers a tenantstack provider instance; pass it to
// resources with pulumi.Provider.
func NewProvider(ctx *pulumi.Context, name string, args *ProviderArgs, opts ...pulumi.ResourceOption) (*Provider, error) {
	if args == nil {
		args = &ProviderArgs{}
	}
	a := *args
	if a.PostgresURL != nil {
		a.PostgresURL = pulumi.ToSecret(a.PostgresURL).(pulumi.StringPtrInput)
	}
	if a.RedisURL != nil {
		a.RedisURL = pulumi.ToSecret(a.RedisURL).(pulumi.StringPtrInput)
	}
	var p Provider
	if err := ctx.RegisterResource("pulumi:providers:tenantstack", name, a, &p, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &p, nil
}
