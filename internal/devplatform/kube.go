package devplatform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The Kubernetes control plane: etcd, kube-apiserver and
// kube-controller-manager (without it quotas get no status, namespaces get
// no default ServiceAccount and deleted namespaces never finish). There is
// no kubelet: pods stay Pending. Every connection is TLS with client
// certificates from the platform CA, etcd's too, since any local user can
// reach loopback.

func (p *Platform) etcdService() *service {
	l := p.layout
	return &service{
		name:    "etcd",
		program: "etcd",
		marker:  l.etcdData(),
		stopSig: syscall.SIGTERM,
		grace:   20 * time.Second,
		ports: func() []listener {
			return []listener{{"etcd", p.state().Ports.Etcd}, {"etcd peer", p.state().Ports.EtcdPeer}}
		},
		address: func() string { return loopback(p.state().Ports.Etcd) },
		prepare: func(context.Context) error { return os.MkdirAll(l.etcdDir(), 0o700) },
		spec: func() procSpec {
			ports := p.state().Ports
			client, peer := "https://"+loopback(ports.Etcd), "https://"+loopback(ports.EtcdPeer)
			return procSpec{bin: p.bins.etcd, dir: l.etcdDir(), args: []string{
				"--name=tenantstack",
				"--data-dir=" + l.etcdData(),
				"--listen-client-urls=" + client,
				"--advertise-client-urls=" + client,
				"--listen-peer-urls=" + peer,
				"--initial-advertise-peer-urls=" + peer,
				"--initial-cluster=tenantstack=" + peer,
				"--initial-cluster-state=new",
				"--client-cert-auth",
				"--trusted-ca-file=" + l.pkiFile("ca.crt"),
				"--cert-file=" + l.pkiFile("etcd.crt"),
				"--key-file=" + l.pkiFile("etcd.key"),
				"--peer-client-cert-auth",
				"--peer-trusted-ca-file=" + l.pkiFile("ca.crt"),
				"--peer-cert-file=" + l.pkiFile("etcd.crt"),
				"--peer-key-file=" + l.pkiFile("etcd.key"),
				// Tests create and delete namespaces all day; losing the last
				// writes in a machine crash is fine here.
				"--unsafe-no-fsync",
				"--snapshot-count=10000",
				"--log-level=warn",
			}}
		},
		check: func(ctx context.Context) (string, error) {
			base := "https://" + loopback(p.state().Ports.Etcd)
			body, err := p.httpGet(ctx, "apiserver-etcd-client", base+"/health")
			if err != nil {
				return "", err
			}
			var h struct {
				Health string `json:"health"`
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal(body, &h); err != nil || h.Health != "true" {
				return "", fmt.Errorf("etcd is not healthy: %s", strings.TrimSpace(string(body)))
			}
			var v struct {
				Server string `json:"etcdserver"`
			}
			if body, err := p.httpGet(ctx, "apiserver-etcd-client", base+"/version"); err == nil && json.Unmarshal(body, &v) == nil {
				return "etcd " + v.Server, nil
			}
			return "etcd", nil
		},
	}
}

func (p *Platform) apiserverService() *service {
	l := p.layout
	return &service{
		name:    "kube-apiserver",
		program: "kube-apiserver",
		marker:  l.pkiFile("apiserver.crt"),
		after:   "etcd",
		stopSig: syscall.SIGTERM,
		grace:   30 * time.Second,
		ports:   func() []listener { return []listener{{"kube-apiserver", p.state().Ports.APIServer}} },
		address: func() string { return loopback(p.state().Ports.APIServer) },
		prepare: func(context.Context) error {
			if err := os.MkdirAll(l.kubeDir(), 0o700); err != nil {
				return err
			}
			if err := ensureEncryptionConfig(l); err != nil {
				return fmt.Errorf("the API server's encryption of Secrets at rest: %w", err)
			}
			return writeKubeconfig(l, l.adminKubeconfig(), "admin", p.state().Ports.APIServer)
		},
		spec: func() procSpec {
			ports := p.state().Ports
			return procSpec{bin: p.bins.apiserver, dir: l.kubeDir(), args: []string{
				"--bind-address=127.0.0.1",
				"--advertise-address=127.0.0.1",
				"--secure-port=" + strconv.Itoa(ports.APIServer),
				"--tls-cert-file=" + l.pkiFile("apiserver.crt"),
				"--tls-private-key-file=" + l.pkiFile("apiserver.key"),
				"--client-ca-file=" + l.pkiFile("ca.crt"),
				"--cert-dir=" + l.kubeDir(),
				"--etcd-servers=https://" + loopback(ports.Etcd),
				"--etcd-cafile=" + l.pkiFile("ca.crt"),
				"--etcd-certfile=" + l.pkiFile("apiserver-etcd-client.crt"),
				"--etcd-keyfile=" + l.pkiFile("apiserver-etcd-client.key"),
				"--authorization-mode=RBAC",
				"--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota",
				// Otherwise a privileged pod is refused before PodSecurity sees it.
				"--allow-privileged=true",
				// The default reconciler would publish 127.0.0.1 as the kubernetes
				// Service's endpoint and fight over it.
				"--endpoint-reconciler-type=none",
				"--service-cluster-ip-range=" + serviceCIDR,
				"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
				"--service-account-key-file=" + l.pkiFile("sa.pub"),
				"--service-account-signing-key-file=" + l.pkiFile("sa.key"),
				"--profiling=false",
				"--encryption-provider-config=" + l.encryptionConfig(),
			}}
		},
		check: func(ctx context.Context) (string, error) {
			base := "https://" + loopback(p.state().Ports.APIServer)
			if _, err := p.httpGet(ctx, "admin", base+"/readyz"); err != nil {
				return "", err
			}
			var v struct {
				GitVersion string `json:"gitVersion"`
			}
			if body, err := p.httpGet(ctx, "admin", base+"/version"); err == nil && json.Unmarshal(body, &v) == nil {
				return "Kubernetes " + v.GitVersion, nil
			}
			return "Kubernetes", nil
		},
	}
}

func (p *Platform) controllerManagerService() *service {
	l := p.layout
	return &service{
		name:    "kube-controller-manager",
		program: "kube-controller-manager",
		marker:  l.kcmKubeconfig(),
		after:   "kube-apiserver",
		stopSig: syscall.SIGTERM,
		grace:   20 * time.Second,
		ports: func() []listener {
			return []listener{{"kube-controller-manager", p.state().Ports.ControllerManager}}
		},
		address: func() string { return loopback(p.state().Ports.ControllerManager) },
		prepare: func(context.Context) error {
			if err := os.MkdirAll(l.kubeDir(), 0o700); err != nil {
				return err
			}
			return writeKubeconfig(l, l.kcmKubeconfig(), "controller-manager", p.state().Ports.APIServer)
		},
		spec: func() procSpec {
			ports := p.state().Ports
			return procSpec{bin: p.bins.controllerManager, dir: l.kubeDir(), args: []string{
				"--kubeconfig=" + l.kcmKubeconfig(),
				"--authentication-kubeconfig=" + l.kcmKubeconfig(),
				"--authorization-kubeconfig=" + l.kcmKubeconfig(),
				"--bind-address=127.0.0.1",
				"--secure-port=" + strconv.Itoa(ports.ControllerManager),
				"--tls-cert-file=" + l.pkiFile("controller-manager-serving.crt"),
				"--tls-private-key-file=" + l.pkiFile("controller-manager-serving.key"),
				"--client-ca-file=" + l.pkiFile("ca.crt"),
				// The CA comes from the flag above; looking up the front-proxy
				// CA in kube-system (which we do not configure) only logs errors.
				"--authentication-skip-lookup",
				"--root-ca-file=" + l.pkiFile("ca.crt"),
				"--service-account-private-key-file=" + l.pkiFile("sa.key"),
				"--use-service-account-credentials=true",
				"--cluster-signing-cert-file=" + l.pkiFile("ca.crt"),
				"--cluster-signing-key-file=" + l.pkiFile("ca.key"),
				// One instance: without an election a restart does not wait
				// for the previous holder's lease to expire.
				"--leader-elect=false",
				"--profiling=false",
			}}
		},
		check: func(ctx context.Context) (string, error) {
			if _, err := p.httpGet(ctx, "controller-manager", "https://"+loopback(p.state().Ports.ControllerManager)+"/healthz"); err != nil {
				return "", err
			}
			// Healthy is not yet working: the default ServiceAccount appears
			// once the controllers run.
			url := "https://" + loopback(p.state().Ports.APIServer) + "/api/v1/namespaces/default/serviceaccounts/default"
			if _, err := p.httpGet(ctx, "admin", url); err != nil {
				return "", fmt.Errorf("controllers not running yet (no default ServiceAccount): %w", err)
			}
			return "controllers running", nil
		},
	}
}

// httpGet GETs url presenting the named client certificate and trusting
// only the platform CA; anything but 200 is an error.
func (p *Platform) httpGet(ctx context.Context, cert, url string) ([]byte, error) {
	tlsCfg, err := clientTLS(p.layout, cert)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, firstLine(string(body)))
	}
	return body, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// writeKubeconfig writes a kubeconfig for the named client certificate.
// It holds the private key: mode 0600.
func writeKubeconfig(l layout, path, cert string, port int) error {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(l.pkiFile(name))
		return base64.StdEncoding.EncodeToString(b), err
	}
	ca, err := read("ca.crt")
	if err != nil {
		return err
	}
	crt, err := read(cert + ".crt")
	if err != nil {
		return err
	}
	key, err := read(cert + ".key")
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tenantstack-dev
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: tenantstack-dev
  context:
    cluster: tenantstack-dev
    user: %s
current-context: tenantstack-dev
`, port, ca, cert, crt, key, cert)
	if b, err := os.ReadFile(path); err == nil && string(b) == cfg {
		return nil
	}
	return writeFileAtomic(path, []byte(cfg), 0o600)
}
