# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The static_pod_manifest action plugin driving the real module (run in-process on a node tree in tmp_path)."""
from __future__ import annotations

import json
import os
import stat

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.secure_cluster.k8s.plugins.action import static_pod_manifest
from ansible_collections.secure_cluster.k8s.plugins.doc_fragments import static_pod_volumes
from ansible_collections.secure_cluster.k8s.plugins.modules import static_pod_manifest as module
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.action.action_task import new_action
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.doc_options import merged_doc
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.test_static_pod import manifest_text


class Node(object):
    """A node tree under ``root``: manifests, PKI files, and a fake _execute_module that runs the module."""

    def __init__(self, root, capsys, minor="1.33"):
        self.root = root
        self.capsys = capsys
        self.calls = []
        self.manifests = root / "etc/kubernetes/manifests"
        self.manifests.mkdir(parents=True)
        self.backups = root / "var/lib/secure_cluster/backups/manifests"
        for component in ("kube-apiserver", "kube-scheduler"):
            path = self.manifests / ("%s.yaml" % component)
            path.write_text(manifest_text(component, minor))
            os.chmod(path, 0o600)
        # every file the generated manifests name, at its host path under root
        for component in ("kube-apiserver", "kube-scheduler"):
            pod = yaml.safe_load(manifest_text(component, minor))
            for token in pod["spec"]["containers"][0]["command"][1:]:
                value = token.partition("=")[2]
                if value.startswith("/etc/kubernetes/"):
                    self.file(value, "x")

    def file(self, path, text):
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def path(self, component):
        return str(self.manifests / ("%s.yaml" % component))

    def execute_module(self, module_name, module_args, task_vars, check_mode):
        assert module_name == "secure_cluster.k8s.static_pod_manifest"
        self.calls.append(json.loads(json.dumps(module_args)))
        args = json.loads(json.dumps(module_args))
        # the flags name node paths; look them up inside the node tree
        args["_node_checks"] = [dict(c, path=str(self.root / c["path"].lstrip("/")))
                                for c in args.get("_node_checks") or []]
        if check_mode:
            args["_ansible_check_mode"] = True
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(self.capsys.readouterr().out)

    def run(self, args, check_mode=False, diff=False):
        action = new_action(static_pod_manifest, "static_pod_manifest", args, check_mode, diff)
        self.calls = []
        action._execute_module = lambda module_name, module_args, task_vars: self.execute_module(
            module_name, module_args, task_vars, check_mode)
        return action.run(task_vars={"inventory_hostname": "cp1"})


@pytest.fixture
def node(tmp_path, capsys):
    return Node(tmp_path / "node", capsys)


def scheduler_args(node, **extra):
    return dict(dict(path=node.path("kube-scheduler"), flags={"profiling": False}, backup_dir=str(node.backups)),
                **extra)


def test_documentation():
    doc = merged_doc(module)
    assert doc["module"] == "static_pod_manifest"
    assert doc["version_added"] == "0.1.0"
    assert doc["author"] == ["secure_cluster.k8s maintainers (@secure-cluster)"]
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert doc["attributes"]["platform"]["platforms"] == "posix"
    assert isinstance(yaml.safe_load(module.EXAMPLES), list)
    assert "flags_changed" in yaml.safe_load(module.RETURN)
    fragment = yaml.safe_load(static_pod_volumes.ModuleDocFragment.DOCUMENTATION)["options"]
    user_options = set(o for o in doc["options"] if not o.startswith("_"))
    assert user_options == set(static_pod_manifest.ARGUMENT_SPEC)
    assert set(fragment["volumes"]["suboptions"]) == set(static_pod_manifest.ARGUMENT_SPEC["volumes"]["options"])
    assert doc["options"]["backup_dir"]["default"] == static_pod_manifest.DEFAULT_BACKUP_DIR
    assert doc["options"]["backup_keep"]["default"] == static_pod_manifest.ARGUMENT_SPEC["backup_keep"]["default"]


