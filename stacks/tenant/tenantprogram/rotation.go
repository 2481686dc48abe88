package tenantprogram

import (
	"time"

	"github.com/tenantstack/tenantstack/components/tenant"
)

// Rotation is what a tenant's stack records about its credential
// rotations (the secret output "rotation").
type Rotation struct {
	// AlternateLogin: the tenant's second login role exists. Once made it
	// stays, and rotations alternate between the two.
	AlternateLogin bool `json:"alternateLogin,omitempty"`
	// PostgresLogin is the login role the credentials name: 0 is
	// tenantspec.RoleName, 1 tenantspec.AltRoleName.
	PostgresLogin int `json:"postgresLogin"`
	// PostgresRotated and RedisRotated are when each was last switched to a
	// new password.
	PostgresRotated time.Time `json:"postgresRotated,omitzero"`
	RedisRotated    time.Time `json:"redisRotated,omitzero"`
	// Revision changes at every switch and rolls the workload's pods.
	Revision string `json:"revision,omitempty"`
	// Pending is the rotation under way, nil when none is.
	Pending *PendingRotation `json:"pending,omitempty"`
	// Revoked is the last credential revoked, kept so that verify can
	// prove it is refused.
	Revoked *RevokedCredentials `json:"revoked,omitempty"`
}

// PendingRotation is a rotation between its first and last phase.
type PendingRotation struct {
	Phase    string `json:"phase"`
	Postgres bool   `json:"postgres"`
	Redis    bool   `json:"redis"`
	// The standby passwords: before the switch the new ones (valid, not
	// yet named by the credentials), after it the old ones (still valid).
	StandbyPostgresPassword string    `json:"standbyPostgresPassword,omitempty"`
	StandbyRedisPassword    string    `json:"standbyRedisPassword,omitempty"`
	Started                 time.Time `json:"started"`
	Switched                time.Time `json:"switched,omitzero"`
	// RevokeAfter is when the old credential is revoked; zero waits for
	// "rotate NAME --finish".
	RevokeAfter time.Time `json:"revokeAfter,omitzero"`
}

// RevokedCredentials is a credential a rotation revoked.
type RevokedCredentials struct {
	PostgresUser     string    `json:"postgresUser,omitempty"`
	PostgresPassword string    `json:"postgresPassword,omitempty"`
	RedisPassword    string    `json:"redisPassword,omitempty"`
	Revoked          time.Time `json:"revoked"`
}

// Apply passes the rotation's logins to the component.
func (r *Rotation) Apply(a *tenant.TenantStackArgs) {
	if r == nil {
		return
	}
	a.AlternateLogin = r.AlternateLogin
	a.PostgresLogin = r.PostgresLogin
	a.CredentialsRevision = r.Revision
	if p := r.Pending; p != nil {
		if p.Postgres && p.StandbyPostgresPassword != "" {
			a.StandbyPostgresPassword = secretString(p.StandbyPostgresPassword)
		}
		if p.Redis && p.StandbyRedisPassword != "" {
			a.StandbyRedisPassword = secretString(p.StandbyRedisPassword)
		}
	}
}
