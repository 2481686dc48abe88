package migrate

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	engine "github.com/tenantstack/tenantstack/internal/migrate"
)

// progress follows a rollout on stderr: a bar with counts and an ETA on a
// terminal, a line per target otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	wave     string
	total    int
	done     int
	failed   int
	start    time.Time
	drawn    bool
}

func newProgress(w io.Writer, terminal bool) *progress {
	return &progress{w: w, terminal: terminal}
}

// Wave starts a wave of n targets.
func (p *progress) Wave(name string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.wave, p.total, p.done, p.failed, p.start = name, n, 0, 0, time.Now()
	fmt.Fprintf(p.w, "wave %s: %d targets\n", name, n)
	p.draw()
}

// Done records one target's result.
func (p *progress) Done(r engine.TargetResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if r.Failure != nil {
		p.failed++
	}
	if p.terminal {
		if r.Failure != nil {
			p.clear()
			fmt.Fprintf(p.w, "FAILED %s\n", r.Failure.Error())
		}
		p.draw()
		return
	}
	if r.Failure != nil {
		fmt.Fprintf(p.w, "[%d/%d] %s (%s): FAILED after %.2fs: %s\n", p.done, p.total, r.Target, r.Tier, r.Seconds, r.Failure.Error())
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %s (%s): %d -> %d in %.2fs\n", p.done, p.total, r.Target, r.Tier, r.From, r.To, r.Seconds)
}

// draw paints the bar; the caller holds mu.
func (p *progress) draw() {
	if !p.terminal || p.total == 0 {
		return
	}
	const width = 30
	filled := width * p.done / p.total
	eta := "-"
	if p.done > 0 && p.done < p.total {
		per := time.Since(p.start) / time.Duration(p.done)
		eta = (per * time.Duration(p.total-p.done)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s, %d failed, ETA %s ", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		p.done, p.total, p.wave, p.failed, eta)
	p.drawn = true
}

// clear ends the bar's line; the caller holds mu.
func (p *progress) clear() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// pause ends the bar's line before a prompt.
func (p *progress) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

// finish ends the bar's line.
func (p *progress) finish() { p.pause() }
