# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health gate's decisions, with the node replaced by recorded module results and time by a fake clock."""
from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import health_gate as hg

MANIFEST = "/etc/kubernetes/manifests/kube-scheduler.yaml"
BACKUP = "/var/lib/secure_cluster/backups/manifests/kube-scheduler.yaml.20261207T120000.000000Z.bak"
NEW = ["kube-scheduler", "--bind-address=127.0.0.1", "--profiling=false"]
OLD = ["kube-scheduler", "--bind-address=127.0.0.1"]
URL = "https://127.0.0.1:10259/livez"


def manifest(command):
    return "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    command:\n%s" % "".join(
        "    - %s\n" % arg for arg in command)


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


class Node(object):
    """A node whose answers change with the (fake) time: ``script(node)`` returns the current processes, HTTP
    status, command results and unit states; every call is recorded."""

    def __init__(self, files=None, processes=None, http=200, commands=None, units=None):
        self.now = 0.0
        self.files = dict(files or {})
        self.processes = processes if callable(processes) else (lambda node, p=processes or {}: p)
        self.http = http if callable(http) else (lambda node, h=http: h)
        self.commands = commands or {}
        self.units = units if callable(units) else (lambda node, u=units or ("active", 100): u)
        self.calls = []
        self.restarts = 0

    def sleep(self, seconds):
        self.now += seconds

    def clock(self):
        return self.now

    def call(self, name, args):
        self.calls.append((name, args))
        if name == "ansible.legacy.slurp":
            src = args["src"]
            if src.startswith("/proc/"):
                pid = int(src.split("/")[2])
                argv = self.processes(self).get(pid)
                return {"content": b64("\0".join(argv) + "\0")} if argv else {"failed": True, "msg": "gone"}
            if src not in self.files:
                return {"failed": True, "msg": "file not found: %s" % src}
            return {"content": b64(self.files[src])}
        if name == "ansible.legacy.command":
            argv = args["argv"]
            if argv[0] == "pgrep":
                return {"rc": 0, "stdout": "\n".join(str(p) for p in sorted(self.processes(self)))}
            if argv[0] == "journalctl":
                return {"rc": 0, "stdout": "line 1\nerror: bad flag"}
            result = self.commands.get(tuple(argv), {"rc": 0, "stdout": ""})
            return result(self) if callable(result) else result
        if name == "ansible.legacy.uri":
            status = self.http(self)
            return {"status": status} if status == 200 else {"failed": True, "status": status, "msg": "Status code was %s" % status}
        if name == "ansible.legacy.systemd_service":
            if args.get("state") == "restarted":
                self.restarts += 1
                return {"changed": True}
            state, pid = self.units(self)
            return {"status": {"ActiveState": state, "MainPID": str(pid)}}
        if name == "secure_cluster.k8s.owned_file":
            self.files[args["path"]] = args["content"]
            return {"changed": True}
        if name == "ansible.legacy.file":
            self.files.pop(args["path"], None)
            return {"changed": True}
        raise AssertionError("unexpected module %s" % name)


def static_args(**extra):
    args = dict(component="kube-scheduler", static_pod={"manifest": MANIFEST, "state_dir": "/run/static-pods"},
                unit=None, http={"url": URL, "client_cert": None, "client_key": None}, commands=[],
                rollback_commands=None, failed_checks=[],
                restore=[{"path": MANIFEST, "backup": BACKUP, "remove_without_backup": False, "mode": "0600",
                          "owner": "root", "group": "root"}],
                changes={"added": ["profiling"], "changed": [], "removed": []}, timeout=20, stable_seconds=0,
                delay=2, log_lines=20)
    args.update(extra)
    return args


def unit_args(**extra):
    args = static_args(component="containerd", static_pod=None, unit={"name": "containerd.service", "restart": True},
                       http=None, restore=[{"path": "/etc/containerd/config.toml", "backup": "/b/config.toml.bak",
                                            "remove_without_backup": True, "mode": "0600", "owner": None,
                                            "group": None}],
                       changes=None, stable_seconds=5,
                       commands=[{"name": "ctr version", "argv": ["ctr", "version"], "expect": "rc", "value": None}])
    args.update(extra)
    return args


def run(args, node):
    return hg.Gate(args, node.call, node.sleep, node.clock).run()


