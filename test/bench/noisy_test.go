//go:build integration

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// BenchmarkNoisyNeighbour measures a quiet tenant's query latency through
// PgBouncer (p50, p95 of BENCH_NOISY_QUERIES small queries) alone, and then
// while a noisy tenant on plan basic runs as many runaway queries as its
// plan's connections allow minus one, each cancelled at its
// statement_timeout. It prints both and their ratio (target: at most
// 1.2x); it asserts none. Run it with `make bench-noisy`.
func BenchmarkNoisyNeighbour(b *testing.B) {
	ctx := context.Background()
	testenv.Platform(b)
	testenv.MustTenantctl(b, "platform", "up")
	suffix := strings.ToLower(random.UniqueId())
	quiet, noisy := "bq-"+suffix, "bn-"+suffix
	testenv.MustTenantctl(b, "create", quiet, "--plan", "standard")
	testenv.MustTenantctl(b, "create", noisy, "--plan", "basic", "--limit", "statement_timeout=2s")
	b.Cleanup(func() {
		testenv.Tenantctl(b, "delete", quiet, "--yes")
		testenv.Tenantctl(b, "delete", noisy, "--yes")
	})
	creds := func(name string) tenantspec.Credentials {
		var c tenantspec.Credentials
		if err := json.Unmarshal([]byte(testenv.MustTenantctl(b, "credentials", name, "-o", "json")), &c); err != nil {
			b.Fatal(err)
		}
		return c
	}
	qc, nc := creds(quiet), creds(noisy)
	connect := func(url string) *pgx.Conn {
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			b.Fatal(err)
		}
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	const queries = 2000
	measure := func() (p50, p95 time.Duration) {
		conn := connect(qc.Postgres.PoolerURL)
		defer conn.Close(ctx)
		lat := make([]time.Duration, 0, queries)
		for i := 0; i < queries; i++ {
			began := time.Now()
			var n int64
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM generate_series(1, 2000)`).Scan(&n); err != nil {
				b.Fatalf("the quiet tenant's query failed: %v", err)
			}
			lat = append(lat, time.Since(began))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat[len(lat)/2], lat[len(lat)*95/100]
	}
	measure() // warm up PgBouncer's pool and the plan cache
	b.ResetTimer()
	quietP50, quietP95 := measure()

	var limit int
	admin := connect(testenv.Platform(b).Postgres.AdminURL)
	if err := admin.QueryRow(ctx, `SELECT rolconnlimit FROM pg_roles WHERE rolname = $1`, nc.Postgres.User).Scan(&limit); err != nil {
		b.Fatal(err)
	}
	admin.Close(ctx)
	workers := limit - 1
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	cancelled, other := 0, 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := connect(nc.Postgres.PoolerURL)
			defer conn.Close(ctx)
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := conn.Exec(ctx, `SELECT count(*) FROM generate_series(1, 1000000000)`)
				mu.Lock()
				if err != nil && strings.Contains(err.Error(), "57014") {
					cancelled++
				} else {
					other++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	noisyP50, noisyP95 := measure()
	close(stop)
	wg.Wait()
	b.StopTimer()

	ratio50, ratio95 := float64(noisyP50)/float64(quietP50), float64(noisyP95)/float64(quietP95)
	b.ReportMetric(float64(quietP50.Microseconds()), "quiet-p50-us")
	b.ReportMetric(float64(noisyP95.Microseconds()), "noisy-p95-us")
	b.ReportMetric(ratio95, "p95-ratio")
	fmt.Printf("noisy neighbour (through PgBouncer, %d queries each):\n", queries)
	fmt.Printf("  quiet tenant alone:              p50 %s  p95 %s\n", quietP50.Round(time.Microsecond), quietP95.Round(time.Microsecond))
	fmt.Printf("  with %d runaway queries of plan basic: p50 %s  p95 %s\n", workers, noisyP50.Round(time.Microsecond), noisyP95.Round(time.Microsecond))
	fmt.Printf("  ratio: p50 %.2fx  p95 %.2fx (target at most 1.2x)\n", ratio50, ratio95)
	fmt.Printf("  noisy queries cancelled at statement_timeout: %d (other endings: %d)\n", cancelled, other)
}
