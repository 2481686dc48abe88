package postgres

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/sdk/internal/sdkutil"
)

// Role is a PostgreSQL role. Renaming replaces it; other attributes change
// in place.
type Role struct {
	pulumi.CustomResourceState

	Name            pulumi.StringOutput      `pulumi:"name"`
	Login           pulumi.BoolOutput        `pulumi:"login"`
	Password        pulumi.StringOutput      `pulumi:"password"`
	ConnectionLimit pulumi.IntOutput         `pulumi:"connectionLimit"`
	Superuser       pulumi.BoolOutput        `pulumi:"superuser"`
	CreateDB        pulumi.BoolOutput        `pulumi:"createDb"`
	CreateRole      pulumi.BoolOutput        `pulumi:"createRole"`
	Replication     pulumi.BoolOutput        `pulumi:"replication"`
	BypassRLS       pulumi.BoolOutput        `pulumi:"bypassRls"`
	Inherit         pulumi.BoolOutput        `pulumi:"inherit"`
	MemberOf        pulumi.StringArrayOutput `pulumi:"memberOf"`
	SearchPath      pulumi.StringArrayOutput `pulumi:"searchPath"`
	AllowPrivileged pulumi.BoolOutput        `pulumi:"allowPrivileged"`
}

// RoleArgs configures a Role. Name is required.
type RoleArgs struct {
	// Name is the role name (ASCII letters, digits, _ and -; at most 63 bytes). Required.
	Name pulumi.StringInput
	// Login lets the role log in; default false.
	Login pulumi.BoolPtrInput
	// Password is stored as a secret, and on the server as a SCRAM verifier; default none.
	Password pulumi.StringPtrInput
	// ConnectionLimit caps concurrent connections; default -1 (no limit).
	ConnectionLimit pulumi.IntPtrInput
	// Superuser, CreateRole, Replication and BypassRLS are refused unless
	// AllowPrivileged; all default false, as does CreateDB.
	Superuser   pulumi.BoolPtrInput
	CreateDB    pulumi.BoolPtrInput
	CreateRole  pulumi.BoolPtrInput
	Replication pulumi.BoolPtrInput
	BypassRLS   pulumi.BoolPtrInput
	// Inherit makes the role use its groups' privileges; default true.
	Inherit pulumi.BoolPtrInput
	// MemberOf lists the roles it joins; others are revoked. Default none.
	MemberOf pulumi.StringArrayInput
	// SearchPath is the schemas the role's sessions resolve unqualified
	// names in; default the server's.
	SearchPath pulumi.StringArrayInput
	// Settings are the role's session defaults (ALTER ROLE ... SET), such
	// as statement_timeout; others are reset. Default none.
	Settings pulumi.StringMapInput
	// AllowPrivileged is for platform roles only; default false.
	AllowPrivileged pulumi.BoolPtrInput
}

type roleArgs struct {
	Name            string            `pulumi:"name"`
	Login           *bool             `pulumi:"login"`
	Password        *string           `pulumi:"password"`
	ConnectionLimit *int              `pulumi:"connectionLimit"`
	Superuser       *bool             `pulumi:"superuser"`
	CreateDB        *bool             `pulumi:"createDb"`
	CreateRole      *bool             `pulumi:"createRole"`
	Replication     *bool             `pulumi:"replication"`
	BypassRLS       *bool             `pulumi:"bypassRls"`
	Inherit         *bool             `pulumi:"inherit"`
	MemberOf        []string          `pulumi:"memberOf"`
	SearchPath      []string          `pulumi:"searchPath"`
	Settings        map[string]string `pulumi:"settings"`
	AllowPrivileged *bool             `pulumi:"allowPrivileged"`
}

// ElementType returns the plain type the arguments resolve to.
func (RoleArgs) ElementType() reflect.Type { return reflect.TypeOf((*roleArgs)(nil)).Elem() }