# -- pure pieces ------------------------------------------------------------------------------------------------
def test_manifest_command_and_process_choice():
    assert hg.manifest_command(manifest(NEW)) == NEW
    with pytest.raises(ValueError, match="no spec.containers"):
        hg.manifest_command("kind: Pod\n")
    assert hg.choose_process({7: ["/usr/local/bin/kube-scheduler"] + NEW[1:]}, NEW) == (7, None)
    # a wrapper's own argument before the manifest's (the test nodes' stand-in binaries)
    assert hg.choose_process({7: ["/usr/local/bin/kube-scheduler", "/lib/standin.py"] + NEW[1:]}, NEW) == (7, None)
    assert hg.choose_process({7: ["kube-scheduler", "--x"] + NEW[1:]}, OLD)[0] is None
    # the old process of a change that removed the first flag is not the new one
    assert hg.choose_process({7: NEW}, ["kube-scheduler"] + NEW[2:])[0] is None
    assert hg.choose_process({}, NEW) == (None, "no kube-scheduler process runs")
    assert hg.choose_process({7: OLD, 9: NEW}, NEW)[1] == "2 kube-scheduler processes run (PIDs 7, 9)"
    assert "another command line" in hg.choose_process({7: OLD}, NEW)[1]
    # a process that only mentions the name (pgrep -f matches it) is not the component
    assert hg.choose_process({5: ["tail", "-f", "kube-scheduler.log"], 7: NEW}, NEW) == (7, None)
    # the same words in another argv split are another command line: lists are compared, not strings
    assert hg.choose_process({7: ["kube-scheduler", "--bind-address=127.0.0.1 --profiling=false"]}, NEW)[0] is None


def test_etcd_member_and_containerd_plugin_parsers():
    members = json.dumps({"members": [{"ID": 10276657743932975437}, {"ID": 1}]})
    assert hg.etcd_member_listed(members, "10276657743932975437")
    assert hg.etcd_member_listed(members, "8e9e05c52164694d")  # etcdctl's hexadecimal form
    assert not hg.etcd_member_listed(members, "2")
    assert not hg.etcd_member_listed("not json", "1")
    table = ("TYPE                            ID          PLATFORMS      STATUS\n"
             "io.containerd.grpc.v1           cri                        ok\n"
             "io.containerd.grpc.v1           tasks                      skip\n")
    assert hg.containerd_plugin_ok(table, "io.containerd.grpc.v1.cri")
    assert not hg.containerd_plugin_ok(table, "io.containerd.grpc.v1.tasks")
    assert not hg.containerd_plugin_ok(table.replace("cri                        ok", "cri     error"),
                                       "io.containerd.grpc.v1.cri")


def test_validate_names_each_problem():
    assert hg.validate(static_args()) == []
    errors = hg.validate(static_args(unit={"name": "x", "restart": True}, http=None, timeout=0, delay=0,
                                     stable_seconds=-1))
    assert errors == ["exactly one of static_pod and unit is required: how the new process is recognised",
                      "nothing to probe: give http, commands or both", "timeout must be at least 1 (seconds)",
                      "stable_seconds must not be negative", "delay must be at least 1 (seconds)"]
    assert hg.validate(static_args(http={"url": URL, "client_cert": "/c", "client_key": None})) == [
        "http.client_cert and http.client_key go together"]
    assert hg.validate(static_args(commands=[{"name": None, "argv": ["ctr"], "expect": "containerd_plugin",
                                              "value": None}])) == ["ctr: expect=containerd_plugin needs value"]


def test_changes_in_words():
    assert hg.describe_changes({"added": ["profiling"], "changed": ["bind-address"], "removed": []}) == \
        "flags added profiling; changed bind-address"
    assert hg.describe_changes(["tlsCertFile", "readOnlyPort"]) == "changed: tlsCertFile, readOnlyPort"
    assert hg.describe_changes({"added": []}) == "no flag changed"


