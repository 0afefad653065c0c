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
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.tests.fixtures.schemas import schema_check

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(COLLECTION, "..", "..", ".."))
PLAYBOOK = os.path.join(COLLECTION, "playbooks", "cluster_audit.yml")
DUMP = os.path.join(COLLECTION, "tests", "fixtures", "cluster_dump")
with open(os.path.join(COLLECTION, "galaxy.yml")) as _galaxy:
    GALAXY_VERSION = str(yaml.safe_load(_galaxy)["version"])
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

pytestmark = pytest.mark.skipif(
    os.path.basename(os.path.dirname(os.path.dirname(COLLECTION))) != "ansible_collections",
    reason="run from a collection copy (make unit)")


def play(tmp_path, *extra):
    env = dict((k, v) for k, v in os.environ.items() if not k.lower().endswith("_proxy"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT)
    env.pop("K8S_AUTH_KUBECONFIG", None)
    env.update(NO_PROXY="127.0.0.1", TMPDIR=str(tmp_path))  # the kubernetes client caches discovery in TMPDIR
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
    assert sorted(os.listdir(reports)) == ["cis.sarif", "cluster.json", "cluster.junit.xml",
                                           "oscal-assessment-results.json", "summary.md"]
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
    assert "| prod | 1.33.4 | cis-1.12 | policies | 1 | 27 | 5 | 1 | 0 |" in summary


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


# ---------------------------------------------------------------------------------------------------------------
# online: kubernetes.core.k8s_info against a fake API server on 127.0.0.1 serving the fixture dump
# ---------------------------------------------------------------------------------------------------------------
def _fixture_by_kind():
    by_kind = {}
    for name in sorted(os.listdir(DUMP)):
        with open(os.path.join(DUMP, name)) as handle:
            doc = json.load(handle) if name.endswith(".json") else yaml.safe_load(handle)
        for item in doc.get("items") or []:
            by_kind.setdefault(item["kind"], []).append(item)
    return by_kind


class FakeApiServer(object):
    """Discovery (/version, /apis, /api/v1, /apis/<group>/<version>) and cluster-wide lists, as the API server
    answers them (list items carry no kind/apiVersion)."""

    def __init__(self):
        self.by_kind = _fixture_by_kind()
        self.requests = []
        with open(PLAYBOOK) as handle:
            kinds = yaml.safe_load(handle)[0]["vars"]["cluster_audit_kinds"]
        self.resources = {}  # group/version path -> [APIResource]
        self.lists = {}      # list path -> (kind, api_version)
        for entry in kinds:
            kind, api_version = entry["kind"], entry["api_version"]
            plural = {"Endpoints": "endpoints", "NetworkPolicy": "networkpolicies"}.get(kind, kind.lower() + "s")
            base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            self.resources.setdefault(base, []).append({
                "name": plural, "singularName": kind.lower(), "kind": kind, "verbs": ["get", "list", "watch"],
                "namespaced": kind not in ("Namespace", "Node", "ClusterRole", "ClusterRoleBinding")})
            self.lists[base + "/" + plural] = (kind, api_version)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                server.requests.append(path)
                body = server.answer(path)
                data = json.dumps(body if body is not None else {"kind": "Status", "code": 404}).encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, path):
        if path == "/version":
            return {"major": "1", "minor": "33", "gitVersion": "v1.33.4", "platform": "linux/amd64"}
        if path == "/apis":
            groups = sorted(set(p.split("/")[2] for p in self.resources if p.startswith("/apis/")))
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}} for g in groups]}
        if path in self.resources:
            return {"kind": "APIResourceList", "groupVersion": path.split("/", 2)[2].replace("v1", "v1", 1),
                    "resources": self.resources[path]}
        if path in self.lists:
            kind, api_version = self.lists[path]
            items = [dict((k, v) for k, v in obj.items() if k not in ("kind", "apiVersion"))
                     for obj in self.by_kind.get(kind, [])]
            return {"kind": kind + "List", "apiVersion": api_version, "metadata": {"resourceVersion": "1000"},
                    "items": items}
        return None

    def kubeconfig(self, path):
        host, port = self.httpd.server_address
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": "http://%s:%d" % (host, port)}}],
            "users": [{"name": "auditor", "user": {"token": "read-only"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "auditor"}}]}))
        return str(path)


