package devplatform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Platform manages the local platform whose files live in one state
// directory. Its methods hold a lock on that directory while they change it,
// so two tenantctl processes never start the same service twice.
type Platform struct {
	layout   layout
	progress io.Writer
	outMu    sync.Mutex

	// Seams for tests; New sets the real ones.
	lookupTool func(name string) (string, error)
	geteuid    func() int
	debianPath func(path string) string
	runApt     func(ctx context.Context, logPath string, args ...string) error
	lookupUser func(name string) (*user.User, error)

	// Set for the duration of one operation.
	stMu  sync.Mutex
	st    *State
	bins  binaries
	runAs *account
}

// New returns the platform kept under home (TENANTSTACK_HOME), in
// home/platform. Progress lines go to progress.
func New(home string, progress io.Writer) *Platform {
	return &Platform{
		layout:     layout{dir: filepath.Join(home, StateDirName)},
		progress:   progress,
		lookupTool: defaultLookupTool,
		geteuid:    os.Geteuid,
		debianPath: func(p string) string { return p },
		runApt:     defaultRunApt,
		lookupUser: user.Lookup,
	}
}

// Dir returns the state directory.
func (p *Platform) Dir() string { return p.layout.dir }

// UpOptions configure Up. Zero ports are picked on the first up.
type UpOptions struct {
	Ports Ports
}

// DownOptions configure Down.
type DownOptions struct {
	// Purge deletes the state directory, and with it all data, after the
	// processes have stopped.
	Purge bool
}

// Service states, as status shows them.
const (
	StateRunning   = "running"   // the process runs and answers
	StateUnhealthy = "unhealthy" // the process runs but does not answer
	StateStopped   = "stopped"   // no process
)

// ServiceStatus is the health of one service.
type ServiceStatus struct {
	Name    string `json:"name"`
	State   string `json:"state"`
	Healthy bool   `json:"healthy"`
	PID     int    `json:"pid,omitempty"`
	Address string `json:"address"`
	// Detail is the version on success, otherwise why the check failed.
	Detail string `json:"detail,omitempty"`
}

// Status is the health of every service of a platform.
type Status struct {
	StateDir string          `json:"state_dir"`
	Services []ServiceStatus `json:"services"`
}

// NotHealthy returns the names of the services that are not healthy.
func (s *Status) NotHealthy() []string {
	var names []string
	for _, svc := range s.Services {
		if !svc.Healthy {
			names = append(names, svc.Name)
		}
	}
	return names
}

// account is the system user PostgreSQL and PgBouncer run as when we are root.
type account struct {
	name     string
	uid, gid uint32
}

// service is one process of the platform and how to manage it.
type service struct {
	name    string
	program string // base name of the executable, as its command line shows it
	marker  string // an argument no other process has: a path in the state directory
	after   string // the service that must answer before this one starts
	stopSig syscall.Signal
	grace   time.Duration // how long to wait after stopSig before SIGKILL
	ports   func() []listener
	address func() string
	prepare func(ctx context.Context) error
	spec    func() procSpec
	check   func(ctx context.Context) (detail string, err error)
	// verify runs once after a fresh start answers (an end-to-end probe).
	verify func(ctx context.Context) error
	// retry reports, from the log of a start that failed, whether trying
	// again shortly may succeed.
	retry func(log string) bool
}

// listener is a port a service binds.
type listener struct {
	name string // as in Ports.refs
	port int
}

const (
	startTimeout = 2 * time.Minute // for one service to answer after start
	checkTimeout = 5 * time.Second // for one health check
)

// services lists the platform's services in start order.
func (p *Platform) services() []*service {
	return []*service{p.postgresService(), p.pgbouncerService(), p.redisService(), p.etcdService(), p.apiserverService(), p.controllerManagerService()}
}

// stopOrder lists service names so that each stops before what it needs.
var stopOrder = [][]string{
	{"kube-controller-manager", "pgbouncer", "redis"},
	{"kube-apiserver", "postgres"},
	{"etcd"},
}

