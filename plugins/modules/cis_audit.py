#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cis_audit
short_description: Judge a Kubernetes node against the CIS Kubernetes Benchmark in one round trip
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Runs M(secure_cluster.k8s.node_facts) once on the target (read-only), then evaluates every recommendation of
    the CIS Kubernetes Benchmark catalog kept as data in this collection (C(catalog/cis_kubernetes_v*.yml))
    on the controller, and returns one result per recommendation.
  - By default (O(benchmark=auto)) each host is judged against the benchmark kube-bench would run for its
    Kubernetes version (C(catalog/benchmarks.yml)), read from the facts just collected, so a fleet of mixed
    versions is judged per host; see O(benchmark).
  - Verdicts follow kube-bench, so a report agrees with kube-bench on the same node. C(PASS); C(FAIL) for a
    failing scored check; C(WARN) for a failing unscored check, a manual recommendation, or one that cannot be
    judged on this node; C(INFO) for an explicitly selected recommendation whose target is not on this node;
    C(WAIVED) for a failure covered by a waiver. An expired waiver counts as C(FAIL).
  - Both the running state (the process's command line) and the configured state (static pod manifest, or the
    command line the kubelet's systemd unit starts) are judged; when they differ the result says so (drift).
  - On a node C(kubeadm) set up, a third state is judged, what the next C(kubeadm upgrade) would write. kubeadm
    regenerates the control-plane static pod manifests from its own defaults (those of the node's release, read
    from the real kubeadm) and the C(extraArgs)/C(extraVolumes) of the C(kube-system/kubeadm-config)
    ClusterConfiguration, and the kubelet's C(/var/lib/kubelet/config.yaml) from the C(kube-system/kubelet-config)
    ConfigMap. A recommendation that passes now and would fail then is marked C(upgrade_drift) ("will drift on
    upgrade"); its verdict stays kube-bench's. See O(kubeadm_upgrade).
  - Where kube-bench's verdict is known to be wrong, a named rule gives the right one (O(deviations)) for a
    structured C(--authorization-config) or C(--authentication-config) of the API server, the kubelet's
    C(--config-dir) drop-ins, the etcd files on a control-plane node without etcd, and the config file of a
    kubelet started without one. Every result carries
    C(kube_bench_status) (what kube-bench says on this node) beside C(status); they differ only where a rule
    fired, and the result's C(deviation) names the rule and says why.
  - Only recommendations whose target (master, etcd, controlplane, node, policies) is present on the node are
    reported, unless O(targets) or O(ids) says otherwise.
  - This is an action plugin; the evaluation needs PyYAML on the controller, nothing but Python on the target.
  - The gate (O(fail_on), O(max_failures)) fails the host when it has more failures than allowed.
options:
  benchmark:
    description:
      - V(auto) chooses per host from its Kubernetes version as kube-bench does (C(catalog/benchmarks.yml)),
        1.28 V(cis-1.10), 1.29 to 1.31 V(cis-1.11), 1.32 and 1.33 V(cis-1.12), 1.34 and 1.35 V(cis-2.0); a newer
        minor takes the newest benchmark mapped at or below it. A host whose version cannot be read is judged
        against the newest benchmark, one older than 1.28 against V(cis-1.10); the result's C(messages) say so.
      - A benchmark id such as V(cis-1.11) forces C(catalog/cis_kubernetes_v1.11.yml) on every host.
    type: str
    default: auto
  catalog:
    description:
      - Path to a catalog file on the controller, instead of the collection's catalog for O(benchmark) (which is
        then ignored). It may be an overlay (C(based_on)) of a catalog beside it or of the collection's.
    type: path
  ids:
    description:
      - Report only these recommendations. A section id (V(1.2)) selects every recommendation in it.
      - A selected recommendation whose target is not on this node is reported as C(INFO).
    type: list
    elements: str
    default: []
  targets:
    description:
      - kube-bench targets to judge (V(master), V(etcd), V(controlplane), V(node), V(policies)).
      - By default they are detected from the node (a node with a kubelet is V(node), with an API server
        V(master), V(controlplane) and V(policies), with etcd V(etcd)).
    type: list
    elements: str
  include_policies:
    description:
      - Whether to report the section 5 policy recommendations on control-plane nodes when O(targets) is not
        given. They are judged on the cluster's API objects, so a node audit reports them as C(WARN).
    type: bool
    default: true
  waivers:
    description:
      - Accepted deviations. Each is a dict with C(id) (a recommendation or section id), C(reason),
        C(expires) (V(YYYY-MM-DD), valid through that day; omit for no expiry) and optionally C(hosts)
        (inventory host names or shell patterns it applies to).
      - A waiver for an unknown id, or without reason, or with an invalid date is ignored with a message in
        RV(cis.messages).
    type: list
    elements: raw
    default: []
  report_dir:
    description:
      - Directory on the controller to write C(<host>.json) (kube-bench JSON shape) and C(<host>.junit.xml) to.
      - Not written when omitted.
    type: path
  sysctls:
    description: Kernel parameters for M(secure_cluster.k8s.node_facts) to read instead of its default list.
    type: list
    elements: str
  kubeadm_upgrade:
    description:
      - Read the kubeadm ConfigMaps on the node (M(secure_cluster.k8s.node_facts) O(secure_cluster.k8s.node_facts#module:kubeadm_config))
        and judge what the next C(kubeadm upgrade) would leave (RV(cis.upgrade_drift)).
      - Needs C(kubectl) on the node and a working API server; when either is missing the audit says so in
        RV(cis.messages) and judges the rest as before.
    type: bool
    default: true
  deviations:
    description:
      - Apply the rules where this audit's verdict differs from kube-bench's (structured authorization and
        authentication configuration, kubelet config drop-ins, etcd files on a node without etcd, the config file
        of a kubelet started without one; the list is in
        the collection's C(docs/audit.md)).
      - V(false) keeps kube-bench's verdict everywhere; each result's C(deviation) still says what a rule would
        have decided (C(applied) false).
    type: bool
    default: true
extends_documentation_fragment:
  - secure_cluster.k8s.cis_selection
  - secure_cluster.k8s.cis_selection.gate
  - secure_cluster.k8s.attributes.READ_ONLY
attributes:
  action:
    support: full
    description: Runs on the controller apart from one read-only module call on the target.
  platform:
    support: full
    platforms: posix
    description: Targets are Linux Kubernetes nodes.
seealso:
  - module: secure_cluster.k8s.node_facts
  - name: kube-bench
    description: The scanner whose verdict semantics this audit follows.
    link: https://github.com/aquasecurity/kube-bench
"""

EXAMPLES = r"""
- name: Audit every node against CIS Kubernetes Benchmark v1.12, level 1
  secure_cluster.k8s.cis_audit:
    level: 1
    report_dir: "{{ playbook_dir }}/reports"
    waivers:
      - id: "1.2.5"
        reason: Kubelet serving certificates are not signed by the cluster CA yet (ticket SEC-123)
        expires: "2026-09-30"
  become: true
  register: audit

- name: Only the API server and kubelet recommendations, failing on any scored failure
  secure_cluster.k8s.cis_audit:
    ids: ["1.2", "4.2"]
    fail_on: scored
  become: true
"""

RETURN = r"""
cis:
  description: The evaluation of this host.
  returned: success
  type: dict
  contains:
    host:
      description: Inventory host name.
      type: str
    benchmark:
      description: C(id), C(name), C(version), C(targets) and C(sections) of the catalog this host was judged
        against.
      type: dict
    node:
      description: C(hostname), C(kubernetes_version), C(detected_targets) and the C(targets) judged.
      type: dict
    level:
      description: The level reported.
      type: int
    controls:
      description:
        - One result per recommendation, in id order, with C(id), C(section), C(title), C(level), C(type)
          (automated or manual), C(automated), C(scored), C(target), C(status), C(expected), C(actual)
          (C(running) and C(configured)), C(sources), C(drift), C(upgrade_drift), C(reason), C(remediation), C(remediated_by)
          (C(role) and C(var) of this collection, or null), C(waiver) and, when waived or failed by an expired
          waiver, C(underlying_status).
        - C(kube_bench_status) is the verdict kube-bench gives on this node (before waivers). C(deviation) is
          null, or where a rule of O(deviations) disagrees with kube-bench C(rule) (its name), C(why), C(issues)
          (kube-bench issues), C(status) (the rule's verdict) and C(applied) (whether C(status) is the rule's).
      type: list
      elements: dict
    totals:
      description: Counts by status (C(pass), C(fail), C(warn), C(info), C(waived)) and C(total).
      type: dict
    failed:
      description: Ids with status C(FAIL).
      type: list
      elements: str
    drift:
      description: Ids whose configured and running states differ.
      type: list
      elements: str
    upgrade_drift:
      description: Ids that pass now and that the next C(kubeadm upgrade) would make fail (will drift on upgrade).
      type: list
      elements: str
    deviations:
      description: Ids whose status is a deviation rule's rather than kube-bench's.
      type: list
      elements: str
    deviations_enabled:
      description: The value of O(deviations).
      type: bool
    upgrade:
      description:
        - What the next C(kubeadm upgrade) would write. C(judged) (false on a node kubeadm did not set up, or when
          its ConfigMaps could not be read, C(why)), C(kubeadm_minor) (whose defaults were used),
          C(kubelet_config) (where the kubelet's config file comes from, or null), and per static pod component
          C(args) (C([flag, value]) as kubeadm would write them), C(lost), C(added) (flag names), C(changed)
          (C([flag, now, after])) and C(lost_volumes) (C([name, hostPath, mountPath])).
      type: dict
    messages:
      description: Notes about the node or the input (unknown waiver ids, unparsable manifests, ...).
      type: list
      elements: str
collector:
  description: Timing (C(wall_seconds), C(cpu_seconds)) and non-fatal C(errors) of the fact collection.
  returned: success
  type: dict
report_files:
  description: Paths of the reports written (C(json), C(junit)) when O(report_dir) is set.
  returned: when report_dir is set
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
