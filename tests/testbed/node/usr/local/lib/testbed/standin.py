#!/usr/bin/env python
"""Stand-ins for kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy and the kubelet.

No Kubernetes binary can be obtained on the machines the secure_cluster.k8s tests run on, yet the roles must be
tested against nodes that FAIL the way real nodes fail when a hardening change is wrong. These stand-ins do not
implement Kubernetes (no API, no storage, no scheduling, no pods): they reproduce the start-up validation and the
serving behaviour that hardening changes can break:

* the command line is parsed like spf13/pflag and checked against the flags the real component of the node's
  version accepts (k8s_flags.flags_for); unknown flags and malformed typed values exit 1 with pflag's messages;
* every file named by a flag or a config file is opened as the real binary would open it, inside the pod's mounts
  (env TESTBED_MOUNTS, set by static_pod_runner.py): certificates and keys must load, CAs must parse, structured
  files (audit policy, EncryptionConfiguration, AdmissionConfiguration, kubeconfigs, KubeletConfiguration,
  KubeProxyConfiguration, KubeSchedulerConfiguration) are decoded and validated;
* the components serve HTTPS with the configured certificate, TLS version and cipher suites and answer
  /livez /readyz /healthz /version (and a little more) with the authentication behaviour that decides whether
  kubeadm's probes pass (e.g. --anonymous-auth=false makes the apiserver answer 401);
* the kubelet refuses to start when protectKernelDefaults is true and the kernel tunables differ.

The component is chosen from argv[0] (launchers in /usr/local/bin and /usr/bin) or, when this file is run
directly, from the first argument: `standin.py kube-apiserver --flags...`.

This file is only the entry point (its path is what /proc/PID/cmdline shows after the binary's). The code is in
the package next to it, one module per component on a shared core:

  standins/core.py               klog logging, start-up errors, node version, k8s_flags, Go value parsers
  standins/flagset.py            pflag command-line parsing and refusals
  standins/files.py              the pod's mounts, PEM/certificate/key checks
  standins/configs.py            YAML/JSON decoding, TypeMeta, strict fields, kubeconfigs
  standins/apiserver_configs.py  audit policy, EncryptionConfiguration, AdmissionConfiguration
  standins/serving.py            TLS settings, HTTP(S) serving, health/version/pprof answers
  standins/component.py          the base component, and the delegated-auth base of controller-manager/scheduler
  standins/apiserver.py, controller_manager.py, scheduler.py, kube_proxy.py, kubelet.py   the five components

Environment (all optional; the defaults are the test node's paths):
  TESTBED_VERSION_FILE   version of the node, default /etc/testbed/version (e.g. "1.33.5")
  TESTBED_K8S_FLAGS      path of the k8s_flags.py module to use (default: next to this file, else the repo copy)
  TESTBED_MOUNTS         JSON list of {"mountPath","hostPath","readOnly"}; when set, files outside are invisible
  TESTBED_POD            name of the static pod (informational)
  TESTBED_SYSCTL_ROOT    root of the sysctl tree the kubelet checks, default /proc/sys
  TESTBED_NODE_IP_FILE   node IP, default /etc/testbed/node-ip
  TESTBED_ETCD_HEALTH_CACHE  seconds the apiserver caches the etcd health result (default 1)
  TESTBED_KUBELET_STRICT_CONFIG=1  make unknown KubeletConfiguration fields fatal (the real kubelet only warns)
"""

from __future__ import annotations

import os
import sys

from standins.apiserver import APIServer
from standins.controller_manager import ControllerManager
from standins.core import COMPONENTS, klog, load_k8s_flags, read_version, StandinError
from standins.kube_proxy import KubeProxy
from standins.kubelet import Kubelet
from standins.scheduler import Scheduler

CLASSES = {"kube-apiserver": APIServer, "kube-controller-manager": ControllerManager, "kube-scheduler": Scheduler,
           "kube-proxy": KubeProxy, "kubelet": Kubelet}


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    component = os.path.basename(argv[0])
    args = argv[1:]
    if component not in COMPONENTS:
        if args and args[0] in COMPONENTS:
            component, args = args[0], args[1:]
        else:
            sys.stderr.write("usage: standin.py {" + ",".join(COMPONENTS) + "} [flags...]\n")
            return 2
    _set_process_name(component)
    try:
        version = read_version()
        k8s_flags = load_k8s_flags()
        instance = CLASSES[component](version, k8s_flags)
    except StandinError as exc:
        klog("E", exc.where, exc.msg, err=exc.message)
        return 1
    return instance.run(args)


def _process_argv0():
    """argv[0] as the kernel recorded it: the launcher re-executes us with the binary's path there."""
    try:
        with open("/proc/self/cmdline", "rb") as handle:
            return handle.read().split(b"\0", 1)[0].decode()
    except OSError:
        return sys.argv[0]


def _set_process_name(component):
    """Name the process like the real binary (comm is what `ps -C`/`pgrep` match; 15 characters at most)."""
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, component.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main([_process_argv0()] + sys.argv[1:]))
