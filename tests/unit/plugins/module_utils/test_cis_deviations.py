# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deviation rules of cis_deviations, judged on fake kubeadm nodes collected like real ones."""

from __future__ import annotations

import datetime
import os
import shutil

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_deviations, cis_report
from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils import kubeadm_node

CATALOG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "catalog", "cis_kubernetes_v1.12.yml")
AUTHZ_HOST_DIR = "/etc/kubernetes/authz"

AUTHZ_NODE_RBAC = """apiVersion: apiserver.config.k8s.io/v1
kind: AuthorizationConfiguration
authorizers:
  - type: Node
    name: node
  - type: RBAC
    name: rbac
"""

AUTHZ_WEBHOOK_ONLY = """apiVersion: apiserver.config.k8s.io/v1
kind: AuthorizationConfiguration
authorizers:
  - type: Webhook
    name: corp-authz
    webhook:
      timeout: 3s
      subjectAccessReviewVersion: v1
      matchConditionSubjectAccessReviewVersion: v1
      failurePolicy: Deny
      connectionInfo:
        type: KubeConfigFile
        kubeConfigFile: /etc/kubernetes/authz/webhook.kubeconfig
      matchConditions:
      - expression: has(request.resourceAttributes)
"""

AUTHZ_ALWAYS_ALLOW = """{"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AuthorizationConfiguration",
 "authorizers": [{"type": "Node", "name": "node"}, {"type": "AlwaysAllow", "name": "open"}]}
"""

AUTHN_ANONYMOUS_OFF = """apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
anonymous:
  enabled: false
"""

AUTHN_ANONYMOUS_HEALTH = """apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
anonymous:
  enabled: true
  conditions:
  - path: /livez
  - path: /readyz
"""

AUTHN_JWT_ONLY = """apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: https://issuer.example.com
    audiences:
    - kubernetes
  claimMappings:
    username:
      claim: sub
      prefix: ""
"""


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_PATH) as handle:
        return yaml.safe_load(handle)


def run(root, catalog, **kwargs):
    kwargs.setdefault("parse_yaml", yaml.safe_load)
    kwargs.setdefault("today", datetime.date(2026, 6, 1))
    return evaluate(collect(root=str(root)), catalog, host="cp1", **kwargs)


def by_id(result):
    return dict((c["id"], c) for c in result["controls"])


def set_apiserver(root, drop=(), add=(), files=None):
    """Rewrite the API server's manifest and running argv; ``files`` are written under AUTHZ_HOST_DIR on the host,
    which the manifest mounts at /authz in the container (the flags name the container paths)."""
    prefixes = tuple("--%s=" % flag for flag in drop)
    argv = [a for a in kubeadm_node.APISERVER_ARGS if not a.startswith(prefixes)] + list(add)
    text = kubeadm_node.manifest(
        "kube-apiserver", argv, "registry.k8s.io/kube-apiserver:%s" % kubeadm_node.VERSION,
        [("ca-certs", "/etc/ssl/certs"), ("k8s-certs", "/etc/kubernetes/pki"), ("authz", AUTHZ_HOST_DIR)])
    text = text.replace("- mountPath: %s\n" % AUTHZ_HOST_DIR, "- mountPath: /authz\n")
    kubeadm_node.write(root, "/etc/kubernetes/manifests/kube-apiserver.yaml", text, 0o600)
    kubeadm_node.add_process(root, 2101, argv)
    for name, content in (files or {}).items():
        kubeadm_node.write(root, "%s/%s" % (AUTHZ_HOST_DIR, name), content, 0o600)


def authz_node(root, config):
    kubeadm_node.build_node(root)
    set_apiserver(root, drop=["authorization-mode"], add=["--authorization-config=/authz/authz.yaml"],
                  files={"authz.yaml": config})


# ---------------------------------------------------------------------------------------------------------------
# without a rule firing nothing changes
# ---------------------------------------------------------------------------------------------------------------
def test_fresh_kubeadm_node_agrees_with_kube_bench(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path)
    result = run(tmp_path, catalog)
    assert result["deviations"] == [] and result["deviations_enabled"] is True
    for ctl in result["controls"]:
        assert ctl["status"] == ctl["kube_bench_status"], ctl["id"]
        assert ctl["deviation"] is None, ctl["id"]


def test_rules_are_documented_and_keyed_by_catalog_ids(catalog):
    known = set(c["id"] for c in catalog["controls"])
    names = [rule.name for rule in cis_deviations.RULES]
    assert len(names) == len(set(names))
    for rule in cis_deviations.RULES:
        assert rule.why and rule.condition
        assert all(any(k == i or k.startswith(i + ".") for k in known) for i in rule.ids), rule.name
    docs = os.path.join(os.path.dirname(CATALOG_PATH), "..", "docs", "audit.md")
    with open(docs) as handle:
        text = handle.read()
    for rule in cis_deviations.RULES:
        assert "`%s`" % rule.name in text


