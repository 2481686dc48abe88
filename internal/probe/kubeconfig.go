package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	// The oidc auth provider of older kubeconfigs; exec credential
	// plugins need no import.
	_ "k8s.io/client-go/plugin/pkg/client/auth/oidc"
)

// KubeClient calls one Kubernetes API server as the current user of a
// kubeconfig. The kubeconfig is read by client-go, as kubectl reads it:
// contexts, client certificates, tokens and token files, exec credential
// plugins (EKS, GKE, AKS), the oidc auth provider, proxy-url and the
// proxy environment all work. The probes use it for SubjectAccessReviews;
// tests use it to lay out namespaces.
type KubeClient struct {
	server string
	http   *http.Client
}

// LoadKubeconfig returns a client for the current context of the
// kubeconfig at path. Relative file paths in it are relative to its
// directory, as kubectl reads them.
func LoadKubeconfig(path string) (*KubeClient, error) {
	return LoadKubeconfigContext(path, "")
}

// LoadKubeconfigContext is LoadKubeconfig for a named context ("" for the
// current one).
func LoadKubeconfigContext(path, context string) (*KubeClient, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	c, err := parseKubeconfig(data, filepath.Dir(path), context)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return c, nil
}

// parseKubeconfig builds a client for a context (the current one when
// context is "") of a kubeconfig whose relative paths are relative to dir.
func parseKubeconfig(data []byte, dir, context string) (*KubeClient, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %w", err)
	}
	origin := filepath.Join(dir, "kubeconfig")
	for _, c := range cfg.Clusters {
		c.LocationOfOrigin = origin
	}
	for _, a := range cfg.AuthInfos {
		a.LocationOfOrigin = origin
	}
	if err := clientcmd.ResolveLocalPaths(cfg); err != nil {
		return nil, err
	}
	if context == "" && cfg.CurrentContext == "" {
		return nil, errors.New("no current-context; select one with \"kubectl config use-context\"")
	}
	// client-go says little when a context names what the file lacks.
	name := context
	if name == "" {
		name = cfg.CurrentContext
	}
	ctx, ok := cfg.Contexts[name]
	switch {
	case !ok && context == "":
		return nil, fmt.Errorf("current-context %q is not among its contexts", name)
	case !ok:
		return nil, fmt.Errorf("context %q is not among its contexts", name)
	case cfg.Clusters[ctx.Cluster] == nil:
		return nil, fmt.Errorf("context %q names cluster %q, which it does not define", name, ctx.Cluster)
	case cfg.AuthInfos[ctx.AuthInfo] == nil:
		return nil, fmt.Errorf("context %q names user %q, which it does not define", name, ctx.AuthInfo)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, err
	}
	rc.Timeout = 30 * time.Second
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, err
	}
	u, _, err := rest.DefaultServerUrlFor(rc)
	if err != nil {
		return nil, err
	}
	return &KubeClient{server: strings.TrimSuffix(u.String(), "/"), http: hc}, nil
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
