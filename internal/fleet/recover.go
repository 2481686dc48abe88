package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"

	"github.com/tenantstack/tenantstack/internal/engine"
)

// pendingOp is one operation the engine had started when it was stopped.
type pendingOp struct {
	Type     string `json:"type"` // creating, updating, deleting, ...
	Resource struct {
		URN    string         `json:"urn"`
		Type   string         `json:"type"`
		Inputs map[string]any `json:"inputs"`
	} `json:"resource"`
}

// recover prepares a stack whose last operation was interrupted. The engine
// records the creates it had started as pending: each object may or may not
// exist. Our provider refuses to create over an existing object, so the
// objects of pending creates are removed first (they were never recorded,
// so nothing else refers to them), then the pending creates are cleared and
// the next up creates them again. Kubernetes objects need nothing: the
// Kubernetes provider applies them server-side, which adopts an existing
// object.
func (s *Service) recover(ctx context.Context, st auto.Stack, progress io.Writer) error {
	if err := s.clearStaleLocks(st.Name(), progress); err != nil {
		return err
	}
	dep, err := st.Export(ctx)
	if err != nil {
		return fmt.Errorf("reading the state of stack %q: %w", st.Name(), err)
	}
	var d struct {
		Pending []pendingOp `json:"pending_operations"`
	}
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		return fmt.Errorf("reading the state of stack %q: %w", st.Name(), err)
	}
	if len(d.Pending) == 0 {
		return nil
	}
	printf(progress, "%s: completing an interrupted operation (%d pending)\n", st.Name(), len(d.Pending))
	plat, err := s.platform(ctx)
	if err != nil {
		return err
	}
	for _, op := range orderForRemoval(d.Pending) {
		if op.Type != "creating" {
			continue
		}
		if err := removeOrphan(ctx, plat, op); err != nil {
			return fmt.Errorf("removing the half-created %s of an interrupted run: %w", op.Resource.URN, err)
		}
	}
	if _, err := st.Refresh(ctx, optrefresh.ClearPendingCreates(), optrefresh.SuppressProgress()); err != nil {
		if auto.IsConcurrentUpdateError(err) {
			return fmt.Errorf("%w: another tenantctl is working on stack %q right now", ErrExists, st.Name())
		}
		return fmt.Errorf("recovering the interrupted stack %q: %w", st.Name(), err)
	}
	return nil
}

// orderForRemoval puts objects that depend on roles before the roles.
func orderForRemoval(ops []pendingOp) []pendingOp {
	rank := map[string]int{
		"tenantstack:postgres:TenantRegistration": 0,
		"tenantstack:postgres:Grant":              1,
		"tenantstack:postgres:Schema":             2,
		"tenantstack:postgres:Database":           2,
		"tenantstack:redis:AclUser":               2,
		"tenantstack:postgres:Role":               3,
	}
	out := make([]pendingOp, 0, len(ops))
	for r := 0; r <= 3; r++ {
		for _, op := range ops {
			if rank[op.Resource.Type] == r {
				out = append(out, op)
			}
		}
	}
	return out
}

func str(m map[string]any, k string) string {
	if v, ok := m[k].(string); ok {
		return v
	}
	return ""
}

// removeOrphan removes the object of one pending create, if it exists.
// Identifiers are quoted; names come from the tenant's own stack inputs.
func removeOrphan(ctx context.Context, p *Platform, op pendingOp) error {
	in := op.Resource.Inputs
	switch op.Resource.Type {
	case "tenantstack:redis:AclUser":
		rdb, err := redisAdmin(p)
		if err != nil {
			return err
		}
		defer rdb.Close()
		return rdb.Do(ctx, "ACL", "DELUSER", str(in, "username")).Err()
	case "tenantstack:postgres:Role", "tenantstack:postgres:Database",
		"tenantstack:postgres:Schema", "tenantstack:postgres:TenantRegistration":
	default:
		return nil // grants are idempotent; other types are not pending here
	}
	db := str(in, "database")
	if db == "" {
		db = p.Database
	}
	adminURL := p.PostgresAdminURL
	if op.Resource.Type != "tenantstack:postgres:Role" && op.Resource.Type != "tenantstack:postgres:Database" {
		u, err := url.Parse(adminURL)
		if err != nil {
			return err
		}
		u.Path = "/" + db
		adminURL = u.String()
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	name := pgx.Identifier{str(in, "name")}.Sanitize()
	switch op.Resource.Type {
	case "tenantstack:postgres:TenantRegistration":
		_, err = conn.Exec(ctx, `DELETE FROM tenantstack.tenants WHERE tenant_id = $1`, str(in, "tenantId"))
	case "tenantstack:postgres:Schema":
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE")
	case "tenantstack:postgres:Database":
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	case "tenantstack:postgres:Role":
		var exists bool
		if err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, str(in, "name")).Scan(&exists); err != nil || !exists {
			return err
		}
		_, err = conn.Exec(ctx, "DROP ROLE "+name)
	}
	return err
}

// clearStaleLocks removes the locks of a file backend that were left by a
// Pulumi process of this host that no longer runs: a killed `up` leaves its
// lock behind, and every later operation on the stack would be refused.
// Locks of live processes, other hosts or other backends are left alone.
func (s *Service) clearStaleLocks(stack string, progress io.Writer) error {
	root, ok := engine.FileBackendDir(s.eng.BackendURL)
	if !ok {
		return nil
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, ".pulumi", "locks", "organization", TenantProject, stack)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // no locks
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var l struct {
			Pid      int    `json:"pid"`
			Hostname string `json:"hostname"`
		}
		if json.Unmarshal(b, &l) != nil || l.Hostname != host || l.Pid <= 0 {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", l.Pid))
		if err == nil && strings.Contains(string(cmdline), "pulumi") {
			continue // still running
		}
		printf(progress, "%s: removing the lock left by pulumi process %d, which no longer runs\n", stack, l.Pid)
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}
