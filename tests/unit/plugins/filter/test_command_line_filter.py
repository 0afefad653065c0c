# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.filter.command_line import command_line

ENV_FILE = """# /etc/default/etcd
ETCD_NAME=m1
  ETCD_DATA_DIR="/srv/etcd data"
export ETCD_INITIAL_ADVERTISE_PEER_URLS='https://10.0.0.1:2380'
ETCD_UNKNOWN_THING=x
"""


def test_stacked_manifest_command():
    got = command_line(["etcd", "--data-dir=/var/lib/etcd", "--name", "cp1", "--client-cert-auth",
                        "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.1:2379"])
    assert got["program"] == "etcd"
    assert got["flags"] == {"data-dir": "/var/lib/etcd", "name": "cp1", "client-cert-auth": "true",
                            "listen-client-urls": "https://127.0.0.1:2379,https://10.0.0.1:2379"}


def test_environment_fills_in_what_the_command_line_lacks():
    got = command_line("/usr/bin/etcd --name from-argv", env=ENV_FILE)
    # the command line wins; ETCD_NAME is a conflict etcd refuses, and is not applied
    assert got["flags"]["name"] == "from-argv"
    assert got["flags"]["data-dir"] == "/srv/etcd data"
    assert got["flags"]["initial-advertise-peer-urls"] == "https://10.0.0.1:2380"
    assert "unknown-thing" not in got["flags"]
    assert command_line([], env={"ETCD_DATA_DIR": "/d"})["flags"] == {"data-dir": "/d"}


def test_repeats_underscores_and_the_end_of_flags():
    got = command_line(["kube-apiserver", "--audit_log_path", "/var/log/a.log", "--v=2", "--v=4", "--", "--x"])
    assert got["flags"] == {"audit-log-path": "/var/log/a.log", "v": "4"}
    assert got["multi"]["v"] == ["2", "4"] and got["repeated"] == ["v"] and got["positional"] == ["--x"]
    assert command_line(["--a=1"], has_program=False)["flags"] == {"a": "1"}


def test_refuses_what_is_not_a_command_line():
    with pytest.raises(AnsibleFilterError, match="argv list or a command string"):
        command_line({"not": "argv"})
