# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flag data files: present, in the shape k8s_flag_data checks, in canonical form, read once."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flag_data


@pytest.mark.parametrize("name", sorted(k8s_flag_data.FILES))
def test_each_file_is_valid_and_canonical(name):
    """Canonical (sorted, one entry a line) so that a change is a reviewable diff; the generated file is checked
    against the binaries by tests/unit/testbed/test_real_flags.py and `flag_data.py check`."""
    path = os.path.join(k8s_flag_data.DATA_DIR, name + ".json")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert k8s_flag_data.dumps(json.loads(text)) == text, "%s is not in the form k8s_flag_data.dumps writes" % path
    assert k8s_flag_data.load(name)


def test_the_data_dir_holds_exactly_the_known_files():
    assert sorted(os.listdir(k8s_flag_data.DATA_DIR)) == sorted(name + ".json" for name in k8s_flag_data.FILES)


def test_read_once_per_process():
    assert k8s_flag_data.load("k8s_feature_gates") is k8s_flag_data.load("k8s_feature_gates")


def test_pairs_become_tuples():
    release = k8s_flag_data.load("k8s_release_flags")
    assert release["flags"]["kubelet"]["anonymous-auth"] == ("bool", None, None)
    volume = release["kubeadm_manifests"]["1.34"]["etcd"]["volumes"]["etcd-data"]
    assert isinstance(volume, tuple) and len(volume) == 3


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("hidden"), r"keys \[.*\], expected \[.*'hidden'"),
    (lambda d: d["releases"].update({"1.x": "1.0.0"}), r"releases key: '1.x' is not a minor"),
    (lambda d: d["flags"].update({"etcd": {}}), r"flags key: 'etcd' is not one of"),
    (lambda d: d["flags"]["kubelet"].update({"x": ["bool", None]}), r"flags.kubelet.x: .* does not have 3 items"),
    (lambda d: d["flags"]["kubelet"].update({"x": ["bool", "1.34.1", None]}), r"flags.kubelet.x\[1\]: '1.34.1' is not a minor"),
    (lambda d: d["kubeadm_manifests"]["1.34"]["etcd"]["volumes"].update({"v": ["/a", "/a", "yes"]}),
     r"volumes.v\[2\]: 'yes' is not true or false"),
])
def test_a_malformed_file_is_refused_naming_the_place(mutate, message):
    with open(os.path.join(k8s_flag_data.DATA_DIR, "k8s_release_flags.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    mutate(data)
    with pytest.raises(k8s_flag_data.DataFileError, match=message):
        k8s_flag_data.validate("k8s_release_flags", data)


def test_a_bad_gate_history_is_refused():
    with open(os.path.join(k8s_flag_data.DATA_DIR, "k8s_feature_gates.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    data["gates"]["MadeUp"] = "1.31 alpha"
    with pytest.raises(k8s_flag_data.DataFileError, match=r"gates.MadeUp: '1.31 alpha' is not a gate history"):
        k8s_flag_data.validate("k8s_feature_gates", data)


def test_a_missing_or_broken_file_says_which(tmp_path, monkeypatch):
    monkeypatch.setattr(k8s_flag_data, "DATA_DIR", str(tmp_path))
    monkeypatch.setattr(k8s_flag_data, "_LOADED", {})
    with pytest.raises(k8s_flag_data.DataFileError, match="cannot read the flag data file .*read on the controller"):
        k8s_flag_data.load("k8s_feature_gates")
    (tmp_path / "k8s_feature_gates.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(k8s_flag_data.DataFileError, match="is not valid JSON"):
        k8s_flag_data.load("k8s_feature_gates")
    with pytest.raises(k8s_flag_data.DataFileError, match="no flag data file 'other'"):
        k8s_flag_data.load("other")


def test_dumps_is_canonical():
    assert k8s_flag_data.dumps({"b": {"y": [1, None], "x": {}}, "a": "s"}) == (
        '{\n  "a": "s",\n  "b": {\n    "x": {},\n    "y": [1, null]\n  }\n}\n')
