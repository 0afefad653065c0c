# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd config rendering and the check that containerd read what was intended, against a real
``containerd config dump`` of containerd 1.6.20 (Debian bookworm) reading the role's config."""
from __future__ import annotations

import os
import tomllib

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import containerd_toml as ct

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CRI = "io.containerd.grpc.v1.cri"


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(name="dump")
def dump_fixture():
    return fixture("containerd-1.6-dump.toml")


@pytest.fixture(name="intended")
def intended_fixture():
    """The settings the role rendered into the candidate that containerd dumped above."""
    return fixture("containerd-1.6-candidate.toml")


@pytest.mark.parametrize("output,version,fmt", [
    ("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", (1, 6), 2),
    ("containerd containerd.io 1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da", (1, 7), 2),
    ("containerd github.com/containerd/containerd/v2 v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4", (2, 0), 3),
    ("containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7193e4e490e9fbdc236c0e811ccaba3376", (2, 1), 3),
])
def test_version_and_format(output, version, fmt):
    assert ct.containerd_version(output) == version
    assert ct.config_version(output) == fmt


@pytest.mark.parametrize("output", ["", "containerd: command not found", "containerd github.com/x 1.4.13 abc"])
def test_version_refused(output):
    with pytest.raises(ValueError):
        ct.config_version(output)


def test_render_round_trips_through_toml():
    settings = {
        "version": 2,
        "root": "/var/lib/containerd",
        "grpc": {"address": "/run/containerd/containerd.sock", "uid": 0, "gid": 997},
        "plugins": {CRI: {
            "sandbox_image": "registry.k8s.io/pause:3.10",
            "enable_unprivileged_ports": False,
            "containerd": {"runtimes": {
                "runc": {"runtime_type": "io.containerd.runc.v2", "options": {"SystemdCgroup": True}},
                "kata": {"runtime_type": "io.containerd.kata.v2", "options": {}},
            }},
        }},
        "odd": {'with "quotes" and \\ and\ttab\nnewline': ["a", 1.5, True], "weird key.with dot": 1},
    }
    text = ct.render(settings)
    assert tomllib.loads(text) == settings
    # quoted plugin keys, and the empty options table exists
    assert '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata.options]' in text
    # a table with only sub-tables below the top level gets no header of its own
    assert "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n" not in text


def test_render_leaves_out_none():
    text = ct.render({"version": 2, "oom_score": None, "grpc": {"gid": None, "uid": 0}, "l": [1, None, 2]})
    assert tomllib.loads(text) == {"version": 2, "grpc": {"uid": 0}, "l": [1, 2]}


@pytest.mark.parametrize("settings", [{"a": [{"b": 1}]}, {"a": float("nan")}, {"a": object()}])
def test_render_refuses_what_toml_cannot_hold(settings):
    with pytest.raises(ValueError):
        ct.render(settings)


def test_render_refuses_non_dict():
    with pytest.raises(ValueError):
        ct.render(["version", 2])


def test_real_dump_matches_what_was_intended(intended, dump):
    assert ct.mismatches(intended, dump) == []
    # containerd added its defaults around the intended settings
    assert dump["plugins"][CRI]["max_concurrent_downloads"] == 3
    assert "max_concurrent_downloads" not in intended["plugins"][CRI]


def test_misspelled_key_is_named(intended, dump):
    intended["plugins"][CRI]["enable_unprivilged_ports"] = True
    problems = ct.mismatches(intended, dump)
    assert len(problems) == 1
    assert 'plugins."io.containerd.grpc.v1.cri".enable_unprivilged_ports' in problems[0]
    assert problems[0].startswith("unknown key")


def test_misspelled_table_is_named(intended, dump):
    intended["plugins"]["io.containerd.grpc.v1.crii"] = {"sandbox_image": "x"}
    problems = ct.mismatches(intended, dump)
    assert problems == ['unknown table plugins."io.containerd.grpc.v1.crii": containerd ignored it (misspelled, '
                        'or not a setting of this containerd version and config format)']


@pytest.mark.parametrize("path,value", [
    (("grpc", "gid"), 998),                      # a different value
    (("grpc", "gid"), "997"),                    # a string where containerd has an int
    (("plugins", CRI, "enable_tls_streaming"), 0),  # an int where containerd has a bool
    (("plugins", CRI, "cni", "conf_dir"), ["/etc/cni/net.d"]),
])
def test_different_value_is_named(intended, dump, path, value):
    node = intended
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = ct.mismatches(intended, dump)
    assert len(problems) == 1
    assert "intended %r" % (value,) in problems[0]
    assert path[-1] in problems[0]


def test_table_where_containerd_has_a_value(dump):
    problems = ct.mismatches({"grpc": {"address": {"path": "/x"}}}, dump)
    assert problems == ["grpc.address: intended a table, containerd read '/run/containerd/containerd.sock'"]


def test_none_is_not_compared(dump):
    assert ct.mismatches({"grpc": {"gid": None}, "nothing": None}, dump) == []


def test_lists_compare_in_order():
    assert ct.mismatches({"l": ["a", "b"]}, {"l": ["a", "b"]}) == []
    assert len(ct.mismatches({"l": ["a", "b"]}, {"l": ["b", "a"]})) == 1
    assert len(ct.mismatches({"l": ["a"]}, {"l": ["a", "b"]})) == 1
