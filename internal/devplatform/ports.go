package devplatform

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Ports are the loopback ports of a platform, one per listener. Zero means
// "not chosen": up picks a free port for it, and the choice is kept in the
// state file so later ups reuse it.
type Ports struct {
	Postgres          int `json:"postgres"`
	PgBouncer         int `json:"pgbouncer"`
	Redis             int `json:"redis"`
	Etcd              int `json:"etcd"`
	EtcdPeer          int `json:"etcd_peer"`
	APIServer         int `json:"apiserver"`
	ControllerManager int `json:"controller_manager"`
}

// portRef names one field of Ports for messages: the listener and the flag
// that sets it.
type portRef struct {
	name string // the listener, as status shows it
	flag string // the tenantctl dev up flag
	ptr  *int
}

func (p *Ports) refs() []portRef {
	return []portRef{
		{"postgres", "--postgres-port", &p.Postgres},
		{"pgbouncer", "--pgbouncer-port", &p.PgBouncer},
		{"redis", "--redis-port", &p.Redis},
		{"etcd", "--etcd-port", &p.Etcd},
		{"etcd peer", "--etcd-peer-port", &p.EtcdPeer},
		{"kube-apiserver", "--apiserver-port", &p.APIServer},
		{"kube-controller-manager", "--controller-manager-port", &p.ControllerManager},
	}
}

// Validate checks ports given on the command line: each is 0 (pick one) or
// in 1-65535, and no two are the same. It has no side effects; errors wrap
// ErrInvalidInput.
func (p Ports) Validate() error { return p.validate(false) }

func (p Ports) validate(all bool) error {
	seen := map[int]string{}
	for _, r := range p.refs() {
		v := *r.ptr
		switch {
		case v == 0 && !all:
			continue
		case v < 1 || v > 65535:
			return withKind(ErrInvalidInput, fmt.Errorf("%s %d is not a port; use a number from 1 to 65535", r.flag, v))
		}
		if other, ok := seen[v]; ok {
			return withKind(ErrInvalidInput, fmt.Errorf("%s and %s are both %d; each service needs its own port", other, r.flag, v))
		}
		seen[v] = r.flag
	}
	return nil
}

// mergeFlags checks ports given on the command line against the ports a
// platform was created with: a flag may repeat its port, never change it,
// because clients and certificates were made for it.
func (p Ports) mergeFlags(flags Ports, dir string) error {
	want := flags.refs()
	for i, r := range p.refs() {
		if f := *want[i].ptr; f != 0 && f != *r.ptr {
			return withKind(ErrInvalidInput, fmt.Errorf("the platform in %s uses %s port %d, not %d; ports are fixed on the first up: leave out %s, or run \"tenantctl dev down --purge\" first (this deletes its data)",
				dir, r.name, *r.ptr, f, r.flag))
		}
	}
	return nil
}

// pickFree returns p with every zero port replaced by a free loopback port.
// The listeners stay open until all are picked, so the ports are distinct.
func (p Ports) pickFree() (Ports, error) {
	taken := map[int]bool{}
	for _, r := range p.refs() {
		taken[*r.ptr] = true
	}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	out := p
	for _, r := range out.refs() {
		for *r.ptr == 0 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return p, fmt.Errorf("picking a free port for %s: %w", r.name, err)
			}
			held = append(held, l)
			port := l.Addr().(*net.TCPAddr).Port
			if !taken[port] {
				*r.ptr = port
				taken[port] = true
			}
		}
	}
	return out, nil
}

// checkFree fails, naming the port and the flag to change it, when port
// cannot be bound on 127.0.0.1.
func checkFree(name, flag string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err == nil {
		return l.Close()
	}
	reason := err.Error()
	var se interface{ Unwrap() error }
	if errors.As(err, &se) {
		reason = se.Unwrap().Error()
	}
	return withKind(ErrPortInUse, fmt.Errorf("port %d for %s is not free on 127.0.0.1 (%s); stop what uses it, or choose another with %s before the first up",
		port, name, strings.TrimPrefix(reason, "bind: "), flag))
}

// portFlag returns the flag that sets the port of the named listener.
func portFlag(name string) string {
	var p Ports
	for _, r := range p.refs() {
		if r.name == name {
			return r.flag
		}
	}
	return ""
}
