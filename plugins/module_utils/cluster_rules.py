# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIS section-5 rules the cluster audit judges (their ids and what each expects) and the finding each reports.
Standard library only.
"""

from __future__ import annotations

import fnmatch

# CIS id -> (rule, what is expected). The catalog's section-5 checks name these rules.
RULES = {
    "cluster_admin_bindings": ("5.1.1", "only the break-glass subjects are bound to cluster-admin"),
    "secret_access": ("5.1.2", "no subject outside the system ones can get/list/watch secrets cluster-wide"),
    "wildcard_rules": ("5.1.3", "no Role or ClusterRole uses '*' in verbs, resources or apiGroups"),
    "pod_create_access": ("5.1.4", "no subject outside the system ones can create pods"),
    "default_service_accounts": ("5.1.5", "default service accounts have no bindings and "
                                          "automountServiceAccountToken false"),
    "token_automount": ("5.1.6", "workloads whose service account has no RBAC binding do not mount a token"),
    "rbac_escalation_verbs": ("5.1.8", "no subject outside the system ones has escalate, bind or impersonate"),
    "pv_create_access": ("5.1.9", "no subject outside the system ones can create persistentvolumes"),
    "node_proxy_access": ("5.1.10", "no subject outside the system ones can access nodes/proxy"),
    "csr_approval_access": ("5.1.11", "no subject outside the system ones can update certificatesigningrequests/"
                                      "approval"),
    "webhook_config_access": ("5.1.12", "no subject outside the system ones can change webhook configurations"),
    "sa_token_create_access": ("5.1.13", "no subject outside the system ones can create serviceaccounts/token"),
    "psa_enforce_labels": ("5.2.1", "every namespace has a pod-security.kubernetes.io/enforce label stricter "
                                    "than privileged"),
    "privileged_containers": ("5.2.2", "no container is privileged"),
    "host_pid": ("5.2.3", "no pod uses hostPID"),
    "host_ipc": ("5.2.4", "no pod uses hostIPC"),
    "host_network": ("5.2.5", "no pod uses hostNetwork"),
    "privilege_escalation": ("5.2.6", "every container sets allowPrivilegeEscalation false"),
    "root_containers": ("5.2.7", "every container runs as non-root (runAsNonRoot true or a non-zero runAsUser)"),
    "net_raw_capability": ("5.2.8", "every container drops NET_RAW (or ALL) and does not add it"),
    "added_capabilities": ("5.2.9", "every container drops ALL and adds nothing beyond NET_BIND_SERVICE"),
    "windows_host_process": ("5.2.10", "no Windows HostProcess container"),
    "host_path_volumes": ("5.2.11", "no pod mounts a hostPath volume"),
    "host_ports": ("5.2.12", "no container uses a hostPort"),
    "network_policies": ("5.3.2", "every namespace has at least one NetworkPolicy"),
    "secrets_as_env": ("5.4.1", "no container reads a Secret through env or envFrom"),
    "seccomp_profile": ("5.6.2", "every container runs with seccompProfile RuntimeDefault (or Localhost)"),
    "security_context": ("5.6.3", "every pod or container has a securityContext"),
    "default_namespace": ("5.6.4", "the default namespace holds only what Kubernetes creates there"),
}


def ref(kind, namespace, name, container=None):
    text = "%s/%s/%s" % (kind, namespace, name) if namespace else "%s/%s" % (kind, name)
    return text + (" container %s" % container if container else "")


def finding(rule, obj_kind, namespace, name, reason, container=None, subject=None):
    return {"id": RULES[rule][0], "rule": rule, "kind": obj_kind, "namespace": namespace, "name": name,
            "container": container, "subject": subject, "object": ref(obj_kind, namespace, name),
            "reason": reason}


def match_any(value, patterns):
    return any(fnmatch.fnmatchcase(str(value), str(pat)) for pat in patterns or [])