@pytest.fixture
def api_server():
    server = FakeApiServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_online_with_k8s_info(tmp_path, api_server):
    """Five kinds keep it quick (one k8s_info module run each); the rules that need other kinds are WARN."""
    pytest.importorskip("kubernetes")
    kubeconfig = api_server.kubeconfig(tmp_path / "kubeconfig")
    kinds = [{"kind": "Namespace", "api_version": "v1"},
             {"kind": "NetworkPolicy", "api_version": "networking.k8s.io/v1"},
             {"kind": "DaemonSet", "api_version": "apps/v1"},
             {"kind": "ClusterRoleBinding", "api_version": "rbac.authorization.k8s.io/v1"},
             {"kind": "RoleBinding", "api_version": "rbac.authorization.k8s.io/v1"}]
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"cluster_kubeconfig": kubeconfig, "cluster_name": "online", "cis_fail_on": "none",
                                 "cluster_audit_kinds": kinds}))
    rc, out = play(tmp_path, "-e", "@%s" % extra)
    assert rc == 0, out
    assert "/api/v1/namespaces" in api_server.requests and "/apis/apps/v1/daemonsets" in api_server.requests
    assert not any("secrets" in p for p in api_server.requests)  # Secrets are never read
    report = json.loads((tmp_path / "reports" / "online.json").read_text())
    checks = dict((r["test_number"], r) for c in report["Controls"] for g in c["tests"] for r in g["results"])

    def objects(cid):
        return [f["object"] for f in checks[cid].get("findings") or []]
    assert objects("5.3.2") == ["Namespace/ci", "Namespace/default", "Namespace/legacy"]
    assert objects("5.2.3") == ["DaemonSet/monitoring/node-exporter"]  # kube-proxy is in kube-system
    assert objects("5.1.1") == ["ClusterRoleBinding/dev-admins", "ClusterRoleBinding/tiller-admin",
                                "RoleBinding/legacy/legacy-admin"]
    assert checks["5.1.2"]["secure_cluster_status"] == "WARN"  # ClusterRoles were not fetched
    assert "not judged: the input has no ClusterRole, Role" in checks["5.1.2"]["reason"]


def test_node_audit_reports_the_cluster_beside_the_nodes(tmp_path):
    """audit.yml with cis_cluster_dump_dir: the cluster is a pseudo-host of the same reports and gate. The node
    here is this machine (connection local; no Kubernetes on it), which is enough for the report's shape."""
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT)
    cmd = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", os.path.join(COLLECTION, "playbooks", "audit.yml"),
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "cis_cluster_dump_dir=%s" % DUMP,
           "-e", "cis_cluster_name=prod", "-e", "cis_report_dir=%s" % (tmp_path / "out"),
           "-e", '{"cis_waivers": [{"id": "5.1.3", "reason": "SEC-7", "expires": "2999-01-01"}]}']
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out  # the cluster's failures count in the gate (cis_fail_on=any)
    assert sorted(os.listdir(tmp_path / "out")) == [
        "cis.sarif", "localhost.json", "localhost.junit.xml", "oscal-assessment-results.json", "prod.json",
        "prod.junit.xml", "summary.md"]
    # the fleet's OSCAL and SARIF, node and cluster together, as the official schemas have them
    oscal = json.loads((tmp_path / "out" / "oscal-assessment-results.json").read_text())
    sarif = json.loads((tmp_path / "out" / "cis.sarif").read_text())
    assert schema_check.oscal_errors(oscal) == [] and schema_check.sarif_errors(sarif) == []
    # (what localhost reports depends on what runs on this machine: only the cluster's results are fixed)
    waived = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "cis-1.12/5.1.3"
              and r["properties"]["host"] == "prod"]
    assert [(r["kind"], r["suppressions"][0]["justification"]) for r in waived] == [
        ("fail", "SEC-7 (until 2999-01-01)")]
    assert oscal["assessment-results"]["metadata"]["version"] == GALAXY_VERSION
    summary = (tmp_path / "out" / "summary.md").read_text()
    # the node without Kubernetes has no version: judged against the newest benchmark; the cluster from its own
    assert "| prod | 1.33.4 | cis-1.12 | policies |" in summary and "| localhost | ? | cis-2.0 |" in summary
    data = json.loads((tmp_path / "out" / "prod.json").read_text())
    checks = dict((r["test_number"], r) for c in data["Controls"] for g in c["tests"] for r in g["results"])
    assert checks["5.1.3"]["secure_cluster_status"] == "WAIVED"
    assert checks["5.1.1"]["status"] == "FAIL"
    node = json.loads((tmp_path / "out" / "localhost.json").read_text())
    node_checks = dict((r["test_number"], r) for c in node["Controls"] for g in c["tests"] for r in g["results"])
    assert all(r["status"] != "FAIL" for i, r in node_checks.items() if i.startswith("5."))