# ---------------------------------------------------------------------------------------------------------------
# structured authorization
# ---------------------------------------------------------------------------------------------------------------
def test_authorization_config_node_and_rbac_passes(tmp_path, catalog):
    authz_node(tmp_path, AUTHZ_NODE_RBAC)
    result = run(tmp_path, catalog)
    ctls = by_id(result)
    for cid in ("1.2.6", "1.2.7", "1.2.8"):
        assert ctls[cid]["status"] == "PASS", ctls[cid]
        assert ctls[cid]["kube_bench_status"] == "FAIL"
        assert ctls[cid]["deviation"]["rule"] == "structured-authorization"
        assert ctls[cid]["deviation"]["applied"] is True
        assert "/authz/authz.yaml" in ctls[cid]["actual"]["configured"]
    assert set(["1.2.6", "1.2.7", "1.2.8"]) <= set(result["deviations"])
    assert "1.2.7" not in result["failed"]


def test_authorization_config_webhook_only_fails_node_and_rbac(tmp_path, catalog):
    authz_node(tmp_path, AUTHZ_WEBHOOK_ONLY)
    ctls = by_id(run(tmp_path, catalog))
    for cid in ("1.2.7", "1.2.8"):
        assert (ctls[cid]["status"], ctls[cid]["kube_bench_status"], ctls[cid]["deviation"]) == ("FAIL", "FAIL", None)
    assert (ctls["1.2.6"]["status"], ctls["1.2.6"]["kube_bench_status"]) == ("PASS", "FAIL")


def test_authorization_config_always_allow_fails(tmp_path, catalog):
    authz_node(tmp_path, AUTHZ_ALWAYS_ALLOW)
    ctls = by_id(run(tmp_path, catalog))
    assert (ctls["1.2.6"]["status"], ctls["1.2.6"]["kube_bench_status"], ctls["1.2.6"]["deviation"]) == (
        "FAIL", "FAIL", None)
    assert ctls["1.2.7"]["status"] == "PASS" and ctls["1.2.8"]["status"] == "FAIL"


def test_authorization_config_unreadable_is_warn(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path)
    set_apiserver(tmp_path, drop=["authorization-mode"], add=["--authorization-config=/authz/missing.yaml"])
    ctl = by_id(run(tmp_path, catalog))["1.2.7"]
    assert (ctl["status"], ctl["kube_bench_status"]) == ("WARN", "FAIL")
    assert "could not be read" in ctl["reason"]


def test_authorization_mode_flag_keeps_kube_bench_verdict(tmp_path, catalog):
    # both flags: the API server refuses to start, and the rule stays out of it
    kubeadm_node.build_node(tmp_path)
    set_apiserver(tmp_path, add=["--authorization-config=/authz/authz.yaml"], files={"authz.yaml": AUTHZ_NODE_RBAC})
    result = run(tmp_path, catalog)
    assert not [cid for cid in result["deviations"] if cid.startswith("1.2.")]


def test_deviations_off_keeps_kube_bench_and_says_what_the_rule_would(tmp_path, catalog):
    authz_node(tmp_path, AUTHZ_NODE_RBAC)
    result = run(tmp_path, catalog, deviations=False)
    ctl = by_id(result)["1.2.7"]
    assert ctl["status"] == ctl["kube_bench_status"] == "FAIL"
    assert ctl["deviation"]["applied"] is False and ctl["deviation"]["status"] == "PASS"
    assert "turned off" in ctl["reason"]
    assert result["deviations"] == [] and "1.2.7" in result["failed"]


# ---------------------------------------------------------------------------------------------------------------
# structured authentication
# ---------------------------------------------------------------------------------------------------------------
def authn_node(root, config):
    kubeadm_node.build_node(root)
    set_apiserver(root, add=["--authentication-config=/authz/authn.yaml"], files={"authn.yaml": config})


def test_authentication_config_anonymous_disabled_passes(tmp_path, catalog):
    authn_node(tmp_path, AUTHN_ANONYMOUS_OFF)
    ctl = by_id(run(tmp_path, catalog))["1.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"]) == ("PASS", "WARN")
    assert ctl["deviation"]["rule"] == "structured-authentication"


def test_authentication_config_anonymous_for_health_paths_stays_warn(tmp_path, catalog):
    authn_node(tmp_path, AUTHN_ANONYMOUS_HEALTH)
    ctl = by_id(run(tmp_path, catalog))["1.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"], ctl["deviation"]) == ("WARN", "WARN", None)


def test_authentication_config_without_anonymous_section_keeps_default(tmp_path, catalog):
    authn_node(tmp_path, AUTHN_JWT_ONLY)
    ctl = by_id(run(tmp_path, catalog))["1.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"], ctl["deviation"]) == ("WARN", "WARN", None)


