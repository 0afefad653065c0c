#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cluster_audit
short_description: Judge the CIS Kubernetes Benchmark section 5 (policies) on a cluster's API objects
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Reads a cluster's objects, either from a dump directory (O(dump_dir), what C(kubectl get <kinds> -A -o json)
    writes) or as already fetched (O(objects), for example the registered result of C(kubernetes.core.k8s_info)),
    and judges the CIS section 5 recommendations the catalog maps to a cluster rule - RBAC (cluster-admin
    bindings, secret readers, wildcards, pod creators, default service accounts, escalate/bind/impersonate and
    the other sensitive permissions, resolved through every binding and role, group subjects included),
    workloads (pod templates of controllers and bare pods, each once), namespaces (Pod Security Admission
    labels, NetworkPolicies) and the default namespace.
  - The result is the evaluation of a pseudo-host named O(cluster_name), in the shape
    M(secure_cluster.k8s.cis_audit) returns for a node, so M(secure_cluster.k8s.cis_report) writes
    C(<cluster_name>.json), C(<cluster_name>.junit.xml) and includes it in C(summary.md).
  - A recommendation with findings is C(FAIL), without findings C(PASS), and stays C(scored=false) as the
    benchmark says; with O(fail_on=scored) these failures therefore do not count, with V(any) they do.
    Recommendations without a rule (human reviews) are C(WARN). Waivers work as for the node audit.
  - Runs on the controller only and never opens a connection; fetching the objects online is the caller's job
    (see C(playbooks/cluster_audit.yml)).
  - The gate (O(fail_on), O(max_failures)) fails the task when the cluster has more failures than allowed.
options:
  dump_dir:
    description:
      - Directory of C(*.json) (and C(*.yaml)/C(*.yml)) files, each a kubectl List or a single object. A file
        named after a resource (C(networkpolicies.json)) tells which kind an empty List is for; the output of
        C(kubectl version -o json) is read for the Kubernetes version.
      - Exactly one of O(dump_dir) and O(objects) is required.
    type: path
  objects:
    description:
      - The objects, as a dict of kind (V(Pod), V(pods)) to a list of objects or to a C(kubernetes.core.k8s_info)
        result; or the registered result of a C(kubernetes.core.k8s_info) loop over kinds (its C(results), each
        with C(item) naming the kind); or a list of objects or kubectl Lists.
    type: raw
  cluster_name:
    description: Name of the pseudo-host in the results and of the report files.
    type: str
    default: cluster
  kubernetes_version:
    description: The cluster's version; by default the API server's (C(kubectl version -o json) in the dump) or
      the control-plane kubelet's from the Node objects.
    type: str
  break_glass:
    description:
      - Subjects allowed to be bound to cluster-admin (5.1.1), as C(Kind:name) (C(ServiceAccount:namespace/name));
        shell patterns. They are trusted by the other RBAC rules too.
      - Default V(Group:system:masters) and V(Group:kubeadm:cluster-admins) (what kubeadm binds).
    type: list
    elements: str
  system_namespaces:
    description:
      - Namespaces of the platform, default V(kube-system), V(kube-public), V(kube-node-lease). Their workloads,
        default service accounts and namespace labels are not judged, and their service accounts count as system
        subjects for the RBAC rules (not for 5.1.1).
    type: list
    elements: str
  trusted_groups:
    description:
      - Groups that are Kubernetes' or kubeadm's own identities (default V(system:masters), V(system:nodes),
        V(system:bootstrappers), V(system:bootstrappers:*), V(kubeadm:cluster-admins), V(system:monitoring)).
        V(system:authenticated), V(system:unauthenticated) and V(system:serviceaccounts[:ns]) are never trusted.
    type: list
    elements: str
  trusted_subjects:
    description: More subjects (C(Kind:name) patterns) the RBAC rules other than 5.1.1 accept, such as a CI deployer.
    type: list
    elements: str
  default_namespace_allowed:
    description: Objects (C(Kind/name) patterns) allowed in the default namespace; default what Kubernetes creates.
    type: list
    elements: str
  exemptions:
    description:
      - Accepted findings, each with C(id) (CIS id or section), C(object) (pattern on the object reference such
        as C(DaemonSet/monitoring/node-exporter), or the subject such as C(Group:ops)) and C(reason). Exempted
        findings are listed but do not fail the recommendation. For a whole recommendation use O(waivers).
    type: list
    elements: dict
  benchmark:
    description:
      - V(auto) chooses from the cluster's Kubernetes version (O(kubernetes_version), else the one read from the
        input) as M(secure_cluster.k8s.cis_audit) does for a node; without a version, the newest benchmark, and
        the result's C(messages) say so.
      - A benchmark id such as V(cis-1.11) selects C(catalog/cis_kubernetes_v1.11.yml) of this collection.
    type: str
    default: auto
  catalog:
    description: Path to a catalog file on the controller, instead of the collection's catalog.
    type: path
  ids:
    description: Report only these recommendations or sections.
    type: list
    elements: str
    default: []
  waivers:
    description:
      - The node audit's waivers (C(id), C(reason), C(expires), C(hosts)); C(hosts) is matched with
        O(cluster_name). An expired waiver counts as C(FAIL).
    type: list
    elements: raw
    default: []
