package redis

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/sdk/internal/sdkutil"
)

// ACLUser is a Redis ACL user, written with ACL SETUSER ... reset and saved
// with ACL SAVE. A new username replaces it.
type ACLUser struct {
	pulumi.CustomResourceState

	Username pulumi.StringOutput `pulumi:"username"`
	Enabled  pulumi.BoolOutput   `pulumi:"enabled"`
	Password pulumi.StringOutput `pulumi:"password"`
	// PreviousPassword also authenticates during a rotation (secret).
	PreviousPassword pulumi.StringOutput      `pulumi:"previousPassword"`
	KeyPatterns      pulumi.StringArrayOutput `pulumi:"keyPatterns"`
	ChannelPatterns  pulumi.StringArrayOutput `pulumi:"channelPatterns"`
	Commands         pulumi.StringArrayOutput `pulumi:"commands"`
	AllowPrivileged  pulumi.BoolOutput        `pulumi:"allowPrivileged"`
	// AppliedRules and LiveRules are Redis's description of the user when
	// applied and when last read; they differ after a change by hand.
	AppliedRules pulumi.StringOutput `pulumi:"appliedRules"`
	LiveRules    pulumi.StringOutput `pulumi:"liveRules"`
}

// ACLUserArgs configures an ACLUser. Username is required.
type ACLUserArgs struct {
	// Username. Required.
	Username pulumi.StringInput
	// Enabled is on/off; default true.
	Enabled pulumi.BoolPtrInput
	// Password, stored as a secret; default none (the user cannot authenticate).
	Password pulumi.StringPtrInput
	// PreviousPassword also authenticates, beside Password, while a
	// rotation's applications move to the new one; default none. Secret.
	PreviousPassword pulumi.StringPtrInput
	// KeyPatterns without "~", e.g. t:acme:*; default none.
	KeyPatterns pulumi.StringArrayInput
	// ChannelPatterns without "&", e.g. t:acme:*; default none.
	ChannelPatterns pulumi.StringArrayInput
	// Commands applied after -@all, e.g. +get, +set, +@hash; default none.
	Commands pulumi.StringArrayInput
	// AllowPrivileged is for platform users only; default false.
	AllowPrivileged pulumi.BoolPtrInput
}

type aclUserArgs struct {
	Username         string   `pulumi:"username"`
	Enabled          *bool    `pulumi:"enabled"`
	Password         *string  `pulumi:"password"`
	PreviousPassword *string  `pulumi:"previousPassword"`
	KeyPatterns      []string `pulumi:"keyPatterns"`
	ChannelPatterns  []string `pulumi:"channelPatterns"`
	Commands         []string `pulumi:"commands"`
	AllowPrivileged  *bool    `pulumi:"allowPrivileged"`
}

// ElementType returns the plain type the arguments resolve to.
func (ACLUserArgs) ElementType() reflect.Type { return reflect.TypeOf((*aclUserArgs)(nil)).Elem() }

// NewACLUser registers an ACLUser.
func NewACLUser(ctx *pulumi.Context, name string, args *ACLUserArgs, opts ...pulumi.ResourceOption) (*ACLUser, error) {
	if args == nil || args.Username == nil {
		return nil, errors.New("redis.NewACLUser: Username is required")
	}
	a := *args
	if a.Password != nil {
		a.Password = pulumi.ToSecret(a.Password).(pulumi.StringPtrInput)
	}
	if a.PreviousPassword != nil {
		a.PreviousPassword = pulumi.ToSecret(a.PreviousPassword).(pulumi.StringPtrInput)
	}
	opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"password", "previousPassword"}))
	var r ACLUser
	if err := ctx.RegisterResource("tenantstack:redis:AclUser", name, a, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