# ---------------------------------------------------------------------------------------------------------------
# kubelet drop-ins
# ---------------------------------------------------------------------------------------------------------------
def dropin_node(root, main_anonymous, dropins, extra_flags=()):
    kubeadm_node.build_node(root)
    config = kubeadm_node.KUBELET_CONFIG.replace(
        "  anonymous:\n    enabled: false\n", "  anonymous:\n    enabled: %s\n" % main_anonymous)
    kubeadm_node.write(root, "/var/lib/kubelet/config.yaml", config, 0o644)
    argv = list(kubeadm_node.KUBELET_ARGS) + ["--config-dir=/etc/kubernetes/kubelet.conf.d"] + list(extra_flags)
    kubeadm_node.add_process(root, 812, argv)
    for name, text in dropins.items():
        kubeadm_node.write(root, "/etc/kubernetes/kubelet.conf.d/" + name, text, 0o644)


def test_kubelet_anonymous_disabled_only_in_dropin_passes(tmp_path, catalog):
    dropin_node(tmp_path, "true", {"50-cis.conf": "authentication:\n  anonymous:\n    enabled: false\n"})
    ctl = by_id(run(tmp_path, catalog))["4.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"]) == ("PASS", "FAIL")
    assert ctl["deviation"]["rule"] == "kubelet-config-dropins"
    assert "50-cis.conf" not in ctl["reason"] and "--config-dir=/etc/kubernetes/kubelet.conf.d" in ctl["reason"]


def test_kubelet_dropins_merge_in_name_order_conf_only(tmp_path, catalog):
    dropin_node(tmp_path, "true", {
        "10-off.conf": "authentication:\n  anonymous:\n    enabled: false\n",
        "20-on.conf": "authentication:\n  anonymous:\n    enabled: true\n",
        "30-ignored.yaml": "authentication:\n  anonymous:\n    enabled: false\n",
    })
    ctl = by_id(run(tmp_path, catalog))["4.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"], ctl["deviation"]) == ("FAIL", "FAIL", None)


def test_kubelet_flag_beats_dropin(tmp_path, catalog):
    dropin_node(tmp_path, "false", {"50-cis.conf": "authentication:\n  anonymous:\n    enabled: false\n"},
                extra_flags=["--anonymous-auth=true"])
    ctl = by_id(run(tmp_path, catalog))["4.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"], ctl["deviation"]) == ("FAIL", "FAIL", None)


def test_kubelet_dropin_weakening_the_file_fails(tmp_path, catalog):
    dropin_node(tmp_path, "false", {"50-open.conf": "authentication:\n  anonymous:\n    enabled: true\n"})
    ctl = by_id(run(tmp_path, catalog))["4.2.1"]
    assert (ctl["status"], ctl["kube_bench_status"]) == ("FAIL", "PASS")


# ---------------------------------------------------------------------------------------------------------------
# topology: no etcd on a control-plane node
# ---------------------------------------------------------------------------------------------------------------
ETCD_FILE_IDS = ("1.1.7", "1.1.8", "1.1.11", "1.1.12")


def external_etcd_node(root):
    kubeadm_node.build_node(root)
    os.remove(os.path.join(str(root), "etc/kubernetes/manifests/etcd.yaml"))
    shutil.rmtree(os.path.join(str(root), "proc/2104"))
    shutil.rmtree(os.path.join(str(root), "var/lib/etcd"))
    set_apiserver(root, drop=["etcd-servers"], add=["--etcd-servers=https://10.89.0.50:2379"])


def test_external_etcd_files_not_applicable(tmp_path, catalog):
    external_etcd_node(tmp_path)
    result = run(tmp_path, catalog)
    assert "etcd" not in result["node"]["detected_targets"]
    ctls = by_id(result)
    for cid in ETCD_FILE_IDS:
        assert ctls[cid]["status"] == "INFO", ctls[cid]
        assert ctls[cid]["kube_bench_status"] == "FAIL"
        assert ctls[cid]["reason"].startswith("not applicable: etcd does not run on this node")
        assert "--etcd-servers=https://10.89.0.50:2379" in ctls[cid]["reason"]
        assert ctls[cid]["deviation"]["issues"] == ["#632", "#1978"]
    assert not set(ETCD_FILE_IDS) & set(result["failed"])


def test_external_etcd_files_fail_with_deviations_off(tmp_path, catalog):
    external_etcd_node(tmp_path)
    ctls = by_id(run(tmp_path, catalog, deviations=False))
    assert [ctls[cid]["status"] for cid in ETCD_FILE_IDS] == ["FAIL"] * 4


