// Package tools holds the offline toolchain's build: build.sh, and one Go
// module per tool family (etcd, kube, pulumi, kubernetes) that pins the exact
// versions it builds from. This package itself only carries the test that
// guards build.sh's downloads on a machine with an empty module cache.
package tools
