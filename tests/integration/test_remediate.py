"""remediate.yml on a drifted node, over SSH as users run it (issue #7's acceptance; issue #13's host selection).

A kubeadm-shaped control-plane test node and a worker are hardened with site.yml. Then someone drifts the control
plane: the scheduler's profiling is switched back on (CIS 1.4.1) and the controller-manager manifest is made
world-readable (CIS 1.1.3). remediate.yml in check mode must predict exactly that fix and change nothing; the real
run must fix exactly those two controls (no other role runs), the second audit must be clean and the report must
show the drift; a rerun on the now compliant fleet must change nothing. The hardening plays visit only the drifted
node, and on the compliant fleet none at all.

Runs from the collection copy (make integration): tests/testbed/nodes.sh starts the node on its own podman network.
"""
import json
import re

import pytest

from harness import (Node, changed_tasks, changed_where, kube_bench_results, play_hosts, playbook, schema_check,
                     started_nodes, write_site_vars)

NET = "sck8s-int-remediate"
NODE = "sck8s-int-rem-cp1"
SPEC = NODE + ":control-plane:22331"
WORKER = "sck8s-int-rem-w1"
WORKER_SPEC = WORKER + ":worker:22332"
HARDENING_PLAYS = ("Harden every node (kernel, containerd, kubelet)", "Harden the control plane, one node at a time",
                   "Harden external etcd members, one at a time", "On-demand etcd backup")
SCHED = "/etc/kubernetes/manifests/kube-scheduler.yaml"
CM = "/etc/kubernetes/manifests/kube-controller-manager.yaml"
DRIFTED = ["1.1.3", "1.4.1"]
node = Node(NODE)


def visited(out):
    """{hardening play: hosts it visited}; a play no host was planned for is 'skipping: no hosts matched'."""
    hosts = play_hosts(out)
    assert set(HARDENING_PLAYS) <= set(hosts), sorted(hosts)
    return {play: hosts[play] for play in HARDENING_PLAYS}


