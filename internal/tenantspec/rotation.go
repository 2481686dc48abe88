package tenantspec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A tenant has two PostgreSQL login roles that take turns, so that a
// password rotation never refuses a login: the new password goes on the
// role not in use, the application moves to it, and only then is the old
// role's login revoked. PostgreSQL gives a role one password, hence two
// roles; Redis ACL users hold two passwords natively.

// AltRoleSuffix ends the name of the tenant's second login role. A "-"
// never occurs in RoleName (tenant ids' "-" become "_"), so the name is
// nobody else's, and app.current_tenant() maps it to the same tenant by
// cutting at the "-" (contract step 9).
const AltRoleSuffix = "-2"

// AltRoleName returns the tenant's second login role: RoleName(id) + "-2".
// It has the same grants, membership, search_path and limits as RoleName,
// and the same tenant identity for row-level security.
func AltRoleName(id string) string { return RoleName(id) + AltRoleSuffix }

// LoginRoleName returns the login role of slot 0 (RoleName) or 1
// (AltRoleName).
func LoginRoleName(id string, slot int) string {
	if slot == 1 {
		return AltRoleName(id)
	}
	return RoleName(id)
}

// LoginRoleNames returns both of the tenant's login roles.
func LoginRoleNames(id string) []string { return []string{RoleName(id), AltRoleName(id)} }

// DefaultRotationGrace is how long `tenantctl rotate` keeps the old
// credential valid after the switch before it revokes it: long enough for a
// rolling restart of a small workload and for pooled connections to be
// recycled.
const DefaultRotationGrace = 5 * time.Minute

// ParseAge reads a duration as Go writes it (90m, 12h, 0s) or in whole days
// (30d). Negative durations are refused; zero is allowed when allowZero.
func ParseAge(s string, allowZero bool) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	want := "a positive duration such as 30d, 12h or 5m"
	if allowZero {
		want = "a duration such as 30d, 12h, 5m or 0"
	}
	if err != nil || d < 0 || (d == 0 && !allowZero) {
		return 0, fmt.Errorf("%q is not %s", s, want)
	}
	return d, nil
}