def test_local_etcd_without_data_dir_still_fails(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path)
    shutil.rmtree(os.path.join(str(tmp_path), "var/lib/etcd"))
    ctls = by_id(run(tmp_path, catalog))
    for cid in ("1.1.11", "1.1.12"):
        assert (ctls[cid]["status"], ctls[cid]["kube_bench_status"], ctls[cid]["deviation"]) == ("FAIL", "FAIL", None)


def flags_only_kubelet(root):
    """A kubelet configured by flags alone: no --config anywhere and no file at the default path."""
    kubeadm_node.build_node(root, role="worker")
    argv = [a for a in kubeadm_node.KUBELET_ARGS if not a.startswith("--config=")] + ["--anonymous-auth=false"]
    kubeadm_node.add_process(root, 812, argv)
    unit = os.path.join(str(root), "usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf")
    with open(unit) as handle:
        text = handle.read()
    kubeadm_node.write(root, "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
                       text.replace("--config=/var/lib/kubelet/config.yaml", ""), 0o644)
    os.remove(os.path.join(str(root), "var/lib/kubelet/config.yaml"))


def test_kubelet_without_config_file_not_applicable(tmp_path, catalog):
    flags_only_kubelet(tmp_path)
    ctls = by_id(run(tmp_path, catalog))
    for cid in ("4.1.9", "4.1.10"):
        assert (ctls[cid]["status"], ctls[cid]["kube_bench_status"]) == ("INFO", "FAIL"), ctls[cid]
        assert ctls[cid]["deviation"]["rule"] == "no-kubelet-config-file"
        assert ctls[cid]["reason"].startswith("not applicable: the kubelet is started without --config")
    assert ctls["4.2.1"]["status"] == "PASS" and ctls["4.2.1"]["deviation"] is None


def test_kubelet_config_flag_to_missing_file_fails(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path, role="worker")
    os.remove(os.path.join(str(tmp_path), "var/lib/kubelet/config.yaml"))
    ctls = by_id(run(tmp_path, catalog))
    for cid in ("4.1.9", "4.1.10"):
        assert (ctls[cid]["status"], ctls[cid]["kube_bench_status"], ctls[cid]["deviation"]) == ("FAIL", "FAIL", None)


# ---------------------------------------------------------------------------------------------------------------
# reports
# ---------------------------------------------------------------------------------------------------------------
def test_reports_show_both_verdicts(tmp_path, catalog):
    authz_node(tmp_path, AUTHZ_NODE_RBAC)
    result = run(tmp_path, catalog)
    doc = cis_report.to_kube_bench(result)
    checks = dict((c["test_number"], c) for ctl in doc["Controls"] for group in ctl["tests"] for c in group["results"])
    assert (checks["1.2.7"]["status"], checks["1.2.7"]["kube_bench_status"]) == ("PASS", "FAIL")
    assert checks["1.2.7"]["deviation"]["rule"] == "structured-authorization"
    assert checks["1.2.2"]["kube_bench_status"] == checks["1.2.2"]["status"] and checks["1.2.2"]["deviation"] is None
    assert doc["secure_cluster"]["deviations"] == result["deviations"]
    markdown = cis_report.to_markdown([result])
    assert "Deviations from kube-bench:" in markdown
    assert "| cp1 | 1.2.7 | PASS | FAIL | structured-authorization |" in markdown
    assert "    DEVIATES 1.2.7 PASS, kube-bench FAIL (structured-authorization)" in cis_report.summary_lines([result])


def test_markdown_has_no_deviation_section_without_deviations(tmp_path, catalog):
    kubeadm_node.build_node(tmp_path)
    assert "Deviations from kube-bench" not in cis_report.to_markdown([run(tmp_path, catalog)])


@pytest.mark.parametrize("extra", [
    {"authorization": {"authorizers": ["x", None, {"type": 7}]}, "authentication": {"anonymous": "yes"}},
    {"authorization": "garbage", "authentication": None},
    {"kubelet": {"present": True, "config": {"text": "a: b\n", "dropins": [{"text": None}, "x", {"text": "- [a"}]}}},
])
def test_odd_facts_never_raise(extra, catalog):
    facts = {"processes": {"kube-apiserver": [{"pid": 1, "argv": [
        "kube-apiserver", "--authorization-config=/a.yaml", "--authentication-config=/b.yaml"]}]}}
    facts.update(extra)
    result = evaluate(facts, catalog, host="x", parse_yaml=yaml.safe_load)
    for ctl in result["controls"]:
        assert ctl["status"] in ("PASS", "FAIL", "WARN", "INFO") and ctl["kube_bench_status"], ctl["id"]
    ctls = by_id(result)
    if isinstance(extra.get("authorization"), dict):
        assert (ctls["1.2.7"]["status"], ctls["1.2.7"]["kube_bench_status"]) == ("FAIL", "FAIL")
        assert (ctls["1.2.6"]["status"], ctls["1.2.6"]["kube_bench_status"]) == ("PASS", "FAIL")
