# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster audit's workload rules (CIS 5.2, 5.4.1, 5.6.2, 5.6.3 and the token mount of 5.1.6): which controllers
and bare pods are judged, and what their pod specs are found doing. Standard library only.
"""

from __future__ import annotations

import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_inventory import as_dict, as_list, metadata
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_rbac import sa_bindings
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cluster_rules import finding

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
                  "CronJob", "Pod")


def pod_spec(obj):
    kind = obj.get("kind")
    spec = as_dict(obj.get("spec"))
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return as_dict(as_dict(as_dict(as_dict(spec.get("jobTemplate")).get("spec")).get("template")).get("spec"))
    return as_dict(as_dict(spec.get("template")).get("spec"))


def workloads(inv, options):
    """The objects whose pod spec is judged: controllers and bare pods, each once. An object owned (directly or
    through its owners) by a judged controller is left out; when the owner is not in the input, a ReplicaSet/Job
    named ``<owner>-<suffix>`` links a pod to its Deployment/CronJob."""
    by_uid = {}
    by_name = {}
    for kind in WORKLOAD_KINDS:
        for obj in inv.get(kind):
            meta = metadata(obj)
            if meta.get("uid"):
                by_uid[meta["uid"]] = obj
            by_name[(kind, meta.get("namespace"), meta.get("name"))] = obj

    def owner_of(obj):
        meta = metadata(obj)
        for oref in as_list(meta.get("ownerReferences")):
            oref = as_dict(oref)
            if oref.get("kind") not in WORKLOAD_KINDS:
                continue
            owner = by_uid.get(oref.get("uid")) or by_name.get((oref.get("kind"), meta.get("namespace"),
                                                                oref.get("name")))
            if owner is not None:
                return owner
            parent = {"ReplicaSet": "Deployment", "Job": "CronJob"}.get(oref.get("kind"))
            if parent:
                stem = re.sub(r"-[a-z0-9]+$", "", str(oref.get("name")))
                owner = by_name.get((parent, meta.get("namespace"), stem))
                if owner is not None:
                    return owner
        return None

    out = []
    for kind in WORKLOAD_KINDS:
        for obj in inv.get(kind):
            if metadata(obj).get("namespace") in options["system_namespaces"]:
                continue
            if owner_of(obj) is not None:
                continue
            out.append(obj)
    return out


def containers(spec):
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for cont in as_list(spec.get(field)):
            if isinstance(cont, dict):
                yield cont


def _caps(sc):
    caps = as_dict(sc.get("capabilities"))
    return [str(c).upper() for c in as_list(caps.get("add"))], [str(c).upper() for c in as_list(caps.get("drop"))]


def _eff(csc, psc, key):
    """Container securityContext value, else the pod's."""
    return csc[key] if csc.get(key) is not None else psc.get(key)


