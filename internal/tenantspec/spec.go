package tenantspec

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Defaults taken by fields left at their zero value.
const (
	DefaultConnectionLimit  = 20
	DefaultQuotaCPU         = "2"
	DefaultQuotaMemory      = "4Gi"
	DefaultQuotaPods        = 20
	DefaultQuotaServices    = 10
	DefaultQuotaPVCs        = 5
	DefaultQuotaStorage     = "20Gi"
	DefaultCPURequest       = "100m"
	DefaultCPULimit         = "500m"
	DefaultMemoryRequest    = "128Mi"
	DefaultMemoryLimit      = "512Mi"
	DefaultWorkloadReplicas = 1
	DefaultWorkloadPort     = 8080
)

// Labels on the tenant's namespace. TenantLabel and ManagedByLabel are also on
// every object in it.
const (
	TenantLabel    = "tenantstack.io/tenant"
	TierLabel      = "tenantstack.io/tier"
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "tenantstack"
)

// Spec is what a tenant should be: the input of create, update and apply,
// and one entry of a fleet file.
type Spec struct {
	Name string `json:"name" yaml:"name"`
	Tier string `json:"tier" yaml:"tier"`
	// Plan names the tenant's plan (DefaultPlans): its tier when Tier is
	// empty, and its limits and quota where the spec sets none.
	Plan            string            `json:"plan,omitempty" yaml:"plan,omitempty"`
	ConnectionLimit int               `json:"connection_limit,omitempty" yaml:"connection_limit,omitempty"`
	Limits          Limits            `json:"limits,omitzero" yaml:"limits,omitempty"`
	Quota           Quota             `json:"quota,omitzero" yaml:"quota,omitempty"`
	Flags           map[string]string `json:"flags,omitempty" yaml:"flags,omitempty"`
	Workload        *Workload         `json:"workload,omitempty" yaml:"workload,omitempty"`
}

// Quota bounds what the tenant's namespace may consume (a ResourceQuota).
// Zero fields take the defaults. services.loadbalancers and
// services.nodeports are always "0".
type Quota struct {
	// CPU caps the sum of CPU requests and, separately, of CPU limits.
	// Optional; default "2".
	CPU string `json:"cpu,omitempty" yaml:"cpu,omitempty"`
	// Memory caps the sum of memory requests and, separately, of memory
	// limits. Optional; default "4Gi".
	Memory string `json:"memory,omitempty" yaml:"memory,omitempty"`
	// Pods is the most pods. Optional; default 20.
	Pods int `json:"pods,omitempty" yaml:"pods,omitempty"`
	// Services is the most Services. Optional; default 10.
	Services int `json:"services,omitempty" yaml:"services,omitempty"`
	// PVCs is the most PersistentVolumeClaims. Optional; default 5.
	PVCs int `json:"pvcs,omitempty" yaml:"pvcs,omitempty"`
	// Storage caps the storage requested by all PVCs. Optional; default "20Gi".
	Storage string `json:"storage,omitempty" yaml:"storage,omitempty"`
}

// Workload is the tenant's optional application: a Deployment "app" with
// ServiceAccount "app" and the credentials Secret in its environment, a
// Service "app", and an Ingress "app" when Host is set.
type Workload struct {
	// Image is the container image. Required.
	Image string `json:"image" yaml:"image"`
	// Replicas is the number of pods. Optional; default 1. Suspending the
	// tenant sets it to 0.
	Replicas int `json:"replicas,omitempty" yaml:"replicas,omitempty"`
	// Host is the Ingress host name. Optional; default none (no Ingress).
	Host string `json:"host,omitempty" yaml:"host,omitempty"`
	// Port is the container port, also the Service's port. Optional;
	// default 8080.
	Port int `json:"port,omitempty" yaml:"port,omitempty"`
}

// Status is a tenant's lifecycle state.
type Status string

// Tenant statuses.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	// StatusIncomplete: the last operation did not finish; run it again.
	StatusIncomplete Status = "incomplete"
)

