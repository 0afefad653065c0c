# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet_config action plugin with its calls to the node replaced by fakes."""
from __future__ import annotations

import base64
import hashlib

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.action import kubelet_config
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.action.action_task import new_action
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.test_kubelet_config import (
    GOOD_SYSCTLS,
    HOST_SYSCTLS,
    kubeadm_text,
)

PATH = "/var/lib/kubelet/config.yaml"
CA = "/etc/kubernetes/pki/ca.crt"


def facts(text, mode="0644", sysctls=None, version="v1.33.5", path=PATH):
    return {"node_facts": {
        "kubelet": {"config": {"path": path, "text": text, "exists": text is not None}},
        "stats": {path: {"exists": text is not None, "mode": mode, "owner": "root", "group": "root"},
                  CA: {"exists": True, "mode": "0644", "owner": "root", "group": "root"}},
        "sysctls": dict(sysctls or GOOD_SYSCTLS),
        "version": {"kubernetes": "1.33.5", "components": {"kubelet": {"version": version}}},
    }}


class Node(object):
    """Records the calls the action makes to the node."""

    def __init__(self, facts_result, slurp=None, stat_exists=None):
        self.facts_result = facts_result
        self.slurp = slurp or {}
        self.stat_exists = stat_exists or {}
        self.calls = []
        self.writes = []

    def module(self, name, args, task_vars):
        self.calls.append((name, args))
        if name == "secure_cluster.k8s.node_facts":
            return self.facts_result
        if name == "ansible.legacy.slurp":
            if args["src"] not in self.slurp:
                return {"failed": True, "msg": "file not found: %s" % args["src"]}
            return {"content": base64.b64encode(self.slurp[args["src"]].encode()).decode()}
        if name == "ansible.legacy.stat":
            return {"stat": {"exists": self.stat_exists.get(args["path"], False)}}
        if name == "secure_cluster.k8s.owned_file":
            self.writes.append(args)
            current = self.slurp.get(args["path"])
            backup = None
            if current is not None and current != args["content"] and args.get("backup_dir"):
                backup = "%s/config.yaml.20261207T120000.000000Z.bak" % args["backup_dir"]
            return {"changed": True, "backup_path": backup}
        raise AssertionError("unexpected module %s" % name)


def run(args, node, check_mode=False, diff=False):
    action = new_action(kubelet_config, "kubelet_config", args, check_mode, diff)
    action._module = node.module
    return action.run(task_vars={"inventory_hostname": "cp1"})


SETTINGS = {"readOnlyPort": 0, "streamingConnectionIdleTimeout": "5m", "protectKernelDefaults": True}


def test_merge_backup_and_one_write():
    node = Node(facts(kubeadm_text("1.33")), slurp={PATH: kubeadm_text("1.33")})
    result = run({"settings": SETTINGS}, node)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["changed_keys"] == ["protectKernelDefaults", "readOnlyPort", "streamingConnectionIdleTimeout"]
    assert result["version"] == "1.33.5" and result["config_path"] == PATH
    node_facts_args = node.calls[0][1]
    assert node.calls[0][0] == "secure_cluster.k8s.node_facts"
    assert node_facts_args["sysctls"] == list(GOOD_SYSCTLS) and node_facts_args["version_from_binaries"] is True
    # one write: the merged content, guarded by the sha256 of the file that was judged, with its backup
    assert len(node.writes) == 1
    write = node.writes[0]
    assert write["path"] == PATH and write["mode"] == "0600" and (write["owner"], write["group"]) == ("root", "root")
    assert write["expected_sha256"] == hashlib.sha256(kubeadm_text("1.33").encode()).hexdigest()
    assert write["backup_dir"] == "/var/lib/secure_cluster/backups/kubelet" and write["backup_keep"] == 5
    written = yaml.safe_load(write["content"])
    assert written["readOnlyPort"] == 0 and written["clusterDNS"] == ["10.96.0.10"]
    assert result["backup_path"] == "/var/lib/secure_cluster/backups/kubelet/config.yaml.20261207T120000.000000Z.bak"
    assert [name for name, dummy in node.calls] == ["secure_cluster.k8s.node_facts", "secure_cluster.k8s.owned_file"]


