# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace_baseline role end to end: ansible-playbook on localhost into a temporary output directory.
First run changes, the rerun changes nothing, check mode predicts without writing, bad input fails before
anything is written, stale generated files go and other files stay, and with no kubeconfig no kubernetes.core
task runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve()
# <root>/ansible_collections/secure_cluster/k8s/tests/unit/roles/<this file> (make unit runs the collection copy)
COLLECTIONS_ROOT = HERE.parents[6] if HERE.parents[5].name == "ansible_collections" else None
PLAYBOOK_BIN = Path(sys.executable).with_name("ansible-playbook")

pytestmark = pytest.mark.skipif(
    COLLECTIONS_ROOT is None or not PLAYBOOK_BIN.exists(),
    reason="needs the collection copy of `make collection` and ansible-playbook next to this Python")

TENANTS = {
    "namespace_baseline_kubernetes_version": "1.31",
    "namespace_baseline_external_namespaces": ["ingress-nginx", "monitoring"],
    "namespace_baseline_labels": {"platform.example.com/owner": "platform-team"},
    "namespace_baseline_namespaces": [
        {"name": "payments-prod", "team": "payments", "env": "prod", "resource_quota": {"requests.cpu": "16"}},
        {"name": "checkout-prod", "team": "shop", "env": "prod", "labels": {"cost-center": "cc-1234"}},
        {"name": "shop-dev", "team": "shop", "env": "dev", "pod_security": {"enforce": "baseline"},
         "limit_range": {"Container": {"max": {"memory": "4Gi"}}}},
        {"name": "data-staging", "team": "data", "env": "staging", "allow_intra_namespace": False},
    ],
    "namespace_baseline_network_contracts": [
        {"name": "checkout-to-payments", "description": "checkout calls the payment API",
         "from": {"namespace": "checkout-prod", "pod_selector": {"app": "checkout"}},
         "to": {"namespace": "payments-prod", "pod_selector": {"app": "payment-api"}},
         "ports": [{"port": 8443, "protocol": "TCP"}]},
        {"name": "ingress-to-checkout",
         "from": {"namespace": "ingress-nginx", "pod_selector": {"app.kubernetes.io/name": "ingress-nginx"}},
         "to": {"namespace": "checkout-prod", "pod_selector": {"app": "checkout"}}, "ports": [{"port": 8080}]},
        {"name": "payments-metrics", "from": {"namespace": "monitoring"}, "to": {"namespace": "payments-prod"},
         "ports": [{"port": "metrics"}]},
    ],
}
EXPECTED_FILES = ["checkout-prod.yaml", "data-staging.yaml", "kustomization.yaml", "payments-prod.yaml",
                  "shop-dev.yaml"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("nsb")
    (path / "inventory.ini").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable, encoding="utf-8")
    (path / "play.yml").write_text(
        "- name: Tenant namespace baseline\n  hosts: localhost\n  gather_facts: false\n"
        "  roles:\n    - role: secure_cluster.k8s.namespace_baseline\n", encoding="utf-8")
    return path


def run(workdir, variables, *args):
    """ansible-playbook with the JSON callback; (rc, parsed output, raw stdout)."""
    vars_file = workdir / "vars.json"
    vars_file.write_text(json.dumps(variables), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_HOME=str(workdir / ".ansible"), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               K8S_AUTH_KUBECONFIG=str(workdir / "no-such-kubeconfig"))
    proc = subprocess.run(
        [str(PLAYBOOK_BIN), "-i", str(workdir / "inventory.ini"), str(workdir / "play.yml"), "-e", "@%s" % vars_file]
        + list(args), env=env, capture_output=True, text=True, timeout=120, check=False)
    try:
        output = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        pytest.fail("no JSON output (rc %d):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
    return proc.returncode, output, proc.stdout


def host_results(output):
    for play in output["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                yield task["task"]["name"], result


def assert_no_cluster_contact(output):
    k8s = [(name, result) for name, result in host_results(output) if result.get("action", "").startswith(
        ("kubernetes.core.", "k8s"))]
    assert k8s, "the apply task should be listed (and skipped)"
    assert all(result.get("skipped") is True for _name, result in k8s), k8s


def snapshot(directory):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir()) if p.is_file()}


def with_vars(**changes):
    variables = json.loads(json.dumps(TENANTS))
    variables.update(changes)
    return variables


