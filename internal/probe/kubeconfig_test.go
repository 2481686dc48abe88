package probe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, all PEM.
type testPKI struct {
	caPEM, serverCert, serverKey, clientCert, clientKey []byte
	caPool                                              *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) (certPEM, keyPEM []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"system:masters"}},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	p := &testPKI{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	p.serverCert, p.serverKey = issue(2, "kube-apiserver", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCert, p.clientKey = issue(3, "admin", x509.ExtKeyUsageClientAuth, nil)
	return p
}

// apiServer starts a TLS server that requires a client certificate from
// the test CA, like kube-apiserver with --client-ca-file.
func (p *testPKI) apiServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	pair, err := tls.X509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.caPool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// kubeconfigYAML renders a kubeconfig whose current context uses the
// cluster and user fields given (already indented values).
func kubeconfigYAML(server string, cluster, user map[string]string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: other\n  context: {cluster: nowhere, user: nobody}\n- name: dev\n  context:\n    cluster: c\n    user: u\nclusters:\n- name: c\n  cluster:\n    server: " + server + "\n")
	for k, v := range cluster {
		b.WriteString("    " + k + ": " + v + "\n")
	}
	b.WriteString("users:\n- name: u\n  user:\n")
	for k, v := range user {
		b.WriteString("    " + k + ": " + v + "\n")
	}
	return b.String()
}

func TestKubeconfigCertificateDataAndFiles(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	srv := pki.apiServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "admin" {
			http.Error(w, `{"message":"no client certificate"}`, http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"kind":"NamespaceList","items":[]}`))
	}))

	dir := t.TempDir()
	for name, data := range map[string][]byte{"ca.crt": pki.caPEM, "admin.crt": pki.clientCert, "admin.key": pki.clientKey} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name          string
		cluster, user map[string]string
	}{
		{"inline data",
			map[string]string{"certificate-authority-data": b64(pki.caPEM)},
			map[string]string{"client-certificate-data": b64(pki.clientCert), "client-key-data": b64(pki.clientKey)}},
		{"relative file paths",
			map[string]string{"certificate-authority": "ca.crt"},
			map[string]string{"client-certificate": "admin.crt", "client-key": "admin.key"}},
		{"absolute file paths",
			map[string]string{"certificate-authority": filepath.Join(dir, "ca.crt")},
			map[string]string{"client-certificate": filepath.Join(dir, "admin.crt"), "client-key": filepath.Join(dir, "admin.key")}},
		{"data and files mixed",
			map[string]string{"certificate-authority-data": b64(pki.caPEM)},
			map[string]string{"client-certificate": "admin.crt", "client-key-data": b64(pki.clientKey)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The kubeconfig lives next to the files, so relative paths
			// resolve against its directory, not the working directory.
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".kubeconfig")
			if err := os.WriteFile(path, []byte(kubeconfigYAML(srv.URL, tt.cluster, tt.user)), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadKubeconfig(path)
			if err != nil {
				t.Fatalf("LoadKubeconfig: %v", err)
			}
			defer c.Close()
			if c.Server() != srv.URL {
				t.Errorf("server = %q, want %q", c.Server(), srv.URL)
			}
			var out struct {
				Kind string `json:"kind"`
			}
			if err := c.Do(t.Context(), http.MethodGet, "/api/v1/namespaces", nil, &out); err != nil {
				t.Fatalf("GET with the kubeconfig's client certificate: %v", err)
			}
			if out.Kind != "NamespaceList" {
				t.Errorf("decoded kind %q", out.Kind)
			}
		})
	}
}

// tokenServer is a TLS API server that answers only the bearer token
// "s3cret", as kube-apiserver does for a service account or an exec
// plugin's token.
func (p *testPKI) tokenServer(t *testing.T) *httptest.Server {
	t.Helper()
	pair, err := tls.X509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"kind":"Status","message":"Unauthorized","code":401}`))
			return
		}
		w.Write([]byte(`{"kind":"NamespaceList","items":[]}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestKubeconfigTokenAndExecCredentials(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	srv := pki.tokenServer(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An exec credential plugin, like aws eks get-token or
	// gke-gcloud-auth-plugin: it prints an ExecCredential with a token.
	plugin := filepath.Join(dir, "get-token")
	script := "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"'\"$TOKEN\"'\"}}'\n"
	if err := os.WriteFile(plugin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	exec := func(token string) string {
		return "{apiVersion: client.authentication.k8s.io/v1, command: " + plugin + ", interactiveMode: Never, env: [{name: TOKEN, value: " + token + "}]}"
	}
	ca := map[string]string{"certificate-authority-data": b64(pki.caPEM)}
	for _, tt := range []struct {
		name       string
		user       map[string]string
		wantDenied bool
	}{
		{name: "token", user: map[string]string{"token": "s3cret"}},
		{name: "token file", user: map[string]string{"tokenFile": "token"}},
		{name: "exec plugin", user: map[string]string{"exec": exec("s3cret")}},
		{name: "exec plugin with the wrong token", user: map[string]string{"exec": exec("wrong")}, wantDenied: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseKubeconfig([]byte(kubeconfigYAML(srv.URL+"/", ca, tt.user)), dir, "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Server() != srv.URL {
				t.Errorf("server = %q, want %q (the trailing slash trimmed)", c.Server(), srv.URL)
			}
			err = c.Do(t.Context(), http.MethodGet, "/api/v1/namespaces", nil, nil)
			var ae *APIError
			switch {
			case tt.wantDenied && (!errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized):
				t.Errorf("GET with a wrong token: %v, want a 401", err)
			case !tt.wantDenied && err != nil:
				t.Errorf("GET: %v", err)
			}
		})
	}
}

func TestKubeconfigNamedContext(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	srv := pki.tokenServer(t)
	// The current context points nowhere; the named one works.
	yaml := kubeconfigYAML(srv.URL, map[string]string{"certificate-authority-data": b64(pki.caPEM)}, map[string]string{"token": "s3cret"})
	yaml = strings.Replace(yaml, "current-context: dev", "current-context: other", 1)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadKubeconfigContext(path, "dev")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Do(t.Context(), http.MethodGet, "/api/v1/namespaces", nil, nil); err != nil {
		t.Errorf("GET through the named context: %v", err)
	}
	if _, err := LoadKubeconfigContext(path, "absent"); err == nil {
		t.Errorf("a context the file lacks was accepted")
	}
}

func TestKubeconfigErrors(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	goodUser := map[string]string{"client-certificate-data": b64(pki.clientCert), "client-key-data": b64(pki.clientKey)}
	tests := []struct {
		name, yaml, want string
	}{
		{"not yaml", "{{{", "not a kubeconfig"},
		{"no current context", "apiVersion: v1\nclusters: []\n", "no current-context"},
		{"unknown current context", "current-context: gone\ncontexts: []\n", `current-context "gone" is not among its contexts`},
		{"unknown cluster", "current-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\n", `names cluster "c", which it does not define`},
		{"no server", kubeconfigYAML("", nil, goodUser), `no server found for cluster "c"`},
		{"unknown user", "current-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: https://x}\n", `names user "u", which it does not define`},
		{"certificate without key", kubeconfigYAML("https://x", nil, map[string]string{"client-certificate-data": b64(pki.clientCert)}), "client-key-data or client-key must be specified"},
		{"bad base64", kubeconfigYAML("https://x", map[string]string{"certificate-authority-data": "abc$def"}, goodUser), "illegal base64"},
		{"CA not PEM", kubeconfigYAML("https://x", map[string]string{"certificate-authority-data": b64([]byte("junk"))}, goodUser), "unable to load root certificates"},
		{"missing file", kubeconfigYAML("https://x", map[string]string{"certificate-authority": "missing.crt"}, goodUser), "missing.crt"},
		{"mismatched key", kubeconfigYAML("https://x", nil, map[string]string{"client-certificate-data": b64(pki.clientCert), "client-key-data": b64(pki.serverKey)}), "private key does not match public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseKubeconfig([]byte(tt.yaml), t.TempDir(), "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := LoadKubeconfig(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "reading kubeconfig") {
		t.Errorf("LoadKubeconfig of a missing file: %v", err)
	}
}

func TestAPIErrorCarriesStatusMessage(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	srv := pki.apiServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"kind":"Status","message":"namespaces \"x\" not found","code":404}`))
	}))
	c, err := parseKubeconfig([]byte(kubeconfigYAML(srv.URL, map[string]string{"certificate-authority-data": b64(pki.caPEM)},
		map[string]string{"client-certificate-data": b64(pki.clientCert), "client-key-data": b64(pki.clientKey)})), "", "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(t.Context(), http.MethodGet, "/api/v1/namespaces/x", nil, nil)
	if !IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "x" not found`) {
		t.Fatalf("error = %v, want a 404 APIError with the Status message", err)
	}
}
