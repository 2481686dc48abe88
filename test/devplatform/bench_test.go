//go:build integration

package devplatform

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkPlatform measures, per iteration on a fresh home: a cold first
// up (initdb, certificates), down, a warm up after down, a no-op up, the
// summed RSS of the platform's processes, and the disk the state directory
// uses. Run it alone:
//
//	go test -tags integration -run '^$' -bench Platform -benchtime 3x ./test/devplatform/
func BenchmarkPlatform(b *testing.B) {
	t := &testing.T{}
	var cold, warm, noop, down time.Duration
	var rss, disk int64
	for i := 0; i < b.N; i++ {
		p := &platform{t: t, home: b.TempDir()}
		timed := func(args ...string) time.Duration {
			start := time.Now()
			if r := p.run(args...); r.code != 0 {
				b.Fatalf("tenantctl %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
			}
			return time.Since(start)
		}
		cold += timed("dev", "up")
		down += timed("dev", "down")
		warm += timed("dev", "up")
		noop += timed("dev", "up")
		rss += platformRSS(p)
		disk += diskUsage(filepath.Join(p.home, "platform"))
		timed("dev", "down", "--purge", "--yes")
	}
	n := float64(b.N)
	b.ReportMetric(cold.Seconds()/n, "cold-up-s")
	b.ReportMetric(warm.Seconds()/n, "warm-up-s")
	b.ReportMetric(noop.Seconds()/n, "noop-up-s")
	b.ReportMetric(down.Seconds()/n, "down-s")
	b.ReportMetric(float64(rss)/n/(1<<20), "rss-MiB")
	b.ReportMetric(float64(disk)/n/(1<<20), "disk-MiB")
}

// platformRSS sums the resident memory of the platform's processes: those
// naming its home, and their children (PostgreSQL's backends).
func platformRSS(p *platform) int64 {
	mains := map[int]bool{}
	for _, line := range p.processes() {
		pid, _ := strconv.Atoi(strings.SplitN(line, ":", 2)[0])
		mains[pid] = true
	}
	var total int64
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+2:]))
		if len(f) < 22 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if !mains[pid] && !mains[ppid] {
			continue
		}
		pages, _ := strconv.ParseInt(f[21], 10, 64) // rss, field 24
		total += pages * int64(os.Getpagesize())
	}
	return total
}