// FieldError is one invalid field. Field is its path as a fleet file spells
// it ("quota.cpu", "workload.host").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrors is every invalid field of a spec, in field order.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns each field's error, for errors.Is and errors.As.
func (es FieldErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Fields returns the paths of the invalid fields.
func (es FieldErrors) Fields() []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Field
	}
	return out
}

// Validate checks the spec as a whole, as apply must before any change, and
// returns every problem found as FieldErrors (nil when the spec is valid).
// Zero fields are valid: they mean the default.
func (s Spec) Validate() error {
	var errs FieldErrors
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Err: err})
		}
	}
	add("name", ValidateTenantID(s.Name))
	if s.Plan != "" {
		p, err := LookupPlan(s.Plan)
		add("plan", err)
		if err == nil && s.Tier == "" {
			s.Tier = string(p.Tier)
		}
	}
	_, err := ParseTier(s.Tier)
	add("tier", err)
	for _, f := range s.Limits.fields() {
		add("limits."+f.key, f.check())
	}
	if s.ConnectionLimit < 0 {
		add("connection_limit", fmt.Errorf("%d is negative, which PostgreSQL reads as unlimited; use at least 1, or leave it out for the default (%d)", s.ConnectionLimit, DefaultConnectionLimit))
	}
	for _, f := range s.Quota.fields() {
		add("quota."+f.key, f.check())
	}
	for _, k := range slices.Sorted(maps.Keys(s.Flags)) {
		add("flags."+k, ValidateFlag(k, s.Flags[k]))
	}
	if w := s.Workload; w != nil {
		add("workload.image", ValidateImage(w.Image))
		if w.Replicas < 0 {
			add("workload.replicas", fmt.Errorf("%d is negative; use at least 1, or suspend the tenant to stop the workload", w.Replicas))
		}
		if w.Host != "" {
			add("workload.host", ValidateHost(w.Host))
		}
		if w.Port != 0 {
			add("workload.port", ValidatePort(w.Port))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// WithDefaults returns a copy of s with every zero field that has a default
// set to it, and empty maps as nil. The quota's own zero fields are left to
// the component, which applies the same defaults (QuotaWithDefaults), so a
// spec records what the user chose.
func (s Spec) WithDefaults() Spec {
	if s.Plan != "" && s.Tier == "" {
		if p, err := LookupPlan(s.Plan); err == nil {
			s.Tier = string(p.Tier)
		}
	}
	// A plan's connection limit applies where the spec sets none
	// (Effective), so a new plan changes it.
	if s.ConnectionLimit == 0 && s.Plan == "" {
		s.ConnectionLimit = DefaultConnectionLimit
	}
	if len(s.Flags) == 0 {
		s.Flags = nil
	} else {
		s.Flags = maps.Clone(s.Flags)
	}
	if s.Workload != nil {
		w := *s.Workload
		s.Workload = &w
	}
	return s
}

// QuotaWithDefaults returns q with every zero field set to its default.
func QuotaWithDefaults(q Quota) Quota {
	q.CPU = orDefault(q.CPU, DefaultQuotaCPU)
	q.Memory = orDefault(q.Memory, DefaultQuotaMemory)
	q.Storage = orDefault(q.Storage, DefaultQuotaStorage)
	q.Pods = orDefault(q.Pods, DefaultQuotaPods)
	q.Services = orDefault(q.Services, DefaultQuotaServices)
	q.PVCs = orDefault(q.PVCs, DefaultQuotaPVCs)
	return q
}

// WorkloadWithDefaults returns w with every zero field set to its default.
func WorkloadWithDefaults(w Workload) Workload {
	w.Replicas = orDefault(w.Replicas, DefaultWorkloadReplicas)
	w.Port = orDefault(w.Port, DefaultWorkloadPort)
	return w
}

// QuotaKeys are the quota's fields as a fleet file and --quota spell them,
// in the order help text lists them.
var QuotaKeys = []string{"cpu", "memory", "pods", "services", "pvcs", "storage"}

type quotaField struct {
	key   string
	check func() error
}

func (q Quota) fields() []quotaField {
	qty := func(v, example string) func() error {
		return func() error {
			if v == "" {
				return nil
			}
			return ValidateQuantity(v, example)
		}
	}
	count := func(n int) func() error {
		return func() error {
			if n < 0 {
				return fmt.Errorf("%d is negative; use a whole number of at least 1, or leave it out for the default", n)
			}
			return nil
		}
	}
	return []quotaField{
		{"cpu", qty(q.CPU, "2 or 500m")},
		{"memory", qty(q.Memory, "4Gi or 512Mi")},
		{"pods", count(q.Pods)},
		{"services", count(q.Services)},
		{"pvcs", count(q.PVCs)},
		{"storage", qty(q.Storage, "20Gi")},
	}
}

// MergeQuota returns base with every field that over sets replaced.
func MergeQuota(base, over Quota) Quota {
	base.CPU = orDefault(over.CPU, base.CPU)
	base.Memory = orDefault(over.Memory, base.Memory)
	base.Storage = orDefault(over.Storage, base.Storage)
	base.Pods = orDefault(over.Pods, base.Pods)
	base.Services = orDefault(over.Services, base.Services)
	base.PVCs = orDefault(over.PVCs, base.PVCs)
	return base
}

// ValidateQuantity reports why v is not a positive Kubernetes resource
// quantity; example is quoted as a value that works.
func ValidateQuantity(v, example string) error {
	q, err := resource.ParseQuantity(v)
	if err != nil || q.Sign() <= 0 {
		return fmt.Errorf("%q is not a positive Kubernetes quantity; use one such as %s", v, example)
	}
	return nil
}

// MaxFlagKeyLength matches a Kubernetes label name, the strictest place a
// feature flag may end up.
const MaxFlagKeyLength = 63

// ValidateFlagKey reports why key cannot name a feature flag: keys are 1 to
// 63 letters, digits, '.', '_' and '-', starting and ending with a letter or
// digit. They are ConfigMap keys and become FLAG_<key> environment variables.
func ValidateFlagKey(key string) error {
	const rule = "flag keys are 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
	if key == "" || len(key) > MaxFlagKeyLength {
		return fmt.Errorf("key %q has %d characters; %s", key, len(key), rule)
	}
	for i, r := range key {
		alnum := r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
		inner := r == '.' || r == '_' || r == '-'
		if !alnum && !(inner && i > 0 && i < len(key)-1) {
			return fmt.Errorf("key %q: %s", key, rule)
		}
	}
	return nil
}

// ValidateFlag checks a flag's key and value.
func ValidateFlag(k, v string) error {
	if err := ValidateFlagKey(k); err != nil {
		return err
	}
	return ValidateFlagValue(k, v)
}

// ValidateFlagValue reports why v cannot be the value of flag k.
func ValidateFlagValue(k, v string) error {
	if strings.ContainsFunc(v, unicode.IsControl) {
		return fmt.Errorf("the value of flag %q contains a control character", k)
	}
	return nil
}

// ValidateImage reports why s cannot be a container image reference. It
// checks only what would otherwise fail late and obscurely: emptiness and
// whitespace. The registry decides the rest.
func ValidateImage(s string) error {
	switch {
	case s == "":
		return errors.New("the image is empty; give a container image such as nginx:1.27")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("image %q contains whitespace; give a container image such as nginx:1.27", s)
	}
	return nil
}

// hostRule is quoted in every refusal of a host name.
const hostRule = `use a DNS name of lowercase letters, digits, "-" and ".", at most 253 characters, such as acme.example.com (a leading "*." is allowed)`

// ValidateHost reports why s cannot be the host name of a tenant's Ingress:
// lowercase DNS labels of at most 63 characters, at most 253 in all, with an
// optional leading "*." wildcard as Kubernetes allows.
func ValidateHost(s string) error {
	name := strings.TrimPrefix(s, "*.")
	if name == "" || len(s) > 253 {
		return fmt.Errorf("host %q: %s", s, hostRule)
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q: %s", s, hostRule)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("host %q: %s", s, hostRule)
			}
		}
	}
	return nil
}

// ValidatePort reports why p is not a TCP port.
func ValidatePort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("%d is not a port; use 1 to 65535", p)
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