# -- the gate ---------------------------------------------------------------------------------------------------
def test_static_pod_passes_once_the_new_command_runs_and_answers():
    # the old pod runs for 4 s, then the new one; its endpoint answers 200 from 6 s on
    node = Node(files={MANIFEST: manifest(NEW)},
                processes=lambda n: {40: OLD} if n.now < 4 else {41: NEW},
                http=lambda n: 200 if n.now >= 6 else 503)
    result = run(static_args(), node)
    assert result["healthy"] is True and result["pid"] == 41 and not result.get("failed")
    assert result["changed"] is False  # the kubelet restarted the pod, not the gate
    assert not any(name == "secure_cluster.k8s.owned_file" for name, _a in node.calls)
    assert node.now == 6


def test_static_pod_that_crash_loops_is_rolled_back_with_a_clear_message():
    # the new pod never stays up; after the restore the old one runs and answers
    node = Node(files={MANIFEST: manifest(NEW), BACKUP: manifest(OLD),
                       "/run/static-pods/kube-scheduler.json": json.dumps(
                           {"last_log_lines": ["E1207 strict decoding error: unknown field \"notAField\""]})},
                processes=lambda n: {42: OLD} if n.files[MANIFEST] == manifest(OLD) else {},
                http=lambda n: 200 if n.files[MANIFEST] == manifest(OLD) else 503)
    result = run(static_args(), node)
    assert result["failed"] is True and result["healthy"] is False and result["healthy_after_rollback"] is True
    assert node.files[MANIFEST] == manifest(OLD)
    write = [a for name, a in node.calls if name == "secure_cluster.k8s.owned_file"]
    assert write == [{"path": MANIFEST, "content": manifest(OLD), "mode": "0600", "owner": "root", "group": "root"}]
    assert result["msg"] == (
        "kube-scheduler failed its health gate after %s changed (flags added profiling): not healthy within 20 s: "
        "no kube-scheduler process runs. Rolled back: %s was restored from %s, and kube-scheduler is healthy again. "
        "Last log lines (/run/static-pods/kube-scheduler.json): E1207 strict decoding error: unknown field "
        "\"notAField\"" % (MANIFEST, MANIFEST, BACKUP))


def test_static_pod_whose_endpoint_never_answers_names_the_endpoint_and_an_unhealthy_restore():
    node = Node(files={MANIFEST: manifest(NEW), BACKUP: manifest(OLD)},
                processes=lambda n: {41: NEW} if n.files[MANIFEST] == manifest(NEW) else {42: OLD}, http=500)
    result = run(static_args(static_pod={"manifest": MANIFEST, "state_dir": ""}), node)
    assert result["reason"] == "not healthy within 20 s: %s answered 500 (Status code was 500)" % URL
    assert "kube-scheduler is STILL NOT HEALTHY within 20 s, check the node (%s answered 500" % URL in result["msg"]
    assert result["msg"].endswith("Last log lines (no pod state file): not available")


def test_a_process_that_is_replaced_after_the_probes_fails_the_second_look():
    node = Node(files={MANIFEST: manifest(NEW), BACKUP: manifest(OLD)},
                processes=lambda n: ({41: NEW} if n.now < 3 else {43: NEW}) if n.files[MANIFEST] == manifest(NEW)
                else {44: OLD})
    result = run(static_args(stable_seconds=3), node)
    assert result["reason"] == "the process did not keep running: PID 41 passed the probes, 3 s later PID 43 ran"
    assert result["healthy_after_rollback"] is True


def test_unit_is_restarted_and_needs_a_new_main_pid():
    node = Node(units=lambda n: ("active", 100 if n.restarts == 0 or n.now < 2 else 200))
    result = run(unit_args(), node)
    assert node.restarts == 1 and result["healthy"] is True and result["pid"] == 200
    assert result["changed"] is True
    assert result["steps"] == ["restarted containerd.service", "healthy as PID 200", "still PID 200 after 5 s"]


