package fleet

import (
	"context"
	"time"

	"github.com/tenantstack/tenantstack/internal/audit"
)

// Audit appends r to the platform's audit log, with the Pulumi backend
// this service uses as the backend identity.
func (s *Service) Audit(ctx context.Context, r audit.Record) error {
	plat, err := s.platform(ctx)
	if err != nil {
		return err
	}
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	r.Backend = audit.Redact([]string{s.eng.BackendURL})[0]
	return audit.Append(ctx, conn, r)
}

// AuditLog reads the platform's audit log: every record, or tenant's, at or
// after since.
func (s *Service) AuditLog(ctx context.Context, tenant string, since time.Time) ([]audit.Record, error) {
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return audit.List(ctx, conn, tenant, since)
}
