//go:build tools

// Keeps kube-apiserver's packages in this module's graph, so go.sum pins all they need.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
