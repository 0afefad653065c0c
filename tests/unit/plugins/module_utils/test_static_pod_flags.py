# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of static_pod.pod_flags (read-only flag view) and the apiserver role's filters."""
from __future__ import annotations

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.filter import apiserver as filters
from ansible_collections.secure_cluster.k8s.plugins.module_utils import static_pod as sp
from ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader import node_init as ni

IP = "10.89.0.2"


def apiserver_pod(minor):
    return ni.apiserver_manifest(minor, ni.PATCH_FOR_MINOR[minor], IP, lambda _path: False)


@pytest.mark.parametrize("minor", ["1.28", "1.33", "1.35"])
def test_pod_flags_of_a_kubeadm_apiserver(minor):
    pod = apiserver_pod(minor)
    view = sp.pod_flags(pod)
    assert view["component"] == "kube-apiserver" and view["version"].startswith(minor + ".")
    assert view["flags"]["authorization-mode"] == "Node,RBAC"
    assert "NodeRestriction" in view["flags"]["enable-admission-plugins"].split(",")
    tokens = [t for t in pod["spec"]["containers"][0]["command"][1:] if t.startswith("--")]
    assert len(view["flags"]) == len(set(t.split("=", 1)[0] for t in tokens))


def test_pod_flags_agrees_with_edit_pod():
    pod = apiserver_pod("1.33")
    edit = sp.edit_pod(pod, flags={"profiling": False, "enable-admission-plugins": ["PodSecurity"]})
    after = sp.pod_flags(edit.pod)["flags"]
    assert after["profiling"] == "false"
    assert after["enable-admission-plugins"].split(",")[-1] == "PodSecurity"
    assert sp.pod_flags(pod)["flags"].get("profiling") is None


def test_pod_flags_last_occurrence_and_lists_merge():
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "kube-apiserver", "image": "x/kube-apiserver:v1.30.1",
                                                   "command": ["kube-apiserver", "--profiling=true", "--profiling=false",
                                                               "--authorization-mode=Node",
                                                               "--authorization-mode=RBAC"]}]}}
    flags = sp.pod_flags(pod)["flags"]
    assert flags == {"profiling": "false", "authorization-mode": "Node,RBAC"}


def test_pod_flags_filter_and_errors():
    text = yaml.safe_dump(apiserver_pod("1.31"))
    assert filters.pod_flags(text)["version"].startswith("1.31.")
    assert filters.pod_flags(text, version="1.32")["version"] == "1.32"
    with pytest.raises(AnsibleFilterError, match="not a Pod"):
        filters.pod_flags("kind: Service\n")


def test_encryption_filter_refuses_without_quoting_the_key():
    bad = "YWJj"  # 3 bytes
    with pytest.raises(AnsibleFilterError) as info:
        filters.encryption_config_plan({"cp1": None}, "aescbc", user_key=bad)
    assert "nothing written" in str(info.value) and bad not in str(info.value)


def test_encryption_filter_returns_errors_when_asked():
    result = filters.encryption_config_plan({"cp1": None}, "aescbc", user_key="YWJj", raise_errors=False)
    assert result["config"] is None and "3 bytes long" in result["errors"][0]
    assert filters.encryption_key_problem("YWJj", "aescbc").startswith("the aescbc key is 3 bytes")
    assert filters.encryption_key_problem("YWJjZGVmZ2hpamtsbW5vcA==", "aescbc") == ""