// NewRole registers a Role.
func NewRole(ctx *pulumi.Context, name string, args *RoleArgs, opts ...pulumi.ResourceOption) (*Role, error) {
	if args == nil || args.Name == nil {
		return nil, errors.New("postgres.NewRole: Name is required")
	}
	a := *args
	if a.Password != nil {
		a.Password = pulumi.ToSecret(a.Password).(pulumi.StringPtrInput)
	}
	opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"password"}))
	var r Role
	if err := ctx.RegisterResource("tenantstack:postgres:Role", name, a, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// Database is a PostgreSQL database. Renaming replaces it.
type Database struct {
	pulumi.CustomResourceState

	Name                pulumi.StringOutput `pulumi:"name"`
	Owner               pulumi.StringOutput `pulumi:"owner"`
	RevokePublicConnect pulumi.BoolOutput   `pulumi:"revokePublicConnect"`
	ForceDestroy        pulumi.BoolOutput   `pulumi:"forceDestroy"`
}

// DatabaseArgs configures a Database. Name is required.
type DatabaseArgs struct {
	// Name is the database name. Required.
	Name pulumi.StringInput
	// Owner is the owning role; default the provider's admin.
	Owner pulumi.StringPtrInput
	// RevokePublicConnect revokes CONNECT and TEMP from PUBLIC; default true.
	RevokePublicConnect pulumi.BoolPtrInput
	// ForceDestroy ends other sessions on delete instead of refusing; default false.
	ForceDestroy pulumi.BoolPtrInput
}

type databaseArgs struct {
	Name                string  `pulumi:"name"`
	Owner               *string `pulumi:"owner"`
	RevokePublicConnect *bool   `pulumi:"revokePublicConnect"`
	ForceDestroy        *bool   `pulumi:"forceDestroy"`
}

// ElementType returns the plain type the arguments resolve to.
func (DatabaseArgs) ElementType() reflect.Type { return reflect.TypeOf((*databaseArgs)(nil)).Elem() }

// NewDatabase registers a Database.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	if args == nil || args.Name == nil {
		return nil, errors.New("postgres.NewDatabase: Name is required")
	}
	var r Database
	if err := ctx.RegisterResource("tenantstack:postgres:Database", name, *args, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// Schema is a schema with nothing granted to PUBLIC. A new name or
// database replaces it.
type Schema struct {
	pulumi.CustomResourceState

	Name     pulumi.StringOutput `pulumi:"name"`
	Owner    pulumi.StringOutput `pulumi:"owner"`
	Database pulumi.StringOutput `pulumi:"database"`
	// PublicPrivileges lists what PUBLIC was given by hand, as last read.
	PublicPrivileges pulumi.StringArrayOutput `pulumi:"publicPrivileges"`
}

// SchemaArgs configures a Schema. Name is required.
type SchemaArgs struct {
	// Name is the schema name. Required.
	Name pulumi.StringInput
	// Owner is the owning role; default the provider's admin.
	Owner pulumi.StringPtrInput
	// Database holds the schema; default the provider's database.
	Database pulumi.StringPtrInput
}

type schemaArgs struct {
	Name     string  `pulumi:"name"`
	Owner    *string `pulumi:"owner"`
	Database *string `pulumi:"database"`
}

// ElementType returns the plain type the arguments resolve to.
func (SchemaArgs) ElementType() reflect.Type { return reflect.TypeOf((*schemaArgs)(nil)).Elem() }

// NewSchema registers a Schema.
func NewSchema(ctx *pulumi.Context, name string, args *SchemaArgs, opts ...pulumi.ResourceOption) (*Schema, error) {
	if args == nil || args.Name == nil {
		return nil, errors.New("postgres.NewSchema: Name is required")
	}
	var r Schema
	if err := ctx.RegisterResource("tenantstack:postgres:Schema", name, *args, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// Grant gives a role privileges on a database, a schema, or tables,
// sequences or functions of a schema (or their future ones, with
// DefaultPrivileges). Privileges change in place; anything else replaces it.
type Grant struct {
	pulumi.CustomResourceState

	Role              pulumi.StringOutput      `pulumi:"role"`
	Database          pulumi.StringOutput      `pulumi:"database"`
	Schema            pulumi.StringOutput      `pulumi:"schema"`
	ObjectType        pulumi.StringOutput      `pulumi:"objectType"`
	Objects           pulumi.StringArrayOutput `pulumi:"objects"`
	Privileges        pulumi.StringArrayOutput `pulumi:"privileges"`
	DefaultPrivileges pulumi.BoolOutput        `pulumi:"defaultPrivileges"`
	ForRole           pulumi.StringOutput      `pulumi:"forRole"`
}

// GrantArgs configures a Grant. Role, ObjectType and Privileges are
// required; Schema is required for every object type but database.
type GrantArgs struct {
	// Role receives the privileges. Required.
	Role pulumi.StringInput
	// Database; default the provider's database (the one granted on for ObjectType "database").
	Database pulumi.StringPtrInput
	// Schema of the objects (or the schema granted on for ObjectType "schema").
	Schema pulumi.StringPtrInput
	// ObjectType is database, schema, table, sequence or function. Required.
	ObjectType pulumi.StringInput
	// Objects names tables, sequences or functions in Schema; default all of them.
	Objects pulumi.StringArrayInput
	// Privileges, e.g. SELECT, INSERT, USAGE, CONNECT, EXECUTE, or ALL. Required.
	Privileges pulumi.StringArrayInput
	// DefaultPrivileges grants on future objects instead; default false.
	DefaultPrivileges pulumi.BoolPtrInput
	// ForRole is the creator whose future objects are covered; default the admin.
	ForRole pulumi.StringPtrInput
}

type grantArgs struct {
	Role              string   `pulumi:"role"`
	Database          *string  `pulumi:"database"`
	Schema            *string  `pulumi:"schema"`
	ObjectType        string   `pulumi:"objectType"`
	Objects           []string `pulumi:"objects"`
	Privileges        []string `pulumi:"privileges"`
	DefaultPrivileges *bool    `pulumi:"defaultPrivileges"`
	ForRole           *string  `pulumi:"forRole"`
}

// ElementType returns the plain type the arguments resolve to.
func (GrantArgs) ElementType() reflect.Type { return reflect.TypeOf((*grantArgs)(nil)).Elem() }

// NewGrant registers a Grant.
func NewGrant(ctx *pulumi.Context, name string, args *GrantArgs, opts ...pulumi.ResourceOption) (*Grant, error) {
	if args == nil || args.Role == nil || args.ObjectType == nil || args.Privileges == nil {
		return nil, errors.New("postgres.NewGrant: Role, ObjectType and Privileges are required")
	}
	var r Grant
	if err := ctx.RegisterResource("tenantstack:postgres:Grant", name, *args, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// TenantRegistration is a tenant's row in app.tenants. The role and tier
// change in place.
type TenantRegistration struct {
	pulumi.CustomResourceState

	TenantID pulumi.StringOutput `pulumi:"tenantId"`
	RoleName pulumi.StringOutput `pulumi:"roleName"`
	Tier     pulumi.StringOutput `pulumi:"tier"`
	Database pulumi.StringOutput `pulumi:"database"`
}

// TenantRegistrationArgs configures a TenantRegistration. TenantID, RoleName
// and Tier are required.
type TenantRegistrationArgs struct {
	// TenantID is a DNS label. Required.
	TenantID pulumi.StringInput
	// RoleName is the tenant's login role, which must exist. Required.
	RoleName pulumi.StringInput
	// Tier is shared, schema or database. Required.
	Tier pulumi.StringInput
	// Database holds app.tenants; default the provider's database.
	Database pulumi.StringPtrInput
}

type tenantRegistrationArgs struct {
	TenantID string  `pulumi:"tenantId"`
	RoleName string  `pulumi:"roleName"`
	Tier     string  `pulumi:"tier"`
	Database *string `pulumi:"database"`
}

// ElementType returns the plain type the arguments resolve to.
func (TenantRegistrationArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*tenantRegistrationArgs)(nil)).Elem()
}

// NewTenantRegistration registers a TenantRegistration.
func NewTenantRegistration(ctx *pulumi.Context, name string, args *TenantRegistrationArgs, opts ...pulumi.ResourceOption) (*TenantRegistration, error) {
	if args == nil || args.TenantID == nil || args.RoleName == nil || args.Tier == nil {
		return nil, errors.New("postgres.NewTenantRegistration: TenantID, RoleName and Tier are required")
	}
	var r TenantRegistration
	if err := ctx.RegisterResource("tenantstack:postgres:TenantRegistration", name, *args, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// TableIsolation enables row-level security on a shared table through
// app.enable_tenant_isolation.
type TableIsolation struct {
	pulumi.CustomResourceState

	Table    pulumi.StringOutput `pulumi:"table"`
	Column   pulumi.StringOutput `pulumi:"column"`
	Database pulumi.StringOutput `pulumi:"database"`
	// Drift lists what the last read found out of place; empty when isolated.
	Drift pulumi.StringArrayOutput `pulumi:"drift"`
}

// TableIsolationArgs configures a TableIsolation. Table is required.
type TableIsolationArgs struct {
	// Table is TABLE (schema public) or SCHEMA.TABLE. Required.
	Table pulumi.StringInput
	// Column holds the tenant id; default tenant_id.
	Column pulumi.StringPtrInput
	// Database; default the provider's database.
	Database pulumi.StringPtrInput
}

type tableIsolationArgs struct {
	Table    string  `pulumi:"table"`
	Column   *string `pulumi:"column"`
	Database *string `pulumi:"database"`
}

// ElementType returns the plain type the arguments resolve to.
func (TableIsolationArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*tableIsolationArgs)(nil)).Elem()
}

// NewTableIsolation registers a TableIsolation.
func NewTableIsolation(ctx *pulumi.Context, name string, args *TableIsolationArgs, opts ...pulumi.ResourceOption) (*TableIsolation, error) {
	if args == nil || args.Table == nil {
		return nil, errors.New("postgres.NewTableIsolation: Table is required")
	}
	var r TableIsolation
	if err := ctx.RegisterResource("tenantstack:postgres:TableIsolation", name, *args, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// Migration applies versioned SQL steps once each, in order. Deleting it
// forgets the record only; the objects stay.
type Migration struct {
	pulumi.CustomResourceState

	Name            pulumi.StringOutput      `pulumi:"name"`
	Database        pulumi.StringOutput      `pulumi:"database"`
	Steps           MigrationStepArrayOutput `pulumi:"steps"`
	AppliedVersions pulumi.IntArrayOutput    `pulumi:"appliedVersions"`
}

// MigrationArgs configures a Migration. Name and Steps are required.
type MigrationArgs struct {
	// Name identifies the migration set. Required.
	Name pulumi.StringInput
	// Database; default the provider's database.
	Database pulumi.StringPtrInput
	// Steps in ascending version order; applied steps must not change. Required.
	Steps MigrationStepArrayInput
}

type migrationArgs struct {
	Name     string          `pulumi:"name"`
	Database *string         `pulumi:"database"`
	Steps    []MigrationStep `pulumi:"steps"`
}

// ElementType returns the plain type the arguments resolve to.
func (MigrationArgs) ElementType() reflect.Type { return reflect.TypeOf((*migrationArgs)(nil)).Elem() }

// NewMigration registers a Migration.
func NewMigration(ctx *pulumi.Context, name string, args *MigrationArgs, opts ...pulumi.ResourceOption) (*Migration, error) {
	if args == nil || args.Name == nil || args.Steps == nil {
		return nil, errors.New("postgres.NewMigration: Name and Steps are required")
	}
	var r Migration
	if err := ctx.RegisterResource("tenantstack:postgres:Migration", name, *args, &r, sdkutil.Options(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
