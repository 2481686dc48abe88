package devplatform

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsurePKI(t *testing.T) {
	l := layout{dir: t.TempDir()}
	if err := ensurePKI(l); err != nil {
		t.Fatal(err)
	}
	ca := readCert(t, l.pkiFile("ca.crt"))
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	admin := readCert(t, l.pkiFile("admin.crt"))
	if !slices.Equal(admin.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("admin certificate organization = %v, want system:masters", admin.Subject.Organization)
	}
	if _, err := admin.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate does not verify as a client of the CA: %v", err)
	}
	srv := readCert(t, l.pkiFile("apiserver.crt"))
	if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("apiserver certificate does not verify for 127.0.0.1: %v", err)
	}
	if !slices.ContainsFunc(srv.IPAddresses, func(ip net.IP) bool { return ip.Equal(serviceIP) }) {
		t.Errorf("apiserver certificate lacks the service IP %v: %v", serviceIP, srv.IPAddresses)
	}
	kcm := readCert(t, l.pkiFile("controller-manager.crt"))
	if kcm.Subject.CommonName != "system:kube-controller-manager" {
		t.Errorf("controller-manager CN = %q", kcm.Subject.CommonName)
	}
	for _, key := range []string{"ca.key", "admin.key", "apiserver.key", "sa.key", "etcd.key"} {
		fi, err := os.Stat(l.pkiFile(key))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", key, fi.Mode().Perm())
		}
	}

	// A second call keeps everything.
	before, _ := os.ReadFile(l.pkiFile("admin.crt"))
	if err := ensurePKI(l); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(l.pkiFile("admin.crt"))
	if string(before) != string(after) {
		t.Error("ensurePKI reissued an existing certificate")
	}

	// A lost CA reissues every leaf, so none is left signed by a dead key.
	os.Remove(l.pkiFile("ca.key"))
	if err := ensurePKI(l); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(readCert(t, l.pkiFile("ca.crt")))
	if _, err := readCert(t, l.pkiFile("admin.crt")).Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("after a new CA, admin certificate does not verify: %v", err)
	}
	entries, _ := filepath.Glob(filepath.Join(l.pki(), ".*"))
	if len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}