def test_check_mode_writes_nothing_and_predicts_with_diff():
    node = Node(facts(kubeadm_text("1.33")))
    result = run({"settings": SETTINGS}, node, check_mode=True, diff=True)
    assert result["changed"] is True and node.writes == []
    assert result["backup_path"] is None
    content, attrs = result["diff"]
    assert content["before"] == kubeadm_text("1.33")
    assert yaml.safe_load(content["after"])["protectKernelDefaults"] is True
    assert attrs["before"] == "group: root\nmode: 0644\nowner: root\n"
    assert attrs["after"] == "group: root\nmode: 0600\nowner: root\n"


def test_refused_with_wrong_sysctls_nothing_written():
    node = Node(facts(kubeadm_text("1.33"), sysctls=HOST_SYSCTLS))
    result = run({"settings": SETTINGS}, node)
    assert result["failed"] is True and result["changed"] is False
    assert node.writes == []
    assert "kernel.panic expected 10, actual 0" in result["msg"]
    assert "the kubelet would refuse to start" in result["msg"]
    assert result["problems"] and result["msg"].startswith(PATH + " was not changed")


def test_unknown_field_refused_nothing_written():
    node = Node(facts(kubeadm_text("1.33")))
    result = run({"settings": {"readOnlyPrt": 0}}, node)
    assert result["failed"] is True and node.writes == [] and "'readOnlyPrt'" in result["msg"]


def test_mode_change_alone_is_a_change():
    node = Node(facts(kubeadm_text("1.33"), mode="0644"))
    result = run({"settings": {"rotateCertificates": True}}, node)  # kubeadm already writes it
    assert result["changed"] is True and result["changed_keys"] == []
    assert [(w["path"], w["content"], w["mode"]) for w in node.writes] == [(PATH, kubeadm_text("1.33"), "0600")]
    assert result["backup_path"] is None


def test_nothing_to_do():
    node = Node(facts(kubeadm_text("1.33"), mode="0600"))
    result = run({"settings": {"rotateCertificates": True, "cgroupDriver": "systemd"}, "mode": 0o600}, node, diff=True)
    assert result["changed"] is False and node.writes == [] and result["diff"] == []


def test_path_option_is_slurped_and_version_option_used():
    other = "/etc/kubelet/custom.yaml"
    node = Node(facts(kubeadm_text("1.33")), slurp={other: kubeadm_text("1.28")})
    stats = node.facts_result["node_facts"]["stats"]
    stats[other] = {"exists": True, "mode": "0600", "owner": "root", "group": "root"}
    result = run({"settings": {"imageMaximumGCAge": "1h"}, "path": other, "version": "1.28.15"}, node)
    assert result["failed"] is True and "added in v1.29" in result["msg"]
    assert result["config_path"] == other and result["version"] == "1.28.15"
    assert node.calls[0][1]["extra_paths"] == [other] and node.calls[0][1]["version_from_binaries"] is False
    assert ("ansible.legacy.slurp", {"src": other}) in node.calls


def test_named_file_not_in_facts_is_stat_ed():
    node = Node(facts(kubeadm_text("1.33")), stat_exists={"/var/lib/kubelet/pki/kubelet.crt": True})
    result = run({"settings": {"tlsCertFile": "/var/lib/kubelet/pki/kubelet.crt",
                               "tlsPrivateKeyFile": "/var/lib/kubelet/pki/kubelet.key"}}, node)
    assert result["failed"] is True
    assert "tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key does not exist on the node" in result["msg"]
    assert "tlsCertFile" not in result["msg"]


def test_missing_config_and_undetected_version():
    result = run({"settings": {}}, Node(facts(None)))
    assert result["failed"] is True and "does not exist on the node" in result["msg"]
    result = run({"settings": {}}, Node(facts(kubeadm_text("1.33"), version=None)))
    assert result["failed"] is True and "could not detect the kubelet version" in result["msg"]


@pytest.mark.parametrize("mode, expected", [(0o600, "0600"), ("0600", "0600"), ("600", "0600"), ("0640", "0640")])
def test_normalize_mode(mode, expected):
    assert kubelet_config.normalize_mode(mode) == expected


@pytest.mark.parametrize("mode", ["u=rw", True, "0999", 0o10000])
def test_normalize_mode_refuses(mode):
    with pytest.raises(ValueError):
        kubelet_config.normalize_mode(mode)