def report(workdir, run):
    with open(workdir / run / "remediation.json", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def hardened(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("remediate")
    with started_nodes(workdir, NET, [SPEC, WORKER_SPEC]) as _nodes:
        write_site_vars(workdir)
        rc, out, _changed = playbook(workdir, "site.yml")
        assert rc == 0, out[-6000:]
        yield workdir


def test_compliant_node_changes_nothing(hardened):
    rc, out, changed = playbook(hardened, "remediate.yml", "-e", "remediate_report_dir=%s/compliant" % hardened)
    assert rc == 0, out[-6000:]
    assert NODE in changed and set(changed.values()) == {0}, changed_tasks(out)
    entry = report(hardened, "compliant")["hosts"][NODE]
    assert entry["plan"]["roles"] == [] and entry["delta"]["failed_before"] == 0
    assert "nothing to remediate" in out
    # no host is visited by the hardening plays, no snapshot is taken, and only one audit reads the nodes
    assert visited(out) == {play: set() for play in HARDENING_PLAYS}, out[-6000:]
    assert out.count("TASK [secure_cluster.k8s.audit : Audit the node against the CIS Kubernetes Benchmark") == 1


def test_drift_is_predicted_then_fixed_exactly(hardened):
    # the drift: an operator re-enabled profiling and loosened a manifest's mode
    node.run("sed", "-i", "s/--profiling=false/--profiling=true/", SCHED)
    node.run("chmod", "0644", CM)
    node.wait_running("kube-scheduler", "--profiling=true")

    rc, out, changed = playbook(hardened, "remediate.yml", "--check", "--diff",
                                "-e", "remediate_report_dir=%s/check" % hardened)
    assert rc == 0, out[-6000:]
    predicted = report(hardened, "check")
    assert predicted["check_mode"] is True
    plan = predicted["hosts"][NODE]["plan"]
    assert sorted(plan["fix"]) == DRIFTED
    assert plan["by_role"] == {"controller_manager": ["1.1.3"], "scheduler": ["1.4.1"]}
    assert predicted["hosts"][WORKER]["plan"]["roles"] == []
    assert visited(out) == {HARDENING_PLAYS[0]: set(), HARDENING_PLAYS[1]: {NODE}, HARDENING_PLAYS[2]: set(),
                            HARDENING_PLAYS[3]: {NODE}}, out[-6000:]
    # --diff shows exactly the two changes: the flag in the manifest, the mode of the other manifest
    assert re.search(r"^-\s+- --profiling=true\n\+\s+- --profiling=false$", out, re.M), out[-6000:]
    assert re.search(r"^-%s: mode 0644.*\n\+%s: mode 0600" % (CM, CM), out, re.M), out[-6000:]
    assert sum(1 for line in out.splitlines() if line.startswith("+++ after")) == 2, out[-6000:]
    # check mode wrote nothing
    assert node.run("stat", "-c", "%a", CM).stdout.strip() == "644"
    assert "--profiling=true" in node.run("cat", SCHED).stdout

    rc, out, changed = playbook(hardened, "remediate.yml", "-e", "remediate_report_dir=%s/real" % hardened)
    assert rc == 0, out[-6000:]
    real = report(hardened, "real")
    entry = real["hosts"][NODE]
    # exactly the drifted controls: fixed, nothing else failing before or after, only their roles ran
    assert sorted(entry["delta"]["fixed"]) == DRIFTED
    assert entry["delta"]["failed_before"] == 2 and entry["delta"]["failed_after"] == 0
    assert entry["delta"]["still_failing"] == [] and entry["delta"]["new_failures"] == []
    assert entry["plan"]["roles"] == ["controller_manager", "scheduler"]
    assert real["fleet"] == dict(real["fleet"], hosts=2, fixed=2, still_failing=0, new_failures=0,
                                 hosts_clean_after=2, hosts_still_failing=[])
    # the worker was not touched: its first audit stands in after/
    assert real["hosts"][WORKER]["delta"]["failed_before"] == 0 and real["hosts"][WORKER]["delta"]["fixed"] == []
    assert (hardened / "real" / "after" / (WORKER + ".json")).is_file()
    assert changed[NODE] >= 2 and changed[WORKER] == 0
    # only the drifted node was visited, by the control-plane play, after the snapshot
    assert visited(out) == {HARDENING_PLAYS[0]: set(), HARDENING_PLAYS[1]: {NODE}, HARDENING_PLAYS[2]: set(),
                            HARDENING_PLAYS[3]: {NODE}}, out[-6000:]
    # only the two roles changed anything, plus the etcd snapshot taken before any control-plane change
    roles = changed_where(out)
    assert roles <= {"scheduler", "controller_manager", "On-demand etcd backup"}, \
        changed_tasks(out)
    assert {"scheduler", "controller_manager"} <= roles, changed_tasks(out)
    # the node really is fixed
    assert node.run("stat", "-c", "%a", CM).stdout.strip() == "600"
    node.wait_running("kube-scheduler", "--profiling=false")
    # the report shows the drift: failing before (with the reason), passing after
    before = kube_bench_results(hardened / "real" / "before" / (NODE + ".json"))
    assert before["1.4.1"]["status"] == "FAIL" and before["1.1.3"]["status"] == "FAIL"
    after = kube_bench_results(hardened / "real" / "after" / (NODE + ".json"))
    assert [i for i, t in after.items() if t["status"] == "FAIL"] == []
    assert after["1.2.5"]["secure_cluster_status"] == "WAIVED"
    md = (hardened / "real" / "remediation.md").read_text(encoding="utf-8")
    assert re.search(r"\| %s \| 2 \| 0 \| 1\.1\.3, 1\.4\.1 \|" % NODE, md), md
    # the OSCAL and SARIF of both audits are valid as their official schemas have it, and show the same drift
    schemas = schema_check()
    findings = {}
    for run in ("before", "after"):
        oscal = json.loads((hardened / "real" / run / "oscal-assessment-results.json").read_text(encoding="utf-8"))
        sarif = json.loads((hardened / "real" / run / "cis.sarif").read_text(encoding="utf-8"))
        assert schemas.oscal_errors(oscal) == [], run
        assert schemas.sarif_errors(sarif) == [], run
        failing = sorted(r["ruleId"].split("/", 1)[1] for r in sarif["runs"][0]["results"]
                         if r["kind"] == "fail" and "suppressions" not in r and r["properties"]["host"] == NODE)
        assert failing == (DRIFTED if run == "before" else []), run
        findings[run] = dict((f["target"]["target-id"].split("_", 1)[1], f)
                             for f in oscal["assessment-results"]["results"][0]["findings"])
    for cid in DRIFTED:
        assert findings["before"][cid]["target"]["status"]["state"] == "not-satisfied"
        assert findings["after"][cid]["target"]["status"]["state"] == "satisfied"
        assert findings["before"][cid]["uuid"] == findings["after"][cid]["uuid"]  # the same host and control

    rc, out, changed = playbook(hardened, "remediate.yml", "-e", "remediate_report_dir=%s/again" % hardened)
    assert rc == 0, out[-6000:]
    assert NODE in changed and set(changed.values()) == {0}, changed_tasks(out)
    assert visited(out) == {play: set() for play in HARDENING_PLAYS}, out[-6000:]
