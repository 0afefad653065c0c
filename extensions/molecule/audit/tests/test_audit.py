"""The CIS audit on real test nodes (kubeadm control planes, static pods run by the testbed's runner).

The converge step audited both nodes into $MOLECULE_EPHEMERAL_DIRECTORY/audit-reports: cp1 as kubeadm left it,
hard1 after prepare.yml hand-hardened it. These tests read those reports, then hand-harden cp1 further
(kube-scheduler --profiling=false), audit it again, and show the two ways the configured state and the running
state of a component can disagree."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import testinfra

HOST = "sck8s-mol-audit-cp1"
HARDENED = "sck8s-mol-audit-hard1"
HERE = os.path.dirname(os.path.abspath(__file__))
CONVERGE = os.path.join(HERE, "..", "converge.yml")
REPORTS = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "audit-reports")
MANIFESTS = "/etc/kubernetes/manifests"
NO_KUBECTL = ("kubeadm upgrade not judged: the kubeadm ConfigMaps could not be read: kubectl not found "
              "(/usr/local/bin/kubectl, /usr/bin/kubectl or in PATH)")
RUNNER = "python3 /usr/local/lib/testbed/static_pod_runner.py"

# What a fresh kubeadm control plane fails, as tests/unit/plugins/module_utils/test_cis_eval.py predicts from
# its fixture (test_fresh_kubeadm_node_verdicts): etcd data dir owner, no --kubelet-certificate-authority,
# profiling on everywhere, no audit log, token expiration extension, 644 kubelet unit and config files.
FRESH_FAILED = ["1.1.12", "1.2.5", "1.2.15", "1.2.16", "1.2.17", "1.2.18", "1.2.19", "1.2.30", "1.3.2", "1.4.1",
                "4.1.1", "4.1.9"]
# ... and some of what kubeadm gets right (the same test's PASS verdicts).
FRESH_PASSED = ["1.1.1", "1.1.11", "1.1.13", "1.2.2", "1.2.7", "1.2.14", "1.2.24", "1.3.3", "1.3.7", "1.4.2",
                "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "4.1.10", "4.2.1", "4.2.2", "4.2.3", "4.3.1"]

# Edits a manifest the way an operator would, atomically (the runner, like the kubelet, reads every file of the
# manifest directory except dot files, so a half-written or sed's temporary file would be picked up).
EDIT = """
import os, sys
path, old, new = sys.argv[1:4]
text = open(path).read()
if old not in text:
    sys.exit("%s does not contain %r" % (path, old))
tmp = os.path.join(os.path.dirname(path), ".audit-test.tmp")
with open(tmp, "w") as handle:
    handle.write(text.replace(old, new, 1))
os.chmod(tmp, 0o600)
os.replace(tmp, path)
"""


def id_key(cid):
    return tuple(int(p) for p in cid.split("."))


def checks(report):
    """{id: kube-bench result} of a <host>.json report."""
    return dict((r["test_number"], r) for c in report["Controls"] for g in c["tests"] for r in g["results"])


def failed_ids(report):
    return sorted((i for i, r in checks(report).items() if r["status"] == "FAIL"), key=id_key)


def load_report(directory, name=HOST):
    with open(os.path.join(directory, name + ".json")) as handle:
        return json.load(handle)


def audit(directory):
    """Run the converge playbook (the audit role) again, as a user would, and return the node's JSON report."""
    playbook = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    cmd = [playbook, "-i", HOST + ",", "-c", "containers.podman.podman", CONVERGE,
           "-e", json.dumps({"cis_report_dir": str(directory), "ansible_python_interpreter": "/usr/bin/python3"})]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, "%s\n%s\n%s" % (" ".join(cmd), proc.stdout[-4000:], proc.stderr[-4000:])
    return load_report(directory)


def edit_manifest(host, name, old, new):
    host.check_output("python3 -c %s %s %s %s", EDIT, "%s/%s.yaml" % (MANIFESTS, name), old, new)


def wait_ready(host, pod):
    """The runner's `wait` is satisfied only once the pod runs the manifest's current content."""
    host.check_output(RUNNER + " wait %s --ready --timeout 90", pod)


