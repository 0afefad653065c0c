"""The test node's stand-in for the kubelet's static-Pod handling, one module per part. The entry point and CLI is
static_pod_runner.py next to this package (see its docstring and tests/testbed/README.md, "The runner")."""
