# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containerd filters as the role uses them: render, dump text in, sentences out."""
from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.filter import containerd as flt

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module_utils", "fixtures")


def read(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


def test_filters_are_registered():
    assert set(flt.FilterModule().filters()) == {
        "containerd_from_toml", "containerd_to_toml", "containerd_config_version", "containerd_config_mismatches"}


def test_rendered_candidate_checked_against_dump_text():
    intended = flt.containerd_from_toml(read("containerd-1.6-candidate.toml"))
    dump = read("containerd-1.6-dump.toml")
    assert flt.containerd_config_mismatches(intended, dump) == []
    intended["grpc"]["gidd"] = 5
    assert flt.containerd_config_mismatches(intended, dump) == [
        "unknown key grpc.gidd: containerd ignored it (misspelled, or not a setting of this containerd version and "
        "config format)"]


def test_to_toml_and_back():
    settings = {"version": 3, "plugins": {"io.containerd.cri.v1.images": {"pinned_images": {"sandbox": "p:1"}}}}
    assert flt.containerd_from_toml(flt.containerd_to_toml(settings)) == settings


def test_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="not valid TOML"):
        flt.containerd_from_toml("version = = 2")
    with pytest.raises(AnsibleFilterError, match="cannot read a containerd version"):
        flt.containerd_config_version("bash: containerd: command not found")
    with pytest.raises(AnsibleFilterError, match="lists of tables"):
        flt.containerd_to_toml({"a": [{"b": 1}]})
    assert flt.containerd_config_version("containerd github.com/containerd/containerd/v2 v2.0.2 abc") == 3