@pytest.fixture(scope="module")
def fresh():
    return load_report(REPORTS)


# ---------------------------------------------------------------------------------------------------------------
# the reports of the converge step: a fresh kubeadm node
# ---------------------------------------------------------------------------------------------------------------
def test_reports_written_on_the_controller():
    assert sorted(os.listdir(REPORTS)) == sorted([HOST + ".json", HOST + ".junit.xml", HARDENED + ".json",
                                                  HARDENED + ".junit.xml", "summary.md",
                                                  "oscal-assessment-results.json", "cis.sarif"])


def schema_check():
    """tests/fixtures/schemas/schema_check.py of the collection (the official OSCAL and SARIF schemas)."""
    # molecule runs this file through the collection's molecule -> extensions/molecule link: climb the real path
    root = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", "..")
    path = os.path.join(root, "tests", "fixtures", "schemas", "schema_check.py")
    spec = importlib.util.spec_from_file_location("sck8s_schema_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_oscal_and_sarif_are_valid_and_agree_with_the_json():
    schemas = schema_check()
    with open(os.path.join(REPORTS, "oscal-assessment-results.json")) as handle:
        oscal = json.load(handle)
    with open(os.path.join(REPORTS, "cis.sarif")) as handle:
        sarif = json.load(handle)
    assert schemas.oscal_errors(oscal) == []
    assert schemas.sarif_errors(sarif) == []
    # the fresh node's failures, and none on the hand-hardened one, in both
    fails = {}
    for res in sarif["runs"][0]["results"]:
        if res["kind"] == "fail" and "suppressions" not in res:
            fails.setdefault(res["properties"]["host"], []).append(res["ruleId"])
    assert fails == {HOST: ["cis-2.0/%s" % i for i in FRESH_FAILED]}
    result = oscal["assessment-results"]["results"][0]
    not_satisfied = sorted((f["target"]["target-id"] for f in result["findings"]
                            if f["target"]["status"]["reason"] == "fail"), key=lambda t: id_key(t.split("_")[1]))
    assert not_satisfied == ["cis-2.0_%s" % i for i in FRESH_FAILED]
    hosts = sorted(p["value"] for item in result["local-definitions"]["inventory-items"] for p in item["props"]
                   if p["name"] == "asset-id")
    assert hosts == sorted([HOST, HARDENED])


def test_fresh_node_fails_what_the_unit_tests_predict(fresh):
    assert failed_ids(fresh) == FRESH_FAILED
    got = checks(fresh)
    assert dict((i, got[i]["status"]) for i in FRESH_PASSED) == dict((i, "PASS") for i in FRESH_PASSED)
    assert got["1.2.15"]["actual"] == {"running": "--profiling not set", "configured": "--profiling not set"}
    assert got["1.2.15"]["remediated_by"] == {"role": "apiserver", "var": "apiserver_cis_1_2_15_enabled"}
    assert got["4.1.9"]["actual"]["configured"] == "644 /var/lib/kubelet/config.yaml"
    assert got["1.1.12"]["actual"]["configured"] == "root:root /var/lib/etcd"
    # the section 5 policies need the Kubernetes API: a node audit cannot judge them
    assert all(r["status"] == "WARN" for i, r in got.items() if i.startswith("5."))
    ours = fresh["secure_cluster"]
    assert ours["host"] == HOST and ours["drift"] == []
    # no notes, except on the node versions (K8S_VERSION, 1.34-1.37: cis_benchmark auto picks cis-2.0 for all) outside
    # the 1.34-1.35 that CIS 2.0 is written for, and
    # that the stand-in nodes have no kubectl to read the kubeadm ConfigMaps with (tests/testbed/README.md)
    assert [m for m in ours["messages"] if "is not one of the versions cis-2.0 targets" not in m] == [NO_KUBECTL]
    assert ours["upgrade"]["judged"] is False and ours["upgrade_drift"] == []
    assert ours["node"]["targets"] == ["master", "etcd", "controlplane", "node", "policies"]


def test_json_has_kube_bench_shape(fresh):
    assert set(fresh) == {"Controls", "Totals", "secure_cluster"}
    assert [(c["id"], c["node_type"]) for c in fresh["Controls"]] == [
        ("1", "master"), ("2", "etcd"), ("3", "controlplane"), ("4", "node"), ("5", "policies")]
    version = fresh["secure_cluster"]["node"]["kubernetes_version"]
    for control in fresh["Controls"]:
        assert control["version"] == "cis-2.0"
        assert control["detected_version"] == ".".join(version.split(".")[:2])
        assert {"text", "tests", "total_pass", "total_fail", "total_warn", "total_info"} <= set(control)
        for group in control["tests"]:
            assert {"section", "desc", "pass", "fail", "warn", "info", "results"} <= set(group)
            for res in group["results"]:
                assert {"test_number", "test_desc", "status", "scored", "remediation", "actual_value",
                        "expected_result", "reason"} <= set(res)
                assert res["status"] in ("PASS", "FAIL", "WARN", "INFO")
    totals = fresh["Totals"]
    assert totals["total_fail"] == len(FRESH_FAILED)
    assert sum(totals[k] for k in ("total_pass", "total_fail", "total_warn", "total_info")) == 131


def test_junit_is_valid_with_one_testcase_per_control(fresh):
    root = ET.parse(os.path.join(REPORTS, HOST + ".junit.xml")).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1 and suites[0].get("name") == HOST + " cis-2.0"
    cases = suites[0].findall("testcase")
    ids = [c.get("name").split(" ")[0] for c in cases]
    assert len(ids) == len(set(ids)) == len(checks(fresh)) == int(suites[0].get("tests")) == 131
    failing = sorted((c.get("name").split(" ")[0] for c in cases if c.find("failure") is not None), key=id_key)
    assert failing == FRESH_FAILED == sorted(failing, key=id_key)
    assert int(suites[0].get("failures")) == len(FRESH_FAILED)


def test_summary_markdown():
    with open(os.path.join(REPORTS, "summary.md")) as handle:
        md = handle.read()
    assert md.startswith("# CIS Kubernetes Benchmark audit")
    assert "| %s |" % HOST in md
    assert "| 1.4.1 | Ensure that the --profiling argument is set to false |" in md
    assert "| %s |" % HARDENED in md
    assert "| **fleet (2)** |" in md
    # the fleet's failures are cp1's: the hand-hardened node has none
    assert "CIS gate disabled (cis_fail_on=none); 12 failure(s)" in md
    assert "## %s\n\nNo failing recommendations." % HARDENED in md


def test_audit_changed_nothing_on_the_node(host):
    for pod in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        state = json.loads(host.check_output("cat /run/static-pods/%s.json", pod))
        assert state["state"] == "running" and state["restarts"] == 0, state
    assert host.file(MANIFESTS + "/kube-apiserver.yaml").mode == 0o600


# ---------------------------------------------------------------------------------------------------------------
# the reports of the converge step: the node prepare.yml hand-hardened (hard1)
# ---------------------------------------------------------------------------------------------------------------
# What prepare.yml fixed: every failure of the fresh node, and the manual recommendations that
# tests/unit/plugins/module_utils/test_cis_eval.py (test_hardened_node) sees pass on its hardened fixture.
HARDENED_PASSED = sorted(set(FRESH_FAILED) | {
    "1.2.3", "1.2.9", "1.2.11", "1.2.27", "1.2.28", "1.2.29", "1.3.1", "3.2.1", "4.1.3", "4.1.4", "4.2.4",
    "4.2.8", "4.2.9", "4.2.11", "4.2.12", "4.2.13", "4.2.14"}, key=id_key)
# Everything outside section 5 that is not PASS on the hardened node, and why. All are unscored (WARN, never FAIL).
HARDENED_WARN = {
    # no CNI plugin is installed on the test node, so there is no CNI file to judge
    "1.1.9": "no cni file found",
    "1.1.10": "no cni file found",
    # --anonymous-auth=false is left off: kubeadm's apiserver probes are anonymous, so the API server would fail
    # its startup probe and crash-loop (on the test node's stand-in as on a real kubeadm node)
    "1.2.1": "--anonymous-auth not set",
    # human reviews, with nothing a node can show (as in test_hardened_node)
    "1.2.20": "manual recommendation",
    "3.1.1": "manual recommendation",
    "3.1.2": "manual recommendation",
    "3.1.3": "manual recommendation",
    "3.2.2": "manual recommendation",
}
HARDENED_PODS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


@pytest.fixture(scope="module")
def hardened():
    return load_report(REPORTS, HARDENED)


@pytest.fixture(scope="module")
def hardened_host():
    return testinfra.get_host("podman://" + HARDENED)


def test_hardened_node_fails_nothing(hardened):
    assert failed_ids(hardened) == []
    assert hardened["Totals"]["total_fail"] == 0 and hardened["secure_cluster"]["failed"] == []
    got = checks(hardened)
    assert len(got) == 131
    assert dict((i, got[i]["status"]) for i in HARDENED_PASSED) == dict((i, "PASS") for i in HARDENED_PASSED)
    # nothing else: no INFO, no FAIL, no WARN beyond the list above (and the API-only section 5)
    assert dict((i, r["status"]) for i, r in got.items() if r["status"] != "PASS" and not i.startswith("5.")) == \
        dict((i, "WARN") for i in HARDENED_WARN)
    for cid, why in HARDENED_WARN.items():
        assert why in got[cid]["reason"], (cid, got[cid]["reason"])
    assert all(r["status"] == "WARN" for i, r in got.items() if i.startswith("5."))
    # judged on the running processes, which run what the manifests say
    assert [i for i, r in got.items() if r["drift"]] == [] and hardened["secure_cluster"]["drift"] == []
    assert got["1.2.15"]["actual"] == {"running": "--profiling=false", "configured": "--profiling=false"}
    assert got["1.3.2"]["actual"]["running"] == got["1.4.1"]["actual"]["running"] == "--profiling=false"
    assert got["1.2.16"]["actual"]["running"] == "--audit-log-path=/var/log/kubernetes/audit/audit.log"
    assert got["1.2.5"]["actual"]["running"] == "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt"
    assert got["1.2.30"]["actual"]["running"] == "--service-account-extend-token-expiration=false"
    assert got["1.2.28"]["actual"]["configured"] == "providers in /etc/kubernetes/enc/config.yaml: aescbc,identity"
    assert got["1.1.12"]["actual"]["configured"] == "etcd:etcd /var/lib/etcd"
    assert got["4.1.9"]["actual"]["configured"] == "600 /var/lib/kubelet/config.yaml"
    ours = hardened["secure_cluster"]
    assert ours["host"] == HARDENED
    assert [m for m in ours["messages"] if "is not one of the versions cis-2.0 targets" not in m] == [NO_KUBECTL]


def test_hardened_junit_has_no_failure(hardened):
    root = ET.parse(os.path.join(REPORTS, HARDENED + ".junit.xml")).getroot()
    suite = root.find("testsuite")
    assert suite.get("name") == HARDENED + " cis-2.0"
    assert int(suite.get("tests")) == 131 and int(suite.get("failures")) == 0
    assert [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None] == []


def test_hardened_pods_run_the_hardened_manifests(hardened_host):
    """Hardening broke nothing: every pod runs and is ready, without a restart, from its current manifest."""
    for pod in HARDENED_PODS:
        state = json.loads(hardened_host.check_output("cat /run/static-pods/%s.json", pod))
        assert state["state"] == "running" and state["ready"] is True and state["restarts"] == 0, state
        manifest = "%s/%s.yaml" % (MANIFESTS, pod)
        assert state["manifest"] == manifest
        sha = hardened_host.check_output("sha256sum %s", manifest).split()[0]
        assert state["manifest_sha256"] == sha, pod
        assert hardened_host.file(manifest).mode == 0o600
        assert hardened_host.file(manifest).user == hardened_host.file(manifest).group == "root"
    api = json.loads(hardened_host.check_output("cat /run/static-pods/kube-apiserver.json"))["command"]
    for flag in ("--profiling=false", "--audit-log-path=/var/log/kubernetes/audit/audit.log",
                 "--encryption-provider-config=/etc/kubernetes/enc/config.yaml",
                 "--admission-control-config-file=/etc/kubernetes/admission/config.yaml"):
        assert flag in api
    # the API server writes its audit log to the node, through the writable hostPath mount
    log = hardened_host.file("/var/log/kubernetes/audit/audit.log")
    assert log.is_file and log.mode == 0o600


def test_hardened_kubelet_runs_its_hardened_config(hardened_host):
    assert hardened_host.service("kubelet").is_running
    assert hardened_host.check_output("curl -fsS http://127.0.0.1:10248/healthz") == "ok"
    config = hardened_host.file("/var/lib/kubelet/config.yaml")
    assert config.mode == 0o600 and config.user == "root"
    assert "readOnlyPort: 0" in config.content_string and "protectKernelDefaults" not in config.content_string
    for unit in ("kubelet.service", "kubelet.service.d/10-kubeadm.conf"):
        assert hardened_host.file("/usr/lib/systemd/system/" + unit).mode == 0o600


# ---------------------------------------------------------------------------------------------------------------
# hand-hardening and drift on the same node (these tests change it, in this order)
# ---------------------------------------------------------------------------------------------------------------
def test_hand_hardened_scheduler_passes_1_4_1(host, tmp_path):
    edit_manifest(host, "kube-scheduler", "    - --leader-elect=true\n",
                  "    - --leader-elect=true\n    - --profiling=false\n")
    wait_ready(host, "kube-scheduler")
    report = audit(tmp_path)
    got = checks(report)["1.4.1"]
    assert got["status"] == "PASS" and got["drift"] is False
    assert got["actual"] == {"running": "--profiling=false", "configured": "--profiling=false"}
    assert failed_ids(report) == [i for i in FRESH_FAILED if i != "1.4.1"]


def test_edited_but_not_restarted_is_drift(host, tmp_path):
    # Freeze the runner (like a kubelet that has not picked the change up yet): the old process keeps running.
    freeze = "systemctl kill --kill-whom=main --signal=%s static-pod-runner.service"
    host.check_output(freeze, "SIGSTOP")
    try:
        edit_manifest(host, "kube-controller-manager", "    - --leader-elect=true\n",
                      "    - --leader-elect=true\n    - --profiling=false\n")
        report = audit(tmp_path / "frozen")
    finally:
        host.check_output(freeze, "SIGCONT")
    got = checks(report)["1.3.2"]
    assert got["status"] == "FAIL"  # what runs is what counts
    assert got["drift"] is True
    assert got["actual"] == {"running": "--profiling not set", "configured": "--profiling=false"}
    assert "restart pending" in got["reason"] and "passes" in got["reason"]
    assert report["secure_cluster"]["drift"] == ["1.3.2"]
    with open(os.path.join(str(tmp_path / "frozen"), "summary.md")) as handle:
        md = handle.read()
    assert "Configured but not running (drift):" in md and "- 1.3.2 " in md

    wait_ready(host, "kube-controller-manager")  # the runner restarts it with the new manifest
    got = checks(audit(tmp_path / "restarted"))["1.3.2"]
    assert got["status"] == "PASS" and got["drift"] is False


def test_runner_stopped_judges_the_configuration(host, tmp_path):
    # With the runner stopped its pods are gone (it stops them, see static-pod-runner.service): the audit then
    # judges the manifests and says so; an edit made meanwhile is what it judges.
    host.check_output("systemctl stop static-pod-runner.service")
    try:
        edit_manifest(host, "kube-scheduler", "    - --profiling=false\n", "    - --profiling=true\n")
        report = audit(tmp_path)
    finally:
        host.check_output("systemctl start static-pod-runner.service")
    got = checks(report)
    assert got["1.4.1"]["status"] == "FAIL"
    assert got["1.4.1"]["actual"] == {"running": None, "configured": "--profiling=true"}
    assert "kube-scheduler is not running; judged from its configuration" in got["1.4.1"]["reason"]
    assert got["1.3.2"]["status"] == "PASS" and "not running" in got["1.3.2"]["reason"]
    for pod in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        wait_ready(host, pod)
