package devplatform

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The Kubernetes control plane's PKI: one CA for everything (a local,
// single-user platform gains nothing from separate etcd and front-proxy
// CAs), ECDSA P-256 keys, made with crypto/x509. Keys are 0600.

// certSpec describes a leaf certificate signed by the platform CA.
type certSpec struct {
	name   string // file stem: NAME.crt, NAME.key
	cn     string
	org    []string
	server bool
	client bool
}

func (l layout) certSpecs() []certSpec {
	return []certSpec{
		{name: "apiserver", cn: "kube-apiserver", server: true},
		{name: "admin", cn: "tenantstack-admin", org: []string{"system:masters"}, client: true},
		{name: "controller-manager", cn: "system:kube-controller-manager", client: true},
		{name: "controller-manager-serving", cn: "kube-controller-manager", server: true},
		{name: "etcd", cn: "etcd", server: true, client: true},
		{name: "apiserver-etcd-client", cn: "kube-apiserver-etcd-client", client: true},
	}
}

// ensurePKI creates what is missing of the CA, the leaf certificates and the
// service-account key pair in l.pki(). A new CA reissues every leaf.
func ensurePKI(l layout) error {
	dir := l.pki()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, caKey, fresh, err := ensureCA(dir)
	if err != nil {
		return err
	}
	for _, s := range l.certSpecs() {
		if !fresh && fileExists(filepath.Join(dir, s.name+".crt")) && fileExists(filepath.Join(dir, s.name+".key")) {
			continue
		}
		if err := issue(dir, s, ca, caKey); err != nil {
			return fmt.Errorf("issuing the %s certificate: %w", s.name, err)
		}
	}
	if fileExists(filepath.Join(dir, "sa.key")) && fileExists(filepath.Join(dir, "sa.pub")) {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, "sa.key"), key); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, "sa.pub"), "PUBLIC KEY", pub, 0o644)
}

func ensureCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, bool, error) {
	crtPath, keyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if pair, err := tls.LoadX509KeyPair(crtPath, keyPath); err == nil {
		if key, ok := pair.PrivateKey.(*ecdsa.PrivateKey); ok {
			ca, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				return nil, nil, false, err
			}
			return ca, key, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, false, fmt.Errorf("loading the platform CA in %s: %w", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "tenantstack-dev-ca", Organization: []string{"tenantstack"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, false, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, false, err
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, nil, false, err
	}
	if err := writePEM(crtPath, "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, false, err
	}
	return ca, key, true, nil
}

func issue(dir string, s certSpec, ca *x509.Certificate, caKey *ecdsa.PrivateKey) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	sn, err := serial()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: s.cn, Organization: s.org},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if s.server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, serviceIP}
		tmpl.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	}
	if s.client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, s.name+".key"), key); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, s.name+".crt"), "CERTIFICATE", der, 0o644)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

// writeFileAtomic writes data to path through a temporary file and a rename,
// so a crash never leaves half a key or config.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// clientTLS returns a TLS config that trusts the platform CA and presents
// the named client certificate.
func clientTLS(l layout, cert string) (*tls.Config, error) {
	caPEM, err := os.ReadFile(filepath.Join(l.pki(), "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", filepath.Join(l.pki(), "ca.crt"))
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(l.pki(), cert+".crt"), filepath.Join(l.pki(), cert+".key"))
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
