//go:build tools

// Package kube pins the Kubernetes control-plane binaries that the local
// platform runs: kube-apiserver, kube-controller-manager and kubectl.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
