package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// kubeconfig is the part of a kubeconfig file the probes use: the current
// context's cluster and user, authenticated by client certificate or
// bearer token.
type kubeconfig struct {
	CurrentContext string `yaml:"current-context"`
	Clusters       []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server                   string `yaml:"server"`
			CertificateAuthority     string `yaml:"certificate-authority"`
			CertificateAuthorityData string `yaml:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
			TLSServerName            string `yaml:"tls-server-name"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			ClientCertificate     string `yaml:"client-certificate"`
			ClientCertificateData string `yaml:"client-certificate-data"`
			ClientKey             string `yaml:"client-key"`
			ClientKeyData         string `yaml:"client-key-data"`
			Token                 string `yaml:"token"`
			TokenFile             string `yaml:"tokenFile"`
		} `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
			User    string `yaml:"user"`
		} `yaml:"context"`
	} `yaml:"contexts"`
}

// KubeClient calls one Kubernetes API server as the current user of a
// kubeconfig, with net/http (no client-go). The probes use it for
// SubjectAccessReviews; tests use it to lay out namespaces.
type KubeClient struct {
	server string
	token  string
	http   *http.Client
}

// LoadKubeconfig returns a client for the current context of the
// kubeconfig at path. Relative file paths in it
// are relative to its directory, as kubectl reads them.
func LoadKubeconfig(path string) (*KubeClient, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	c, err := parseKubeconfig(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return c, nil
}

// parseKubeconfig builds a client for the current context of a kubeconfig
// whose relative paths are relative to dir.
func parseKubeconfig(data []byte, dir string) (*KubeClient, error) {
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %w", err)
	}
	if kc.CurrentContext == "" {
		return nil, errors.New("no current-context; select one with \"kubectl config use-context\"")
	}
	var clusterName, userName string
	found := false
	for _, c := range kc.Contexts {
		if c.Name == kc.CurrentContext {
			clusterName, userName, found = c.Context.Cluster, c.Context.User, true
		}
	}
	if !found {
		return nil, fmt.Errorf("current-context %q is not among its contexts", kc.CurrentContext)
	}
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	// inline returns the decoded data field, or the file's contents.
	inline := func(field, data, file string) ([]byte, error) {
		if data != "" {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
			if err != nil {
				return nil, fmt.Errorf("%s-data is not base64: %w", field, err)
			}
			return b, nil
		}
		if file == "" {
			return nil, nil
		}
		b, err := os.ReadFile(resolve(file))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		return b, nil
	}

	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	c := &KubeClient{}
	found = false
	for _, cl := range kc.Clusters {
		if cl.Name != clusterName {
			continue
		}
		found = true
		c.server = strings.TrimSuffix(cl.Cluster.Server, "/")
		ca, err := inline("certificate-authority", cl.Cluster.CertificateAuthorityData, cl.Cluster.CertificateAuthority)
		if err != nil {
			return nil, err
		}
		if len(ca) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return nil, fmt.Errorf("cluster %q: certificate-authority holds no PEM certificate", clusterName)
			}
			tlsCfg.RootCAs = pool
		}
		tlsCfg.InsecureSkipVerify = cl.Cluster.InsecureSkipTLSVerify //nolint:gosec // as the kubeconfig asks, like kubectl
		tlsCfg.ServerName = cl.Cluster.TLSServerName
	}
	if !found {
		return nil, fmt.Errorf("context %q names cluster %q, which it does not define", kc.CurrentContext, clusterName)
	}
	if c.server == "" {
		return nil, fmt.Errorf("cluster %q has no server", clusterName)
	}
	found = false
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		found = true
		cert, err := inline("client-certificate", u.User.ClientCertificateData, u.User.ClientCertificate)
		if err != nil {
			return nil, err
		}
		key, err := inline("client-key", u.User.ClientKeyData, u.User.ClientKey)
		if err != nil {
			return nil, err
		}
		switch {
		case len(cert) > 0 && len(key) > 0:
			pair, err := tls.X509KeyPair(cert, key)
			if err != nil {
				return nil, fmt.Errorf("user %q: client certificate and key: %w", userName, err)
			}
			tlsCfg.Certificates = []tls.Certificate{pair}
		case len(cert) > 0 || len(key) > 0:
			return nil, fmt.Errorf("user %q has a client certificate or key but not both", userName)
		}
		c.token = u.User.Token
		if c.token == "" && u.User.TokenFile != "" {
			b, err := os.ReadFile(resolve(u.User.TokenFile))
			if err != nil {
				return nil, fmt.Errorf("user %q: tokenFile: %w", userName, err)
			}
			c.token = strings.TrimSpace(string(b))
		}
		if len(tlsCfg.Certificates) == 0 && c.token == "" {
			return nil, fmt.Errorf("user %q has neither a client certificate nor a token", userName)
		}
	}
	if !found {
		return nil, fmt.Errorf("context %q names user %q, which it does not define", kc.CurrentContext, userName)
	}
	c.http = &http.Client{
		Transport: &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment},
		Timeout:   30 * time.Second,
	}
	return c, nil
}

// APIError is a response other than 2xx from the API server.
type APIError struct {
	Method, Path string
	StatusCode   int
	Message      string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// IsNotFound reports whether err is the API server's 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// Do sends in (if not nil) as JSON to the API path (e.g.
// "/api/v1/namespaces") and decodes a 2xx response into out (if not nil).
// Any other status is an *APIError.
func (c *KubeClient) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var st struct {
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &st) == nil && st.Message != "" {
			msg = st.Message
		}
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Message: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decoding the response: %w", method, path, err)
	}
	return nil
}

// Server is the API server's URL.
func (c *KubeClient) Server() string { return c.server }

// Close releases idle connections.
func (c *KubeClient) Close() { c.http.CloseIdleConnections() }
