"""The test node's stand-ins for kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy and the kubelet,
one module per component on a shared core. The entry point is standin.py next to this package (see its docstring
and tests/testbed/README.md, "The stand-ins")."""