func (p *Platform) progressf(format string, a ...any) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	fmt.Fprintf(p.progress, format+"\n", a...)
}

func (p *Platform) state() *State {
	p.stMu.Lock()
	defer p.stMu.Unlock()
	return p.st
}

// recordPID saves pid as the service's process (0 forgets it).
func (p *Platform) recordPID(name string, pid int) error {
	p.stMu.Lock()
	defer p.stMu.Unlock()
	if p.st.Processes == nil {
		p.st.Processes = map[string]int{}
	}
	if pid == 0 {
		delete(p.st.Processes, name)
	} else {
		p.st.Processes[name] = pid
	}
	return SaveState(p.layout.dir, p.st)
}

// pidOf returns the PID of the service's running process: the one recorded
// in state if it still matches, else one found by its marker (a process we
// started but whose PID was not saved), else 0.
func (p *Platform) pidOf(svc *service) int {
	p.stMu.Lock()
	pid := 0
	if p.st != nil {
		pid = p.st.Processes[svc.name]
	}
	p.stMu.Unlock()
	if procMatches(pid, svc.program, svc.marker) {
		return pid
	}
	if pids := findProcs(svc.program, svc.marker); len(pids) > 0 {
		return pids[0]
	}
	return 0
}

// Up starts every service that is not running and waits until each answers.
// Services already running are only checked, so a second up changes nothing.
func (p *Platform) Up(ctx context.Context, opts UpOptions) (*Status, error) {
	began := time.Now()
	if err := opts.Ports.Validate(); err != nil {
		return nil, err
	}
	// Everything that can refuse does so before the first file is written.
	st, err := LoadState(p.layout.dir)
	switch {
	case err == nil:
		if err := st.Ports.mergeFlags(opts.Ports, p.layout.dir); err != nil {
			return nil, err
		}
	case isNotExist(err):
		if err := p.checkFresh(opts.Ports); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	bins, err := p.findBinaries(ctx)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(p.layout.dir, 0o700); err != nil {
		return nil, err
	}
	unlock, err := p.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Again under the lock: another up may have created the platform.
	st, err = LoadState(p.layout.dir)
	switch {
	case err == nil:
		if err := st.Ports.mergeFlags(opts.Ports, p.layout.dir); err != nil {
			return nil, err
		}
	case isNotExist(err):
		ports, err := opts.Ports.pickFree()
		if err != nil {
			return nil, err
		}
		if st, err = newState(ports); err != nil {
			return nil, err
		}
		if err := SaveState(p.layout.dir, st); err != nil {
			return nil, err
		}
		p.progressf("new platform in %s", p.layout.dir)
	default:
		return nil, err
	}
	p.st, p.bins = st, bins
	if err := p.prepareShared(); err != nil {
		return nil, err
	}

	svcs := p.services()
	index := map[string]int{}
	for i, s := range svcs {
		index[s.name] = i
	}
	results := make([]ServiceStatus, len(svcs))
	errs := make([]error, len(svcs))
	done := make([]chan struct{}, len(svcs))
	for i := range done {
		done[i] = make(chan struct{})
	}
	for i, svc := range svcs {
		go func() {
			defer close(done[i])
			results[i] = ServiceStatus{Name: svc.name, State: StateStopped, Address: svc.address()}
			if svc.after != "" {
				j := index[svc.after]
				<-done[j]
				if errs[j] != nil {
					errs[i] = fmt.Errorf("%s not started because %s did not start", svc.name, svc.after)
					return
				}
			}
			results[i], errs[i] = p.ensure(ctx, svc)
		}()
	}
	for _, d := range done {
		<-d
	}
	status := &Status{StateDir: p.layout.dir, Services: results}
	if err := errors.Join(errs...); err != nil {
		if ctx.Err() != nil {
			return status, fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return status, err
	}
	p.progressf("platform ready in %s (state in %s)", since(began), p.layout.dir)
	return status, nil
}

// checkFresh checks, before a first up, that the ports given on the command
// line are free and that no data lies in the state directory without the
// state file that holds its passwords.
func (p *Platform) checkFresh(flags Ports) error {
	for _, r := range flags.refs() {
		if *r.ptr != 0 {
			if err := checkFree(r.name, r.flag, *r.ptr); err != nil {
				return err
			}
		}
	}
	for _, f := range []string{filepath.Join(p.layout.pgData(), "PG_VERSION"), p.layout.redisACL(), p.layout.etcdData()} {
		if fileExists(f) {
			return fmt.Errorf("%s holds a platform's data but no %s with its passwords; move it away, or delete it with \"tenantctl dev down --purge\"", p.layout.dir, stateFile)
		}
	}
	return nil
}

// prepareShared sets up what several services need: the account PostgreSQL
// and PgBouncer run as, the log directory and the Kubernetes PKI.
func (p *Platform) prepareShared() error {
	if err := os.MkdirAll(p.layout.logs(), 0o700); err != nil {
		return err
	}
	if p.geteuid() == 0 {
		u, err := p.lookupUser("postgres")
		if err != nil {
			return fmt.Errorf("PostgreSQL refuses to run as root and there is no postgres user to run it as (%w); reinstall it: apt-get install --reinstall postgresql-common", err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("the postgres user has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
		}
		p.runAs = &account{name: "postgres", uid: uint32(uid), gid: uint32(gid)}
		changed, err := ensureSearchable(p.layout.dir, p.runAs.uid, p.runAs.gid)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			p.progressf("granted the postgres user search (x) permission, by ACL, on %s", strings.Join(changed, ", "))
		}
	}
	return ensurePKI(p.layout)
}

// cred is the credential PostgreSQL and PgBouncer run with: nil runs them as
// the current user.
func (p *Platform) cred() *syscall.Credential {
	if p.runAs == nil {
		return nil
	}
	return &syscall.Credential{Uid: p.runAs.uid, Gid: p.runAs.gid, Groups: []uint32{p.runAs.gid}}
}

// mkdirOwned creates dir (0700) owned by the account services run as.
func (p *Platform) mkdirOwned(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	return p.chown(dir)
}

// writeOwned writes a file that PostgreSQL or PgBouncer must read.
func (p *Platform) writeOwned(path string, data []byte) error {
	if err := writeFileAtomic(path, data, 0o600); err != nil {
		return err
	}
	return p.chown(path)
}

func (p *Platform) chown(path string) error {
	if p.runAs == nil {
		return nil
	}
	return os.Lchown(path, int(p.runAs.uid), int(p.runAs.gid))
}

// ensure leaves svc running and answering: a healthy process is left alone,
// a dead one is started again.
func (p *Platform) ensure(ctx context.Context, svc *service) (ServiceStatus, error) {
	res := ServiceStatus{Name: svc.name, State: StateStopped, Address: svc.address()}
	if pid := p.pidOf(svc); pid != 0 {
		res.PID = pid
		if err := p.recordPID(svc.name, pid); err != nil {
			return res, err
		}
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		detail, err := svc.check(cctx)
		cancel()
		if err != nil {
			p.progressf("%s: running (pid %d) but not answering yet: %v", svc.name, pid, err)
			detail, err = p.waitReady(ctx, svc, pid, nil)
			if err != nil {
				res.State, res.Detail = StateUnhealthy, err.Error()
				return res, fmt.Errorf("%s runs (pid %d) but does not answer: %w; run \"tenantctl dev down\" and \"tenantctl dev up\" to restart it", svc.name, pid, err)
			}
		}
		p.progressf("%s: already running on %s (pid %d)", svc.name, res.Address, pid)
		res.State, res.Healthy, res.Detail = StateRunning, true, detail
		return res, nil
	}

	began := time.Now()
	for _, l := range svc.ports() {
		if err := checkFree(l.name, portFlag(l.name), l.port); err != nil {
			return res, err
		}
	}
	if err := svc.prepare(ctx); err != nil {
		return res, fmt.Errorf("preparing %s: %w", svc.name, err)
	}
	p.progressf("%s: starting on %s", svc.name, res.Address)
	logPath := p.layout.log(svc.name)
	rotateLog(logPath)
	for attempt := 1; ; attempt++ {
		s, err := startProc(svc.spec(), logPath)
		if err != nil {
			return res, err
		}
		res.PID = s.pid
		if err := p.recordPID(svc.name, s.pid); err != nil {
			return res, err
		}
		detail, err := p.waitReady(ctx, svc, s.pid, s)
		if err != nil {
			exited := false
			select {
			case <-s.exited:
				exited = true
			default:
			}
			if exited && svc.retry != nil && attempt < 20 && ctx.Err() == nil && svc.retry(strings.Join(lastLines(logPath, tailLines), "\n")) {
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
				continue
			}
			res.Detail = err.Error()
			return res, fmt.Errorf("%s failed to start: %w", svc.name, err)
		}
		if svc.verify != nil {
			if err := svc.verify(ctx); err != nil {
				res.State, res.Detail = StateUnhealthy, err.Error()
				return res, fmt.Errorf("%s started but failed its check: %w", svc.name, err)
			}
		}
		p.progressf("%s: ready on %s in %s (pid %d)", svc.name, res.Address, since(began), s.pid)
		res.State, res.Healthy, res.Detail = StateRunning, true, detail
		return res, nil
	}
}

// waitReady polls svc's check until it passes, the process dies, or the
// start timeout passes. s is nil for a process we did not start now.
func (p *Platform) waitReady(ctx context.Context, svc *service, pid int, s *started) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	logPath := p.layout.log(svc.name)
	var exited <-chan struct{}
	if s != nil {
		exited = s.exited
	}
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, checkTimeout)
		detail, err := svc.check(cctx)
		ccancel()
		if err == nil {
			return detail, nil
		}
		last = err
		if s == nil && !procMatches(pid, svc.program, svc.marker) {
			return "", fmt.Errorf("process %d exited%s", pid, logTail(logPath))
		}
		select {
		case <-exited:
			return "", fmt.Errorf("it exited (%s)%s", s.exitErr(), logTail(logPath))
		case <-ctx.Done():
			return "", fmt.Errorf("no answer after %s: %v%s", startTimeout, last, logTail(logPath))
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// Down stops the processes of the platform, stopping each service before
// those it needs, and keeps the data unless opts.Purge.
func (p *Platform) Down(ctx context.Context, opts DownOptions) error {
	if _, err := os.Stat(p.layout.dir); isNotExist(err) {
		p.progressf("no local platform in %s; nothing to stop", p.layout.dir)
		return nil
	}
	unlock, err := p.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	// Stopping needs no state: without it (or with a damaged one) the
	// processes are found by the paths in their command lines.
	st, err := LoadState(p.layout.dir)
	if err != nil {
		if !isNotExist(err) {
			p.progressf("warning: %v; finding the platform's processes by their command lines", err)
		}
		st = nil
	}
	p.st = st
	byName := map[string]*service{}
	for _, s := range p.services() {
		byName[s.name] = s
	}
	var errs []error
	var mu sync.Mutex
	for _, group := range stopOrder {
		var wg sync.WaitGroup
		for _, name := range group {
			svc := byName[name]
			wg.Go(func() {
				if err := p.stop(ctx, svc); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if st != nil {
		st.Processes = map[string]int{}
		if err := SaveState(p.layout.dir, st); err != nil {
			return err
		}
	}
	if opts.Purge {
		if err := os.RemoveAll(p.layout.dir); err != nil {
			return fmt.Errorf("deleting %s: %w", p.layout.dir, err)
		}
		p.progressf("deleted %s", p.layout.dir)
	}
	return nil
}

// stop ends every process of svc: the recorded one and any found by marker.
func (p *Platform) stop(ctx context.Context, svc *service) error {
	var pids []int
	if p.st != nil {
		if pid := p.st.Processes[svc.name]; procMatches(pid, svc.program, svc.marker) {
			pids = append(pids, pid)
		}
	}
	for _, pid := range findProcs(svc.program, svc.marker) {
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return nil
	}
	began := time.Now()
	for _, pid := range pids {
		if err := stopProc(ctx, pid, svc.program, svc.marker, svc.stopSig, svc.grace); err != nil {
			return fmt.Errorf("stopping %s: %w", svc.name, err)
		}
	}
	p.progressf("%s: stopped in %s (pid %s)", svc.name, since(began), joinInts(pids))
	return nil
}

// Status checks every service of the platform. It fails with ErrNotRunning
// when there is no platform at all; otherwise the result says which services
// are not healthy.
func (p *Platform) Status(ctx context.Context) (*Status, error) {
	st, err := p.loadForRead()
	if err != nil {
		return nil, err
	}
	p.st = st
	svcs := p.services()
	out := &Status{StateDir: p.layout.dir, Services: make([]ServiceStatus, len(svcs))}
	index := map[string]int{}
	done := make([]chan struct{}, len(svcs))
	for i, s := range svcs {
		index[s.name] = i
		done[i] = make(chan struct{})
	}
	for i, svc := range svcs {
		go func() {
			defer close(done[i])
			r := ServiceStatus{Name: svc.name, State: StateStopped, Address: svc.address()}
			defer func() { out.Services[i] = r }()
			if r.PID = p.pidOf(svc); r.PID == 0 {
				return
			}
			if svc.after != "" {
				j := index[svc.after]
				<-done[j]
				if !out.Services[j].Healthy {
					// Its check would only time out waiting for the dependency.
					r.State, r.Detail = StateUnhealthy, svc.after+" is not healthy"
					return
				}
			}
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			detail, err := svc.check(cctx)
			cancel()
			if err != nil {
				r.State, r.Detail = StateUnhealthy, err.Error()
			} else {
				r.State, r.Healthy, r.Detail = StateRunning, true, detail
			}
		}()
	}
	for _, d := range done {
		<-d
	}
	return out, nil
}

// Env returns the admin endpoints of the running platform. It fails with
// ErrNotRunning, saying to run "tenantctl dev up", unless every service's
// process runs.
func (p *Platform) Env(ctx context.Context) (Env, error) {
	st, err := p.loadForRead()
	if err != nil {
		return Env{}, err
	}
	p.st = st
	var stopped []string
	for _, svc := range p.services() {
		if p.pidOf(svc) == 0 {
			stopped = append(stopped, svc.name)
		}
	}
	if len(stopped) > 0 {
		return Env{}, withKind(ErrNotRunning, fmt.Errorf("the local platform in %s is not running (stopped: %s); run \"tenantctl dev up\"", p.layout.dir, strings.Join(stopped, ", ")))
	}
	return envOf(st, p.layout), nil
}

func (p *Platform) loadForRead() (*State, error) {
	st, err := LoadState(p.layout.dir)
	if isNotExist(err) {
		return nil, withKind(ErrNotRunning, fmt.Errorf("no local platform in %s; run \"tenantctl dev up\" to start one", p.layout.dir))
	}
	return st, err
}

// lock takes the state directory's lock, waiting for another tenantctl
// that holds it. The descriptor is close-on-exec, so services never inherit
// the lock.
func (p *Platform) lock(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(p.layout.lock(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", p.layout.lock(), err)
		}
		if !told {
			p.progressf("waiting for another tenantctl dev command working on %s", p.layout.dir)
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock on %s: %w", p.layout.dir, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func since(t time.Time) string {
	return time.Since(t).Round(100 * time.Millisecond).String()
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
