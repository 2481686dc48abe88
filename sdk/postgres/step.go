package postgres

import (
	"context"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MigrationStep is one versioned SQL script of a Migration.
type MigrationStep struct {
	Version int    `pulumi:"version"`
	SQL     string `pulumi:"sql"`
}

// MigrationStepInput is an input of type MigrationStep.
type MigrationStepInput interface {
	pulumi.Input
	ToMigrationStepOutput() MigrationStepOutput
	ToMigrationStepOutputWithContext(context.Context) MigrationStepOutput
}

// MigrationStepArgs is a MigrationStep whose fields are inputs.
type MigrationStepArgs struct {
	Version pulumi.IntInput    `pulumi:"version"`
	SQL     pulumi.StringInput `pulumi:"sql"`
}

// ElementType returns the plain type the step resolves to.
func (MigrationStepArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*MigrationStep)(nil)).Elem()
}

// ToMigrationStepOutput converts the step to an output.
func (i MigrationStepArgs) ToMigrationStepOutput() MigrationStepOutput {
	return i.ToMigrationStepOutputWithContext(context.Background())
}

// ToMigrationStepOutputWithContext converts the step to an output.
func (i MigrationStepArgs) ToMigrationStepOutputWithContext(ctx context.Context) MigrationStepOutput {
	return pulumi.ToOutputWithContext(ctx, i).(MigrationStepOutput)
}

// MigrationStepArrayInput is an input of type []MigrationStep.
type MigrationStepArrayInput interface {
	pulumi.Input
	ToMigrationStepArrayOutput() MigrationStepArrayOutput
	ToMigrationStepArrayOutputWithContext(context.Context) MigrationStepArrayOutput
}

// MigrationStepArray is a list of step inputs.
type MigrationStepArray []MigrationStepInput

// ElementType returns the plain type the list resolves to.
func (MigrationStepArray) ElementType() reflect.Type {
	return reflect.TypeOf((*[]MigrationStep)(nil)).Elem()
}

// ToMigrationStepArrayOutput converts the list to an output.
func (i MigrationStepArray) ToMigrationStepArrayOutput() MigrationStepArrayOutput {
	return i.ToMigrationStepArrayOutputWithContext(context.Background())
}

// ToMigrationStepArrayOutputWithContext converts the list to an output.
func (i MigrationStepArray) ToMigrationStepArrayOutputWithContext(ctx context.Context) MigrationStepArrayOutput {
	return pulumi.ToOutputWithContext(ctx, i).(MigrationStepArrayOutput)
}

// MigrationStepOutput is an output of type MigrationStep.
type MigrationStepOutput struct{ *pulumi.OutputState }

// ElementType returns the plain type of the output.
func (MigrationStepOutput) ElementType() reflect.Type {
	return reflect.TypeOf((*MigrationStep)(nil)).Elem()
}

// ToMigrationStepOutput returns o.
func (o MigrationStepOutput) ToMigrationStepOutput() MigrationStepOutput { return o }

// ToMigrationStepOutputWithContext returns o.
func (o MigrationStepOutput) ToMigrationStepOutputWithContext(context.Context) MigrationStepOutput {
	return o
}

// Version is the step's version.
func (o MigrationStepOutput) Version() pulumi.IntOutput {
	return o.ApplyT(func(s MigrationStep) int { return s.Version }).(pulumi.IntOutput)
}

// SQL is the step's SQL.
func (o MigrationStepOutput) SQL() pulumi.StringOutput {
	return o.ApplyT(func(s MigrationStep) string { return s.SQL }).(pulumi.StringOutput)
}

// MigrationStepArrayOutput is an output of type []MigrationStep.
type MigrationStepArrayOutput struct{ *pulumi.OutputState }

// ElementType returns the plain type of the output.
func (MigrationStepArrayOutput) ElementType() reflect.Type {
	return reflect.TypeOf((*[]MigrationStep)(nil)).Elem()
}

// ToMigrationStepArrayOutput returns o.
func (o MigrationStepArrayOutput) ToMigrationStepArrayOutput() MigrationStepArrayOutput { return o }

// ToMigrationStepArrayOutputWithContext returns o.
func (o MigrationStepArrayOutput) ToMigrationStepArrayOutputWithContext(context.Context) MigrationStepArrayOutput {
	return o
}

// Index returns the step at i.
func (o MigrationStepArrayOutput) Index(i pulumi.IntInput) MigrationStepOutput {
	return pulumi.All(o, i).ApplyT(func(vs []any) MigrationStep {
		return vs[0].([]MigrationStep)[vs[1].(int)]
	}).(MigrationStepOutput)
}

// Steps turns plain steps, such as ContractSteps(), into a Migration input.
func Steps(steps ...MigrationStep) MigrationStepArray {
	out := make(MigrationStepArray, len(steps))
	for i, s := range steps {
		out[i] = MigrationStepArgs{Version: pulumi.Int(s.Version), SQL: pulumi.String(s.SQL)}
	}
	return out
}

func init() {
	pulumi.RegisterInputType(reflect.TypeOf((*MigrationStepInput)(nil)).Elem(), MigrationStepArgs{})
	pulumi.RegisterInputType(reflect.TypeOf((*MigrationStepArrayInput)(nil)).Elem(), MigrationStepArray{})
	pulumi.RegisterOutputType(MigrationStepOutput{})
	pulumi.RegisterOutputType(MigrationStepArrayOutput{})
}