extends_documentation_fragment:
  - secure_cluster.k8s.cis_selection
  - secure_cluster.k8s.cis_selection.gate
  - secure_cluster.k8s.attributes.READ_ONLY
  - secure_cluster.k8s.attributes.CONTROLLER
notes:
  - Dump command for an auditor (read-only credentials suffice; Secrets are not needed and not read), see
    C(docs/cluster-audit.md)
    C(for r in namespaces nodes serviceaccounts clusterroles clusterrolebindings roles rolebindings pods deployments
    replicasets statefulsets daemonsets jobs cronjobs replicationcontrollers networkpolicies services configmaps
    endpoints; do kubectl get $r -A -o json > dump/$r.json; done; kubectl version -o json > dump/version.json).
seealso:
  - module: secure_cluster.k8s.cis_audit
  - module: secure_cluster.k8s.cis_report
  - name: CIS Kubernetes Benchmark section 5
    description: The recommendations judged here.
    link: https://www.cisecurity.org/benchmark/kubernetes
"""

EXAMPLES = r"""
- name: Judge a dump an auditor brought
  secure_cluster.k8s.cluster_audit:
    dump_dir: /srv/audit/prod-dump
    cluster_name: prod
    break_glass: ["Group:system:masters", "Group:kubeadm:cluster-admins", "Group:platform-oncall"]
    waivers:
      - id: "5.2.5"
        reason: node-exporter needs the host network (ticket SEC-42)
        expires: "2027-03-31"
  register: cluster

- name: Online - fetch with k8s_info, then judge
  kubernetes.core.k8s_info:
    kind: "{{ item }}"
    kubeconfig: ~/.kube/audit.conf
  loop: [Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding, Pod, Deployment,
         ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, NetworkPolicy]
  register: fetched

- name: Judge what was fetched
  secure_cluster.k8s.cluster_audit:
    objects: "{{ fetched }}"
    cluster_name: prod
  register: cluster

- name: Reports next to the node audit's
  secure_cluster.k8s.cis_report:
    results: "{{ {'prod': cluster} }}"
    report_dir: reports
"""

RETURN = r"""
cis:
  description:
    - The evaluation of the pseudo-host, as RV(secure_cluster.k8s.cis_audit#module:cis) (C(host) is
      O(cluster_name), C(node.targets) is V([policies])). A judged control has C(findings) (and C(exempted)).
  returned: success
  type: dict
findings:
  description:
    - Every finding, each with C(id) (CIS id), C(rule), C(kind), C(namespace), C(name), C(container),
      C(subject) (RBAC rules), C(object) (C(Kind/namespace/name)) and C(reason).
  returned: success
  type: list
  elements: dict
inventory:
  description: Number of objects read per kind.
  returned: success
  type: dict
gate:
  description: C(passed) and C(msg) of the O(fail_on) threshold.
  returned: success
  type: dict
msg:
  description: One-line summary.
  returned: always
  type: str
"""