def test_unit_rollback_removes_a_file_that_did_not_exist_and_uses_the_rollback_probes():
    config = "/etc/containerd/config.toml"

    def version(node):
        return {"rc": 0, "stdout": "Server: v2"} if config not in node.files else {"rc": 1, "stderr": "no socket"}

    node = Node(files={config: "root = '/proc/x'"}, units=lambda n: ("active", 100 + n.restarts),
                commands={("ctr", "version"): version, ("ctr", "--address", "/old.sock", "version"): version})
    args = unit_args(restore=[{"path": config, "backup": None, "remove_without_backup": True, "mode": "0600",
                               "owner": None, "group": None}],
                     rollback_commands=[{"name": "ctr version (old socket)", "argv": ["ctr", "--address", "/old.sock", "version"],
                                         "expect": "rc", "value": None}])
    result = run(args, node)
    assert result["reason"] == "not healthy within 20 s: `ctr version` failed (rc 1): no socket"
    assert config not in node.files and node.restarts == 2
    assert result["msg"].startswith("containerd failed its health gate after %s changed: " % config)
    assert "Rolled back: the new %s was removed (there was none before), and containerd is healthy again." % config \
        in result["msg"]
    assert "Last log lines (journalctl -u containerd.service): line 1 | error: bad flag" in result["msg"]
    assert ("ansible.legacy.command", {"argv": ["ctr", "--address", "/old.sock", "version"]}) in node.calls


def test_failed_restart_fails_the_gate_at_once():
    node = Node()
    node_call = node.call

    def call(name, args):
        if args.get("state") == "restarted" and node.restarts == 0:
            node.restarts += 1
            return {"failed": True, "msg": "Unable to restart service containerd.service: Job failed"}
        return node_call(name, args)

    result = hg.Gate(unit_args(restore=[]), call, node.sleep, node.clock).run()
    assert result["reason"] == ("systemctl restart containerd.service failed: Unable to restart service "
                                "containerd.service: Job failed")
    assert "Rolled back: nothing to restore" in result["msg"]


def test_failed_checks_of_the_caller_fail_a_healthy_gate():
    node = Node(units=lambda n: ("active", 100))
    args = unit_args(unit={"name": "kubelet.service", "restart": False}, component="kubelet",
                     failed_checks=["no verified serving certificate (CIS 4.2.11): CSR not approved"],
                     restore=[{"path": "/var/lib/kubelet/config.yaml", "backup": None, "remove_without_backup": False,
                               "mode": None, "owner": None, "group": None}], changes=[])
    result = run(args, node)
    assert node.restarts == 1  # the rollback restarts the unit; the gate did not
    assert result["reason"] == "no verified serving certificate (CIS 4.2.11): CSR not approved"
    assert "/var/lib/kubelet/config.yaml had no backup (its content did not change)" in result["msg"]
    assert "(no key changed)" in result["msg"]


def test_etcd_commands_check_the_member_list():
    etcdctl = ["etcdctl", "--endpoints=https://127.0.0.1:2379"]
    listing = {"rc": 0, "stdout": json.dumps({"members": [{"ID": 5}]})}
    node = Node(units=lambda n: ("active", 100 + n.restarts),
                commands={tuple(etcdctl + ["member", "list"]): listing},
                files={"/etc/default/etcd": "ETCD_X=1", "/b/etcd.bak": "ETCD_X=0"})
    commands = [{"name": "etcdctl endpoint health", "argv": etcdctl + ["endpoint", "health"], "expect": "rc",
                 "value": None},
                {"name": "etcdctl member list", "argv": etcdctl + ["member", "list"], "expect": "etcd_member",
                 "value": "6"}]
    args = unit_args(component="etcd", unit={"name": "etcd.service", "restart": True}, commands=commands,
                     restore=[{"path": "/etc/default/etcd", "backup": "/b/etcd.bak", "remove_without_backup": False,
                               "mode": None, "owner": None, "group": None}])
    result = run(args, node)
    assert result["reason"] == "not healthy within 20 s: member 6 is not in the member list (`etcdctl member list`)"
    assert node.files["/etc/default/etcd"] == "ETCD_X=0"
    assert [a for n, a in node.calls if n == "secure_cluster.k8s.owned_file"] == [
        {"path": "/etc/default/etcd", "content": "ETCD_X=0"}]  # mode and owner kept as they are
    assert "/etc/default/etcd was restored from /b/etcd.bak, and etcd is STILL NOT HEALTHY" in result["msg"]


def test_unreadable_backup_is_reported():
    node = Node(files={MANIFEST: manifest(NEW)}, processes={}, http=503)
    result = run(static_args(), node)
    assert result["rolled_back"] == ["the rollback failed: cannot read the backup %s" % BACKUP]
    assert "kube-scheduler is STILL NOT HEALTHY" in result["msg"]
