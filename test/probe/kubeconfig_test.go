//go:build integration

package probe_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/random"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tenantstack/tenantstack/internal/probe"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// TestExecCredentialKubeconfig reads a kubeconfig whose user is an exec
// credential plugin (as EKS, GKE and AKS kubeconfigs are: here a small
// script that prints an ExecCredential holding a service account's token)
// and talks to the local API server with it: the server sees the service
// account, and a plugin printing a wrong token is refused.
func TestExecCredentialKubeconfig(t *testing.T) {
	p := newPlatform(t)
	ctx := t.Context()
	sa := "exec-plugin-" + strings.ToLower(random.UniqueId())
	base := "/api/v1/namespaces/default/serviceaccounts"
	if err := p.kube.Do(ctx, http.MethodPost, base, map[string]any{
		"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": sa},
	}, nil); err != nil {
		t.Fatalf("creating service account %s: %v", sa, err)
	}
	t.Cleanup(func() { p.kube.Do(ctx, http.MethodDelete, base+"/"+sa, nil, nil) }) //nolint:errcheck
	var tr struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := p.kube.Do(ctx, http.MethodPost, base+"/"+sa+"/token", map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": map[string]any{"expirationSeconds": 600},
	}, &tr); err != nil || tr.Status.Token == "" {
		t.Fatalf("requesting a token for %s: %v", sa, err)
	}

	admin, err := clientcmd.LoadFromFile(testenv.Platform(t).Kubernetes.Kubeconfig)
	if err == nil {
		err = clientcmd.ResolveLocalPaths(admin)
	}
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	dir := t.TempDir()
	kubeconfig := func(token string) string {
		plugin := filepath.Join(dir, "get-token-"+token[:8])
		script := "#!/bin/sh\nprintf '%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" + token + "\"}}'\n"
		if err := os.WriteFile(plugin, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["local"] = cluster
		cfg.AuthInfos["plugin"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
			APIVersion: "client.authentication.k8s.io/v1", Command: plugin, InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}}
		cfg.Contexts["plugin"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "plugin"}
		cfg.CurrentContext = "plugin"
		path := plugin + ".kubeconfig"
		if err := clientcmd.WriteToFile(*cfg, path); err != nil {
			t.Fatal(err)
		}
		return path
	}

	c, err := probe.LoadKubeconfig(kubeconfig(tr.Status.Token))
	if err != nil {
		t.Fatalf("a kubeconfig with an exec credential plugin: %v", err)
	}
	defer c.Close()
	var review struct {
		Status struct {
			UserInfo struct {
				Username string `json:"username"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	if err := c.Do(ctx, http.MethodPost, "/apis/authentication.k8s.io/v1/selfsubjectreviews", map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
	}, &review); err != nil {
		t.Fatalf("asking the API server who the plugin's user is: %v", err)
	}
	if want := "system:serviceaccount:default:" + sa; review.Status.UserInfo.Username != want {
		t.Errorf("the API server saw user %q, want %q (the plugin's token)", review.Status.UserInfo.Username, want)
	}

	wrong, err := probe.LoadKubeconfig(kubeconfig("not-a-valid-token"))
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	err = wrong.Do(ctx, http.MethodPost, "/apis/authentication.k8s.io/v1/selfsubjectreviews", map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
	}, nil)
	var ae *probe.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized {
		t.Errorf("a plugin printing a wrong token: %v, want a 401", err)
	}
}
