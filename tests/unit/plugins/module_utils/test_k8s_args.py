# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_args
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import (
    parse_argv,
    parse_cmdline_bytes,
    parse_duration,
    parse_env_file,
    parse_map,
    split_list,
    systemd_exec_argv,
    to_bool,
)

# kube-apiserver command as kubeadm v1.33 writes it into the static pod manifest.
KUBEADM_APISERVER = [
    "kube-apiserver",
    "--advertise-address=10.89.0.2",
    "--allow-privileged=true",
    "--authorization-mode=Node,RBAC",
    "--client-ca-file=/etc/kubernetes/pki/ca.crt",
    "--enable-admission-plugins=NodeRestriction",
    "--enable-bootstrap-token-auth=true",
    "--etcd-servers=https://127.0.0.1:2379",
    "--secure-port=6443",
    "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
]


def test_equals_form_and_program():
    parsed = parse_argv(KUBEADM_APISERVER)
    assert parsed.program == "kube-apiserver"
    assert parsed.get("authorization-mode") == "Node,RBAC"
    assert parsed.get("--secure-port") == "6443"
    assert parsed.get_list("authorization-mode") == ["Node", "RBAC"]
    assert parsed.has("allow-privileged")
    assert not parsed.has("anonymous-auth")
    assert parsed.get("anonymous-auth", "default") == "default"
    assert list(parsed.flags)[0] == "advertise-address"


def test_space_separated_value_for_non_bool():
    parsed = parse_argv(["kubelet", "--config", "/var/lib/kubelet/config.yaml", "--v", "2"])
    assert parsed.get("config") == "/var/lib/kubelet/config.yaml"
    assert parsed.get("v") == "2"
    assert parsed.positional == []


def test_bare_bool_does_not_consume_next_token():
    parsed = parse_argv(["etcd", "--client-cert-auth", "--data-dir", "/var/lib/etcd", "--peer-auto-tls"])
    assert parsed.get("client-cert-auth") == "true"
    assert parsed.get_bool("client-cert-auth") is True
    assert parsed.get("data-dir") == "/var/lib/etcd"
    assert parsed.get_bool("peer-auto-tls") is True
    assert "client-cert-auth" in parsed.bare


def test_bool_with_explicit_false():
    parsed = parse_argv(["kube-apiserver", "--anonymous-auth=false", "--profiling=False"])
    assert parsed.get_bool("anonymous-auth") is False
    assert parsed.get_bool("profiling") is False


def test_flag_types_table_decides_bools():
    # Unknown to the built-in list, declared bool by the type table: must not eat "/x".
    parsed = parse_argv(["x", "--my-switch", "/x"], flag_types={"my-switch": "bool"})
    assert parsed.get("my-switch") == "true"
    assert parsed.positional == ["/x"]
    # And a name the built-in list calls bool but the table calls string consumes its value.
    parsed = parse_argv(["x", "--profiling", "yes"], flag_types={"profiling": "string"})
    assert parsed.get("profiling") == "yes"


def test_repeated_flags_last_wins_keep_all():
    parsed = parse_argv([
        "kube-apiserver", "--profiling=true", "--enable-admission-plugins=NodeRestriction",
        "--profiling=false", "--enable-admission-plugins=AlwaysPullImages,EventRateLimit",
    ])
    assert parsed.get("profiling") == "false"
    assert parsed.values("profiling") == ["true", "false"]
    assert parsed.get_list("enable-admission-plugins") == ["NodeRestriction", "AlwaysPullImages", "EventRateLimit"]
    assert sorted(parsed.repeated()) == ["enable-admission-plugins", "profiling"]
    assert parsed.multi["profiling"] == ["true", "false"]


def test_feature_gates_map_merges():
    parsed = parse_argv([
        "kube-controller-manager", "--feature-gates=RotateKubeletServerCertificate=true,Foo=false",
        "--feature-gates=Foo=true",
    ])
    gates = parsed.get_map("feature-gates")
    assert gates == {"RotateKubeletServerCertificate": "true", "Foo": "true"}
    assert to_bool(gates["Foo"]) is True
    assert parsed.get_map("nope") is None


def test_single_dash_long_flags_and_terminator():
    parsed = parse_argv(["etcd", "-name=n1", "-listen-client-urls", "https://x:2379", "--", "--not-a-flag"])
    assert parsed.get("name") == "n1"
    assert parsed.get("listen-client-urls") == "https://x:2379"
    assert parsed.positional == ["--not-a-flag"]
    assert not parsed.has("not-a-flag")


def test_negative_number_value_and_trailing_value_flag():
    parsed = parse_argv(["kubelet", "--event-qps", "-1", "--hostname-override"])
    assert parsed.get("event-qps") == "-1"
    assert parsed.has("hostname-override")
    assert parsed.get("hostname-override") == "true"


