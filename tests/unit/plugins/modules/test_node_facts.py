# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.secure_cluster.k8s.plugins.modules import node_facts


def run_module(capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            node_facts.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def test_documentation_is_valid_yaml():
    doc = yaml.safe_load(node_facts.DOCUMENTATION)
    assert doc["module"] == "node_facts"
    assert doc["version_added"] == "0.1.0"
    assert doc["author"] == ["secure_cluster.k8s maintainers (@secure-cluster)"]
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "none"
    assert doc["attributes"]["platform"]["platforms"] == "posix"
    assert isinstance(yaml.safe_load(node_facts.EXAMPLES), list)
    assert "node_facts" in yaml.safe_load(node_facts.RETURN)


def test_module_returns_facts_unchanged(monkeypatch, capsys):
    seen = {}

    def fake_collect(root, run_command, sysctls, extra_paths, version_from_binaries, kubeadm_config):
        seen.update(root=root, sysctls=sysctls, extra_paths=extra_paths, vfb=version_from_binaries,
                    kubeadm_config=kubeadm_config)
        seen["runner"] = run_command
        return {"schema_version": 1, "hostname": "n1"}

    monkeypatch.setattr(node_facts, "collect", fake_collect)
    code, out = run_module(capsys, {"sysctls": ["net.ipv4.ip_forward"], "extra_paths": ["/etc/x"]}, check_mode=True)
    assert code == 0
    assert out["changed"] is False
    assert out["node_facts"] == {"schema_version": 1, "hostname": "n1"}
    assert seen["root"] == "/"
    assert seen["sysctls"] == ["net.ipv4.ip_forward"]
    assert seen["extra_paths"] == ["/etc/x"]
    assert seen["vfb"] is True
    assert seen["kubeadm_config"] is True
    assert callable(seen["runner"])


def test_module_defaults(monkeypatch, capsys):
    seen = {}

    def fake_collect(**kwargs):
        seen.update(kwargs)
        return {}

    monkeypatch.setattr(node_facts, "collect", fake_collect)
    code, out = run_module(capsys, {})
    assert code == 0 and out["changed"] is False
    assert seen["sysctls"] is None and seen["extra_paths"] == []


def test_module_runs_on_this_host(capsys):
    """The real collector on the test runner's own root: must not fail whatever the host looks like."""
    code, out = run_module(capsys, {"version_from_binaries": False}, check_mode=True)
    assert code == 0
    facts = out["node_facts"]
    assert facts["schema_version"] == 1
    assert set(facts["processes"]) >= {"kubelet", "kube-apiserver", "etcd"}