def test_role_end_to_end(workdir):
    out = workdir / "gitops" / "tenants"
    variables = with_vars(namespace_baseline_output_dir=str(out))

    # First run writes every file.
    rc, output, raw = run(workdir, variables)
    assert rc == 0, raw
    assert output["stats"]["localhost"]["changed"] > 0
    assert sorted(p.name for p in out.iterdir()) == EXPECTED_FILES
    assert_no_cluster_contact(output)
    payments = list(yaml.safe_load_all((out / "payments-prod.yaml").read_text(encoding="utf-8")))
    namespace = payments[0]
    assert namespace["kind"] == "Namespace" and namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] \
        == "restricted"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"] == "v1.31"
    assert {d["metadata"]["name"] for d in payments if d["kind"] == "NetworkPolicy"} == {
        "allow-dns", "allow-same-namespace", "contract-checkout-to-payments-ingress",
        "contract-payments-metrics-ingress", "default-deny-all"}
    assert all(d["metadata"]["labels"]["platform.example.com/owner"] == "platform-team" for d in payments)
    (out / "README.md").write_text("hand-written, not the role's\n", encoding="utf-8")
    before = snapshot(out)

    # Rerun: nothing changes, not even a timestamp.
    rc, output, raw = run(workdir, variables)
    assert rc == 0, raw
    assert output["stats"]["localhost"]["changed"] == 0, raw
    assert snapshot(out) == before

    # Check mode on a modified input predicts changes and writes nothing.
    changed = with_vars(namespace_baseline_output_dir=str(out))
    changed["namespace_baseline_namespaces"][0]["resource_quota"] = {"requests.cpu": "32"}
    changed["namespace_baseline_namespaces"].append({"name": "ml-prod", "team": "data", "env": "prod"})
    rc, output, raw = run(workdir, changed, "--check", "--diff")
    assert rc == 0, raw
    assert output["stats"]["localhost"]["changed"] > 0
    assert "requests.cpu: '32'" in raw
    assert snapshot(out) == before
    assert_no_cluster_contact(output)

    # Bad input fails with every problem named, and nothing is written.
    bad = with_vars(namespace_baseline_output_dir=str(out))
    bad["namespace_baseline_namespaces"][0]["pod_security"] = {"enforce": "strict"}
    bad["namespace_baseline_namespaces"][0]["resource_quota"] = {"requests.cpu": "32"}
    bad["namespace_baseline_network_contracts"][0]["ports"] = [{"port": 70000}]
    rc, output, raw = run(workdir, bad)
    assert rc != 0
    assert output["stats"]["localhost"]["changed"] == 0
    assert "namespace_baseline input refused, nothing written or applied" in raw
    assert "pod_security.enforce 'strict' is not a Pod Security level (privileged, baseline, restricted)" in raw
    assert "port 70000 is outside 1-65535" in raw
    assert snapshot(out) == before

    # A namespace no longer listed: its generated file goes, the hand-written file stays.
    fewer = with_vars(namespace_baseline_output_dir=str(out))
    fewer["namespace_baseline_namespaces"] = [n for n in fewer["namespace_baseline_namespaces"]
                                              if n["name"] != "data-staging"]
    rc, output, raw = run(workdir, fewer)
    assert rc == 0, raw
    after = snapshot(out)
    assert sorted(after) == sorted(set(EXPECTED_FILES) - {"data-staging.yaml"} | {"README.md"})
    assert after["README.md"] == before["README.md"]
    assert after["payments-prod.yaml"] == before["payments-prod.yaml"]
    assert "data-staging.yaml" not in yaml.safe_load(after["kustomization.yaml"][0])["resources"]


def test_with_a_kubeconfig_the_files_are_written_then_the_module_applies(workdir):
    # A cluster on 127.0.0.1 port 1 refuses connections: this proves the kubernetes.core.k8s call is well-formed
    # (the module validated its arguments and went for the API) and comes after the files, without a real cluster.
    kubeconfig = workdir / "closed.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "closed",
        "clusters": [{"name": "closed", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "nobody", "user": {"token": "not-a-token"}}],
        "contexts": [{"name": "closed", "context": {"cluster": "closed", "user": "nobody"}}]}), encoding="utf-8")
    out = workdir / "with-kubeconfig"
    rc, output, raw = run(workdir, with_vars(namespace_baseline_output_dir=str(out),
                                             namespace_baseline_kubeconfig=str(kubeconfig)))
    assert rc != 0
    applied = [r for _name, r in host_results(output) if r.get("action", "").startswith("kubernetes.core.")]
    assert len(applied) == 1 and applied[0].get("failed") is True and not applied[0].get("skipped"), applied
    assert "127.0.0.1" in applied[0]["msg"] and "Connection refused" in applied[0]["msg"], raw
    assert sorted(p.name for p in out.iterdir()) == EXPECTED_FILES