def test_no_program_and_bad_input():
    parsed = parse_argv(["--a=b"], has_program=False)
    assert parsed.program is None and parsed.get("a") == "b"
    assert parse_argv(None).flags == {}
    assert parse_argv([]).program is None
    assert parse_argv("kube-scheduler --profiling=false --bind-address 127.0.0.1").get("bind-address") == "127.0.0.1"


def test_to_dict_shape():
    data = parse_argv(["kube-scheduler", "--profiling=false", "--profiling=true"]).to_dict()
    assert data == {
        "program": "kube-scheduler",
        "flags": {"profiling": "true"},
        "multi": {"profiling": ["false", "true"]},
        "positional": [],
        "repeated": ["profiling"],
    }


@pytest.mark.parametrize("raw,expected", [
    (b"kube-apiserver\0--a=b\0--c\0", ["kube-apiserver", "--a=b", "--c"]),
    (b"", []),
    (b"nginx: master process /usr/sbin/nginx", ["nginx:", "master", "process", "/usr/sbin/nginx"]),
    ("kubelet\0--v=2\0", ["kubelet", "--v=2"]),
])
def test_parse_cmdline_bytes(raw, expected):
    assert parse_cmdline_bytes(raw) == expected


@pytest.mark.parametrize("value,expected", [
    ("true", True), ("T", True), ("1", True), (True, True),
    ("false", False), ("FALSE", False), ("0", False), (False, False),
    ("yes", None), (None, None),
])
def test_to_bool(value, expected):
    assert to_bool(value) is expected


def test_split_list_and_parse_map():
    assert split_list(" Node, RBAC ,,") == ["Node", "RBAC"]
    assert split_list(["A,B", "C"]) == ["A", "B", "C"]
    assert split_list(None) == []
    assert parse_map("A=true, B=false,C") == {"A": "true", "B": "false", "C": None}
    assert parse_map({"A": True}) == {"A": True}


@pytest.mark.parametrize("value,expected", [
    ("4h0m0s", 14400.0), ("5m", 300.0), ("0", 0.0), ("0s", 0.0), ("1h30m", 5400.0),
    ("300ms", 0.3), ("1.5h", 5400.0), (30, 30.0), ("60", 60.0), ("abc", None), ("5x", None), ("", None),
    (None, None),
])
def test_parse_duration(value, expected):
    got = parse_duration(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_parse_env_file():
    text = (
        "# kubeadm writes this\n"
        'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock '
        '--pod-infra-container-image=registry.k8s.io/pause:3.10"\n'
        "export KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5\n"
        "not a line\n"
        "EMPTY=\n"
    )
    env = parse_env_file(text)
    assert env["KUBELET_KUBEADM_ARGS"].startswith("--container-runtime-endpoint=unix://")
    assert env["KUBELET_KUBEADM_ARGS"].endswith("pause:3.10")
    assert env["KUBELET_EXTRA_ARGS"] == "--node-ip=10.0.0.5"
    assert env["EMPTY"] == ""
    assert parse_env_file(None) == {}


KUBELET_UNIT = """[Unit]
Description=kubelet: The Kubernetes Node Agent

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
"""

KUBEADM_DROPIN = """# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""


def test_systemd_exec_argv_kubeadm_dropin():
    result = systemd_exec_argv(
        [KUBELET_UNIT, KUBEADM_DROPIN],
        {"/var/lib/kubelet/kubeadm-flags.env":
         'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n'},
    )
    assert result["argv"] == [
        "/usr/bin/kubelet",
        "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
        "--kubeconfig=/etc/kubernetes/kubelet.conf",
        "--config=/var/lib/kubelet/config.yaml",
        "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
    ]
    assert result["missing_environment_files"] == ["/etc/default/kubelet"]
    parsed = parse_argv(result["argv"])
    assert parsed.get("config") == "/var/lib/kubelet/config.yaml"


def test_systemd_exec_argv_braces_and_continuation():
    unit = "[Service]\nEnvironment=A=1 B=x\nExecStart=-/bin/k \\\n  --a=${A} $B\n"
    result = systemd_exec_argv([unit])
    assert result["argv"] == ["/bin/k", "--a=1", "x"]


def test_systemd_exec_argv_without_execstart():
    result = systemd_exec_argv(["[Unit]\nDescription=x\n", None])
    assert result["argv"] == [] and result["exec_start"] is None


def test_known_bool_flags_are_names_without_dashes():
    assert all(not name.startswith("-") for name in k8s_args.KNOWN_BOOL_FLAGS)
    assert "anonymous-auth" in k8s_args.KNOWN_BOOL_FLAGS
