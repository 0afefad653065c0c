#!/usr/bin/env python
"""Entry point of the stand-in binaries (/usr/local/bin/kube-*, /usr/bin/kubelet link here).

It re-executes the interpreter with argv[0] set to the binary's path, so /proc/PID/cmdline starts with
`/usr/local/bin/kube-apiserver` as it does for the real binary (ps, pgrep and kube-bench-style process matching
look there), and sys.path is kept so the re-executed interpreter finds the same modules (PyYAML) as this one.
"""
import os
import sys

here = os.path.dirname(os.path.realpath(__file__))
for lib in (os.environ.get("TESTBED_LIB_DIR", ""), here, "/usr/local/lib/testbed"):
    if lib and os.path.isfile(os.path.join(lib, "standin.py")):
        standin_file = os.path.join(os.path.abspath(lib), "standin.py")
        break
else:
    sys.exit("testbed: standin.py not found")

env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
os.execve(sys.executable, [os.path.abspath(sys.argv[0]), standin_file] + sys.argv[1:], env)
