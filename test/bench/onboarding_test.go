//go:build integration

// Package bench measures onboarding against a real local platform. Run it
// with `make bench-onboarding` (BENCH_TENANTS sets N, default 50); it prints
// figures and asserts no timing.
package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

func BenchmarkOnboarding(b *testing.B) {
	n := 50
	if v := os.Getenv("BENCH_TENANTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("BENCH_TENANTS=%q: want a positive number", v)
		}
	}
	tenantctl := tenantctlPath(b)
	ctx := context.Background()
	if out, err := exec.CommandContext(ctx, tenantctl, "platform", "up").CombinedOutput(); err != nil {
		b.Fatalf("tenantctl platform up: %v\n%s", err, out)
	}
	for i := 0; i < b.N; i++ {
		seq := onboard(ctx, b, tenantctl, fmt.Sprintf("seq%d", i), n, 1)
		report(b, "sequential", seq)
		par := onboard(ctx, b, tenantctl, fmt.Sprintf("par%d", i), n, 4)
		report(b, "parallel 4", par)
	}
}

type result struct {
	seconds   []float64 // per create, in submission order
	total     time.Duration
	peakRSSMB float64 // largest tenantctl process
	// peakAnyMB is getrusage(RUSAGE_CHILDREN).maxrss: the largest process
	// waited for so far by this benchmark, its descendants included (the
	// pulumi CLI and the providers of every create, and of platform up).
	peakAnyMB float64
}

// onboard creates n shared-tier tenants with the given parallelism, each
// with its own tenantctl process, and deletes them afterwards.
func onboard(ctx context.Context, b *testing.B, tenantctl, prefix string, n, parallel int) result {
	b.Helper()
	res := result{seconds: make([]float64, n)}
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			cmd := exec.CommandContext(ctx, tenantctl, "create", name, "--tier", "shared")
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Errorf("create %s: %v\n%s", name, err, out)
				return
			}
			self := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
			mu.Lock()
			res.seconds[i] = time.Since(t0).Seconds()
			res.peakRSSMB = max(res.peakRSSMB, self)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.total = time.Since(start)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err == nil {
		res.peakAnyMB = float64(ru.Maxrss) / 1024
	}
	// Offboard them again, four at a time, before the next phase starts:
	// each phase onboards onto the same empty platform.
	var dwg sync.WaitGroup
	dsem := make(chan struct{}, 4)
	for i := 0; i < n; i++ {
		dwg.Add(1)
		dsem <- struct{}{}
		go func() {
			defer dwg.Done()
			defer func() { <-dsem }()
			if out, err := exec.CommandContext(ctx, tenantctl, "delete", fmt.Sprintf("%s-%03d", prefix, i), "--yes").CombinedOutput(); err != nil {
				b.Errorf("delete %s-%03d: %v\n%s", prefix, i, err, out)
			}
		}()
	}
	dwg.Wait()
	return res
}

func report(b *testing.B, label string, r result) {
	s := append([]float64(nil), r.seconds...)
	sort.Float64s(s)
	pct := func(p float64) float64 { return s[int(p*float64(len(s)-1)+0.5)] }
	k := min(10, len(r.seconds)/2)
	ratio := mean(r.seconds[len(r.seconds)-k:]) / mean(r.seconds[:k])
	fmt.Printf("onboarding %-11s tenants=%d p50=%.2fs p95=%.2fs total=%.1fs ratio(last%d/first%d)=%.2f tenantctl-peak-rss=%.0fMB largest-child-rss-so-far=%.0fMB cores=%d\n",
		label, len(r.seconds), pct(0.5), pct(0.95), r.total.Seconds(), k, k, ratio, r.peakRSSMB, r.peakAnyMB, runtime.NumCPU())
	b.ReportMetric(pct(0.5), "p50-s/tenant")
	b.ReportMetric(ratio, "last/first")
}

func mean(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}

func tenantctlPath(b *testing.B) string {
	b.Helper()
	p, err := filepath.Abs("../../bin/tenantctl")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		b.Fatalf("%s is missing; run make build", p)
	}
	return p
}
