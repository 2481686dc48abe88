package devplatform

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestPortsValidate(t *testing.T) {
	tests := []struct {
		name  string
		ports Ports
		want  string // "" for valid
	}{
		{"all unset", Ports{}, ""},
		{"some set", Ports{Postgres: 15432, Redis: 16379}, ""},
		{"too big", Ports{Redis: 70000}, "--redis-port 70000 is not a port"},
		{"negative", Ports{APIServer: -1}, "--apiserver-port -1 is not a port"},
		{"same twice", Ports{Postgres: 5000, PgBouncer: 5000}, "--postgres-port and --pgbouncer-port are both 5000"},
		{"etcd peer clash", Ports{Etcd: 2379, EtcdPeer: 2379}, "--etcd-port and --etcd-peer-port are both 2379"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ports.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error %v does not wrap ErrInvalidInput", err)
			}
		})
	}
}

func TestPickFree(t *testing.T) {
	got, err := Ports{Redis: 16379}.pickFree()
	if err != nil {
		t.Fatal(err)
	}
	if got.Redis != 16379 {
		t.Errorf("pickFree changed a chosen port: redis = %d", got.Redis)
	}
	if err := got.validate(true); err != nil {
		t.Fatalf("picked ports are not all set and distinct: %v (%+v)", err, got)
	}
	for _, r := range got.refs() {
		if *r.ptr == 16379 {
			continue
		}
		if err := checkFree(r.name, r.flag, *r.ptr); err != nil {
			t.Errorf("picked port is not free: %v", err)
		}
	}
}

func TestCheckFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	err = checkFree("redis", "--redis-port", port)
	if err == nil {
		t.Fatalf("checkFree of a port in use = nil")
	}
	if !errors.Is(err, ErrPortInUse) {
		t.Errorf("error %v does not wrap ErrPortInUse", err)
	}
	for _, want := range []string{"port " + strconv.Itoa(port) + " for redis", "--redis-port", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	l.Close()
	if err := checkFree("redis", "--redis-port", port); err != nil {
		t.Errorf("checkFree after close = %v, want nil", err)
	}
}

func TestMergeFlags(t *testing.T) {
	have := Ports{Postgres: 1001, PgBouncer: 1002, Redis: 1003, Etcd: 1004, EtcdPeer: 1005, APIServer: 1006, ControllerManager: 1007}
	if err := have.mergeFlags(Ports{}, "/x"); err != nil {
		t.Errorf("no flags: %v", err)
	}
	if err := have.mergeFlags(Ports{Redis: 1003}, "/x"); err != nil {
		t.Errorf("same port again: %v", err)
	}
	err := have.mergeFlags(Ports{Redis: 2000}, "/x")
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "uses redis port 1003, not 2000") {
		t.Errorf("changed port: %v", err)
	}
}
