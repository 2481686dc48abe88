// Package cluster provides the Cluster component: the Kubernetes baseline that
// every other tenantstack component builds on, applied to a cluster that
// already exists.
//
// A Cluster creates (or adopts) the Kubernetes provider, the platform
// namespaces with their Pod Security labels, and the PriorityClasses that
// order platform workloads before tenant workloads. Other components receive
// the provider through pulumi.Provider(c.Provider) and the namespace and
// priority class names through its outputs, so they depend on the baseline
// being in place.
//
// Pod Security: platform namespaces enforce "baseline" and audit and warn at
// "restricted". Baseline refuses what a platform namespace never needs
// (privileged containers, host namespaces, hostPath volumes) without breaking
// agents that must run as root, while the restricted warnings show which
// workloads could be tightened. Tenant namespaces are not created here; the
// tenant component labels them "restricted" on all three modes.
//
// Render mode (ClusterArgs.RenderDir) writes the manifests to a directory for
// review instead of applying them, using the Kubernetes provider's
// renderYamlToDirectory option; no cluster is contacted.
package cluster