def test_sets_flag_with_one_read_one_write_backup_and_diff(node):
    old = open(node.path("kube-scheduler")).read()
    result = node.run(scheduler_args(node), diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [c["_mode"] for c in node.calls] == ["read", "write"]
    new = open(node.path("kube-scheduler")).read()
    assert new == old.replace("    - --leader-elect=true\n", "    - --leader-elect=true\n    - --profiling=false\n")
    assert stat.S_IMODE(os.stat(node.path("kube-scheduler")).st_mode) == 0o600
    assert sorted(os.listdir(node.manifests)) == ["kube-apiserver.yaml", "kube-scheduler.yaml"]
    assert os.path.dirname(result["backup_path"]) == str(node.backups)
    assert open(result["backup_path"]).read() == old
    assert result["flags_changed"] == {"added": {"profiling": "false"}, "changed": {}, "removed": {}}
    assert result["version"] == "1.33.5" and result["component"] == "kube-scheduler"
    assert result["diff"] == [{"before_header": node.path("kube-scheduler"), "after_header": node.path("kube-scheduler"),
                               "before": old, "after": new}]
    # the preflight checked the kubeconfig the scheduler reads
    assert {"flag": "kubeconfig", "path": "/etc/kubernetes/scheduler.conf", "kind": "file",
            "may_create": False} in node.calls[1]["_node_checks"]

    again = node.run(scheduler_args(node), diff=True)
    assert again["changed"] is False and not again.get("failed")
    assert [c["_mode"] for c in node.calls] == ["read"]
    assert again["flags_changed"] == {"added": {}, "changed": {}, "removed": {}}
    assert "diff" not in again
    assert open(node.path("kube-scheduler")).read() == new
    assert len(os.listdir(node.backups)) == 1


def test_check_mode_predicts_and_writes_nothing(node):
    old = open(node.path("kube-scheduler")).read()
    result = node.run(scheduler_args(node), check_mode=True, diff=True)
    assert result["changed"] is True and not result.get("failed")
    assert result["flags_changed"]["added"] == {"profiling": "false"}
    assert "--profiling=false" in result["diff"][0]["after"]
    assert open(node.path("kube-scheduler")).read() == old
    assert not node.backups.exists()
    assert result["backup_path"] is None


@pytest.mark.parametrize("minor", ["1.28", "1.33"])
def test_insecure_port_refused_nothing_written(tmp_path, capsys, minor):
    node = Node(tmp_path / "node", capsys, minor)
    old = open(node.path("kube-apiserver")).read()
    result = node.run(dict(path=node.path("kube-apiserver"), flags={"insecure-port": 0, "profiling": False},
                           backup_dir=str(node.backups)))
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("refused, nothing written to %s: --insecure-port is not accepted by kube-apiserver v%s: "
                             "it was removed in v1.24" % (node.path("kube-apiserver"), minor))
    assert [c["_mode"] for c in node.calls] == ["read"]
    assert open(node.path("kube-apiserver")).read() == old


def test_missing_file_refused_by_preflight(node):
    old = open(node.path("kube-apiserver")).read()
    args = dict(path=node.path("kube-apiserver"), backup_dir=str(node.backups),
                flags={"audit-policy-file": "/etc/kubernetes/audit/policy.yaml"},
                volumes=[{"name": "audit", "hostPath": "/etc/kubernetes/audit"}])
    result = node.run(args)
    assert result["failed"] is True
    assert "--audit-policy-file: file %s does not exist on the node" % (
        node.root / "etc/kubernetes/audit/policy.yaml") in result["msg"]
    assert open(node.path("kube-apiserver")).read() == old and not node.backups.exists()
    # preflight off: written (the health gate of the roles is then the only safety net)
    result = node.run(dict(args, preflight=False))
    assert result["changed"] is True
    # with the file present: written with the volume
    node.file("/etc/kubernetes/audit/policy.yaml", "apiVersion: audit.k8s.io/v1\n")
    result = node.run(args)
    assert result["changed"] is False  # already written by the run without preflight
    pod = yaml.safe_load(open(node.path("kube-apiserver")).read())
    assert {"mountPath": "/etc/kubernetes/audit", "name": "audit", "readOnly": True} in (
        pod["spec"]["containers"][0]["volumeMounts"])


def test_file_not_mounted_and_anonymous_auth_refused(node):
    old = open(node.path("kube-apiserver")).read()
    result = node.run(dict(path=node.path("kube-apiserver"), backup_dir=str(node.backups),
                           flags={"encryption-provider-config": "/etc/kubernetes/enc/enc.yaml", "anonymous-auth": False}))
    assert result["failed"] is True
    assert len(result["errors"]) == 2
    assert "restart-loop" in result["errors"][0]
    assert "/etc/kubernetes/enc/enc.yaml is not inside any volume mounted into container kube-apiserver" in (
        result["errors"][1])
    assert open(node.path("kube-apiserver")).read() == old


def test_bad_input(node):
    result = node.run(scheduler_args(node, backup_dir=str(node.manifests / "backups")))
    assert result["failed"] is True and "second static pod" in result["msg"] and node.calls == []
    result = node.run(scheduler_args(node, path=str(node.manifests / "nope.yaml")))
    assert result["failed"] is True and "does not exist" in result["msg"]
    (node.manifests / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    result = node.run(scheduler_args(node, path=str(node.manifests / "broken.yaml")))
    assert result["failed"] is True and "not valid YAML" in result["msg"]
    result = node.run(scheduler_args(node, container="nope"))
    assert result["failed"] is True and "no container named nope" in result["msg"]


def test_module_refuses_direct_use(capsys):
    with patch_module_args({"path": "/etc/kubernetes/manifests/kube-scheduler.yaml"}):
        with pytest.raises(SystemExit):
            module.main()
    out = json.loads(capsys.readouterr().out)
    assert out["failed"] is True and "action plugin" in out["msg"]
