"""The test node's generator of what kubeadm writes, one module per kind of file. The entry point is node_init.py
next to this package (see its docstring and tests/testbed/README.md, "What init creates")."""
