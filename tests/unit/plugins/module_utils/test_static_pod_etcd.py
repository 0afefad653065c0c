# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""static_pod.edit_pod on kubeadm's stacked etcd manifest: etcd's own flag set, file checks, version."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import static_pod as sp
from ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader import node_init as ni


def etcd_pod(minor):
    return yaml.safe_load(ni.to_yaml(ni.etcd_manifest(minor, "cp1", "10.89.0.2")))


@pytest.mark.parametrize("minor", ["1.28", "1.33", "1.35"])
def test_etcd_hardening_flags_accepted(minor):
    res = sp.edit_pod(etcd_pod(minor), flags={"auto-tls": False, "peer-auto-tls": False,
                                              "quota-backend-bytes": 8589934592, "auto-compaction-retention": "8"})
    assert res.errors == [] and res.component == "etcd" and res.changed
    assert res.flags_changed["added"] == {"auto-compaction-retention": "8", "auto-tls": "false",
                                          "peer-auto-tls": "false", "quota-backend-bytes": "8589934592"}
    assert "--quota-backend-bytes=8589934592" in res.pod["spec"]["containers"][0]["command"]
    checked = sorted(c["flag"] for c in res.node_checks)
    assert checked == ["cert-file", "key-file", "peer-cert-file", "peer-key-file", "peer-trusted-ca-file",
                       "trusted-ca-file"]


def test_etcd_version_comes_from_the_image_and_gates_flags():
    pod = etcd_pod("1.33")
    res = sp.edit_pod(pod, flags={"tls-min-version": "TLS1.2"})
    assert res.version.startswith("3.5.") and res.errors == []
    res = sp.edit_pod(pod, flags={"tls-min-version": "TLS1.2"}, version="3.4.23")
    assert "added in etcd 3.5" in res.errors[0]
    res = sp.edit_pod(pod, flags={"client-cert-auth": "yes"})
    assert "boolean" in res.errors[0]
    with pytest.raises(sp.ManifestError, match="unsupported etcd version"):
        sp.edit_pod(pod, version="1.33")


def test_etcd_cert_outside_the_mounts_is_refused():
    res = sp.edit_pod(etcd_pod("1.33"), flags={"cert-file": "/root/server.crt"})
    assert any("not inside any volume" in e for e in res.errors)