def judge_pod_spec(obj, spec):
    meta = metadata(obj)
    kind, ns, name = obj.get("kind"), meta.get("namespace"), meta.get("name")
    out = []

    def add(rule, reason, container=None):
        out.append(finding(rule, kind, ns, name, reason, container=container))

    for field, rule in (("hostNetwork", "host_network"), ("hostPID", "host_pid"), ("hostIPC", "host_ipc")):
        if spec.get(field) is True:
            add(rule, "spec.%s is true" % field)
    for vol in as_list(spec.get("volumes")):
        if isinstance(vol, dict) and "hostPath" in vol:
            path = as_dict(vol.get("hostPath")).get("path")
            add("host_path_volumes", "volume %s mounts hostPath %s" % (vol.get("name"), path))
    psc = as_dict(spec.get("securityContext"))
    for cont in containers(spec):
        cname = cont.get("name")
        csc = as_dict(cont.get("securityContext"))
        if csc.get("privileged") is True:
            add("privileged_containers", "securityContext.privileged is true", cname)
        if csc.get("allowPrivilegeEscalation") is not False:
            add("privilege_escalation", "allowPrivilegeEscalation is %s" % (
                "unset (defaults to true)" if csc.get("allowPrivilegeEscalation") is None else "true"), cname)
        uid = _eff(csc, psc, "runAsUser")
        nonroot = _eff(csc, psc, "runAsNonRoot")
        if uid == 0 or str(uid) == "0":
            add("root_containers", "runAsUser is 0", cname)
        elif nonroot is not True and uid is None:
            add("root_containers", "neither runAsNonRoot true nor a non-zero runAsUser: runs as the image's user",
                cname)
        added, dropped = _caps(csc)
        if "NET_RAW" in added or "ALL" in added:
            add("net_raw_capability", "adds %s" % ("NET_RAW" if "NET_RAW" in added else "ALL"), cname)
        elif "ALL" not in dropped and "NET_RAW" not in dropped:
            add("net_raw_capability", "does not drop NET_RAW or ALL (the runtime grants NET_RAW by default)", cname)
        extra = [c for c in added if c not in ("NET_BIND_SERVICE",)]
        if extra or "ALL" not in dropped:
            why = []
            if extra:
                why.append("adds %s" % ", ".join(extra))
            if "ALL" not in dropped:
                why.append("does not drop ALL")
            add("added_capabilities", "; ".join(why), cname)
        if as_dict(_eff(csc, psc, "windowsOptions")).get("hostProcess") is True:
            add("windows_host_process", "windowsOptions.hostProcess is true", cname)
        for port in as_list(cont.get("ports")):
            if isinstance(port, dict) and port.get("hostPort"):
                add("host_ports", "hostPort %s" % port["hostPort"], cname)
        for env in as_list(cont.get("env")):
            skr = as_dict(as_dict(as_dict(env).get("valueFrom")).get("secretKeyRef"))
            if skr:
                add("secrets_as_env", "env %s from Secret %s key %s" % (env.get("name"), skr.get("name"),
                                                                        skr.get("key")), cname)
        for env_from in as_list(cont.get("envFrom")):
            sref = as_dict(as_dict(env_from).get("secretRef"))
            if sref:
                add("secrets_as_env", "envFrom Secret %s" % sref.get("name"), cname)
        profile = as_dict(csc.get("seccompProfile")) or as_dict(psc.get("seccompProfile"))
        ptype = profile.get("type")
        if ptype not in ("RuntimeDefault", "Localhost"):
            add("seccomp_profile", "seccompProfile is %s" % (ptype or "not set at pod or container level"), cname)
        if not csc and not psc:
            add("security_context", "neither the pod nor the container has a securityContext", cname)
    return out


def token_findings(inv, rbac, wl):
    sa_auto = {}
    for sa in inv.get("ServiceAccount"):
        meta = metadata(sa)
        sa_auto[(meta.get("namespace"), meta.get("name"))] = sa.get("automountServiceAccountToken")
    bound = sa_bindings(rbac)
    groups_bound = set(g.subject.get("name") for g in rbac.grants if g.subject.get("kind") == "Group")
    out = []
    for obj in wl:
        spec = pod_spec(obj)
        meta = metadata(obj)
        ns = meta.get("namespace")
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        mounted = spec.get("automountServiceAccountToken")
        if mounted is None:
            mounted = sa_auto.get((ns, sa))
        if mounted is False:
            continue
        if sa != "default" and (bound.get("%s/%s" % (ns, sa)) or groups_bound & {
                "system:serviceaccounts", "system:serviceaccounts:%s" % ns}):
            continue  # its service account has RBAC (directly or as a member of a group): it talks to the API
        if sa == "default":
            why = "runs as the default service account"
        else:
            why = "service account %s has no RoleBinding or ClusterRoleBinding" % sa
        out.append(finding("token_automount", obj.get("kind"), ns, meta.get("name"),
                           "mounts a service account token (automountServiceAccountToken not false) but %s" % why))
    return out
