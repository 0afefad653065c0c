# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes version a node runs: from the static pods' images, else from the binaries' ``--version``.

Standard library only; shipped with the ``node_facts`` module. A binary is run only when it exists on this node
and only with ``--version``; a failure is recorded, never raised.
"""

from __future__ import annotations

import re


_VERSION_RE = re.compile(r"v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)")
# what `kubelet --version` / `kube-apiserver --version` print; an interpreter's --version must not match
_BINARY_VERSION_RE = re.compile(r"Kubernetes v(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)")


def kubernetes_version(node, manifests, procs, from_binaries=True):
    """The Kubernetes version (and where it was read) and each component's."""
    components = {}
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "etcd"):
        for name, info in sorted(manifests["files"].items()):
            text = info.get("text") or ""
            match = re.search(r"image:\s*[\"']?\S*/%s:(v?[0-9][^\s\"'@]*)" % re.escape(comp), text)
            if match:
                components[comp] = {"version": match.group(1), "source": "manifest image %s" % info["path"]}
                break
    if from_binaries and node.run_command is not None:
        for comp in ("kubelet", "kube-apiserver"):
            if comp in components:
                continue
            # the running binary first (exe, else an absolute argv[0]); exe is an interpreter when the
            # component is a wrapper script, so every candidate is tried until one reports a version
            candidates = []
            for proc in procs.get(comp, []):
                if proc.get("exe") and not proc["exe"].endswith(" (deleted)"):
                    candidates.append(proc["exe"])
                if proc["argv"] and proc["argv"][0].startswith("/"):
                    candidates.append(proc["argv"][0])
            if comp == "kubelet":
                candidates.extend(c for c in ("/usr/bin/kubelet", "/usr/local/bin/kubelet") if node.exists(c))
            # a process of another mount namespace (a container on this host) names a path that may not
            # exist here: only run binaries this node has
            for binary in (c for c in dict.fromkeys(candidates) if node.exists(c)):
                try:
                    rc, out, err = node.run_command([binary, "--version"])
                except Exception as exc:  # pylint: disable=broad-except
                    node.error(binary, exc)
                    continue
                match = _BINARY_VERSION_RE.search((out or "") + " " + (err or "")) if rc == 0 else None
                if match:
                    components[comp] = {"version": "v" + match.group(1), "source": "%s --version" % binary}
                    break
    kube = None
    source = None
    for comp in ("kube-apiserver", "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
        if comp in components:
            match = _VERSION_RE.match(components[comp]["version"])
            if match:
                kube = match.group(1)
                source = "%s: %s" % (comp, components[comp]["source"])
                break
    return {"kubernetes": kube, "source": source, "components": components}
