# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/cluster_audit.yml end to end: ansible-playbook against localhost on the fixture dump (offline; a few
seconds per run). Needs the collection on ANSIBLE_COLLECTIONS_PATH, which `make unit` provides (the tests run from
its copy of the collection)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(COLLECTION, "..", "..", ".."))
PLAYBOOK = os.path.join(COLLECTION, "playbooks", "cluster_audit.yml")
DUMP = os.path.join(COLLECTION, "tests", "fixtures", "cluster_dump")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

pytestmark = pytest.mark.skipif(
    os.path.basename(os.path.dirname(os.path.dirname(COLLECTION))) != "ansible_collections",
    reason="run from a collection copy (make unit)")


def play(tmp_path, *extra):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT)
    env.pop("K8S_AUTH_KUBECONFIG", None)
    env.update(ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    cmd = [ANSIBLE_PLAYBOOK, "-i", "localhost,", PLAYBOOK] + list(extra)
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_offline_default_gate_fails_and_writes_reports(tmp_path):
    rc, out = play(tmp_path, "-e", "cluster_dump_dir=%s" % DUMP)
    assert rc == 2, out
    assert "Fetch the objects the audit reads (online, read-only)" in out
    assert "skipping: [localhost]" in out  # no kubeconfig: k8s_info never runs
    assert "cluster              k8s 1.33.4     0 pass  29 fail   5 warn   0 waived  [policies]" in out
    assert "CIS gate: 29 failure(s), more than the 0 allowed" in out
    reports = tmp_path / "reports"
    assert sorted(os.listdir(reports)) == ["cluster.json", "cluster.junit.xml", "summary.md"]
    data = json.loads((reports / "cluster.json").read_text())
    assert data["Totals"]["total_fail"] == 29
    assert data["secure_cluster"]["host"] == "cluster"


def test_offline_scored_gate_waivers_and_name(tmp_path):
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({
        "cluster_dump_dir": DUMP, "cluster_name": "prod", "cis_fail_on": "scored",
        "cis_report_dir": str(tmp_path / "out"),
        "cluster_exemptions": [{"id": "5.2.11", "object": "DaemonSet/monitoring/*", "reason": "exporters read /proc"}],
        "cis_waivers": [{"id": "5.2.5", "reason": "node-exporter host network (SEC-42)", "expires": "2999-12-31"},
                        {"id": "5.4.1", "reason": "expired", "expires": "2020-01-01"}]}))
    rc, out = play(tmp_path, "-e", "@%s" % extra)
    # section 5 is not scored, but an expired waiver counts for cis_fail_on=scored (as in the node audit)
    assert rc == 2, out
    assert "CIS gate: 1 scored failure(s), more than the 0 allowed (prod: 5.4.1)" in out
    data = json.loads((tmp_path / "out" / "prod.json").read_text())
    checks = dict((r["test_number"], r) for c in data["Controls"] for g in c["tests"] for r in g["results"])
    assert checks["5.2.5"]["secure_cluster_status"] == "WAIVED"
    assert checks["5.2.11"]["secure_cluster_status"] == "PASS"
    assert [e["object"] for e in checks["5.2.11"]["exempted"]] == ["DaemonSet/monitoring/node-exporter"]
    assert checks["5.4.1"]["status"] == "FAIL" and checks["5.4.1"]["underlying_status"] == "FAIL"
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| prod | 1.33.4 | policies | 1 | 27 | 5 | 1 | 0 |" in summary


def test_offline_scored_gate_passes_on_unscored_failures(tmp_path):
    rc, out = play(tmp_path, "-e", "cluster_dump_dir=%s" % DUMP, "-e", "cis_fail_on=scored")
    assert rc == 0, out
    assert "CIS gate passed: 0 scored failure(s), 0 allowed" in out
    assert (tmp_path / "reports" / "cluster.junit.xml").exists()


def test_needs_exactly_one_source(tmp_path):
    rc, out = play(tmp_path)
    assert rc == 2, out
    assert "Set exactly one of cluster_dump_dir" in out
    assert not (tmp_path / "reports").exists()
