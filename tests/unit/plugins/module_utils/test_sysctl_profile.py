# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_profile: input refusals, the file, boot-order shadowing and live application against a fake /proc/sys."""
from __future__ import annotations

import os

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kernel_node
from ansible_collections.secure_cluster.k8s.plugins.module_utils import sysctl_profile as sp

REQUIRED = {"net.ipv4.ip_forward": 1, "net.bridge.bridge-nf-call-iptables": 1}


def fake_proc(tmp_path, values):
    root = tmp_path / "proc_sys"
    for name, value in values.items():
        path = root.joinpath(*name.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("%s\n" % value)
    return str(root)


def live(proc, name):
    return open(sp.proc_path(name, proc)).read().strip()


@pytest.mark.parametrize("value, expected", [(1, "1"), (True, "1"), (False, "0"), ("32768\t60999", "32768 60999"),
                                             ("|/bin/false", "|/bin/false"), (25000000, "25000000")])
def test_normalize(value, expected):
    assert sp.normalize(value) == expected


def test_kubelet_protected_values_are_what_the_kubelet_checks():
    assert dict(sp.KUBELET_PROTECTED) == {
        "vm.overcommit_memory": "1", "vm.panic_on_oom": "0", "kernel.panic": "10", "kernel.panic_on_oops": "1",
        "kernel.keys.root_maxkeys": "1000000", "kernel.keys.root_maxbytes": "25000000"}


def test_ip_forward_override_is_refused_with_the_reason():
    problems = sp.check_inputs({"net.ipv4.ip_forward": 0, "kernel.panic": 10}, REQUIRED)
    assert len(problems) == 1
    assert "net.ipv4.ip_forward = 0 is refused" in problems[0]
    assert "Kubernetes needs net.ipv4.ip_forward = 1" in problems[0]


def test_same_value_as_required_is_accepted():
    assert sp.check_inputs({"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": True}, REQUIRED) == []


@pytest.mark.parametrize("sysctls, fragment", [
    ({"kernel panic": 1}, "is not a sysctl name"),
    ({"kernel": 1}, "is not a sysctl name"),
    ({"kernel.panic": None}, "has no value"),
    ({"kernel.panic": "  "}, "has no value"),
    ({"kernel.core_pattern": "a\nb"}, "newline"),
])
def test_bad_inputs(sysctls, fragment):
    problems = sp.check_inputs(sysctls, {})
    assert len(problems) == 1 and fragment in problems[0]


def test_namespaced():
    assert sp.is_namespaced("net.ipv4.conf.all.send_redirects")
    assert sp.is_namespaced("kernel.shmmax")
    assert not sp.is_namespaced("kernel.panic")
    assert not sp.is_namespaced("vm.overcommit_memory")
    assert not sp.is_namespaced("fs.suid_dumpable")


def test_proc_path_slash_is_a_dot_inside_a_level():
    assert sp.proc_path("net.ipv4.conf.eth0/100.rp_filter", "/p") == "/p/net/ipv4/conf/eth0.100/rp_filter"


def test_render_comments_host_owned():
    text = sp.render("/etc/sysctl.d/x.conf", {"net.ipv4.ip_forward": "1", "kernel.panic": "10"}, ["kernel.panic"])
    lines = text.splitlines()
    assert "net.ipv4.ip_forward = 1" in lines
    assert "kernel.panic = 10" not in lines
    assert any(line.startswith("# kernel.panic = 10") and "host-owned" in line for line in lines)
    assert sp.parse_conf(text) == {"net.ipv4.ip_forward": "1"}


def test_parse_conf():
    text = "# c\n; c\n-net.ipv4.ip_forward=0\nnet/ipv4/tcp_syncookies = 1\nkernel.panic = 1\nkernel.panic=5\n"
    assert sp.parse_conf(text) == {"net.ipv4.ip_forward": "0", "net.ipv4.tcp_syncookies": "1", "kernel.panic": "5"}


def test_shadowing_names_the_later_file(tmp_path):
    etc = tmp_path / "etc" / "sysctl.d"
    usr = tmp_path / "usr" / "lib" / "sysctl.d"
    etc.mkdir(parents=True)
    usr.mkdir(parents=True)
    (etc / "99-secure-cluster-k8s.conf").write_text("kernel.panic = 10\n")
    (usr / "99-zz-vendor.conf").write_text("kernel.panic = 0\nkernel.kptr_restrict = 2\n")
    (usr / "10-early.conf").write_text("kernel.kptr_restrict = 0\n")
    (tmp_path / "etc" / "sysctl.conf").write_text("kernel.dmesg_restrict = 0\n")
    found = sp.shadowing({"kernel.panic": "10", "kernel.kptr_restrict": "2", "kernel.dmesg_restrict": "1"},
                         "/etc/sysctl.d/99-secure-cluster-k8s.conf", root=str(tmp_path))
    assert len(found) == 2
    assert any("/usr/lib/sysctl.d/99-zz-vendor.conf sets kernel.panic = 0" in s for s in found)
    assert any("/etc/sysctl.conf sets kernel.dmesg_restrict = 0" in s for s in found)


def test_etc_hides_a_file_of_the_same_name_in_usr(tmp_path):
    (tmp_path / "etc" / "sysctl.d").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "sysctl.d").mkdir(parents=True)
    (tmp_path / "etc" / "sysctl.d" / "99-x.conf").write_text("kernel.panic = 10\n")
    (tmp_path / "usr" / "lib" / "sysctl.d" / "99-x.conf").write_text("kernel.panic = 0\n")
    assert sp.boot_order(str(tmp_path)) == [str(tmp_path / "etc" / "sysctl.d" / "99-x.conf")]


def test_apply_on_a_host(tmp_path):
    proc = fake_proc(tmp_path, {"kernel.panic": 0, "kernel.kptr_restrict": 2, "net.ipv4.ip_forward": 1})
    wanted = {"kernel.panic": "10", "kernel.kptr_restrict": "2", "net.ipv4.ip_forward": "1",
              "net.bridge.bridge-nf-call-iptables": "1"}
    results = sp.apply(wanted, container=None, proc_sys=proc)
    assert results["kernel.panic"]["status"] == "applied"
    assert results["kernel.panic"]["before"] == "0" and results["kernel.panic"]["after"] == "10"
    assert live(proc, "kernel.panic") == "10"
    assert results["kernel.kptr_restrict"]["status"] == "ok"
    assert results["net.bridge.bridge-nf-call-iptables"]["status"] == "missing"


def test_check_mode_writes_nothing(tmp_path):
    proc = fake_proc(tmp_path, {"kernel.panic": 0})
    results = sp.apply({"kernel.panic": "10"}, check_mode=True, proc_sys=proc)
    assert results["kernel.panic"]["status"] == "would-apply"
    assert live(proc, "kernel.panic") == "0"


def test_container_never_writes_host_keys(tmp_path):
    proc = fake_proc(tmp_path, {"kernel.panic": 0, "vm.overcommit_memory": 1, "net.ipv4.conf.all.send_redirects": 1})
    results = sp.apply({"kernel.panic": "10", "vm.overcommit_memory": "1", "net.ipv4.conf.all.send_redirects": "0"},
                       container="podman", proc_sys=proc)
    assert results["kernel.panic"]["status"] == "host-owned-mismatch"
    assert "the host has 0, wanted 10" in results["kernel.panic"]["message"]
    assert live(proc, "kernel.panic") == "0"
    assert results["vm.overcommit_memory"]["status"] == "host-owned"
    assert results["net.ipv4.conf.all.send_redirects"]["status"] == "applied"


def test_write_refused_is_reported(tmp_path, monkeypatch):
    proc = fake_proc(tmp_path, {"net.ipv4.conf.all.send_redirects": 1})

    def read_only(name, value, proc_sys):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(sp, "write_live", read_only)
    results = sp.apply({"net.ipv4.conf.all.send_redirects": "0"}, container="podman", proc_sys=proc)
    assert results["net.ipv4.conf.all.send_redirects"]["status"] == "refused"
    assert "Read-only file system" in results["net.ipv4.conf.all.send_redirects"]["message"]


def test_read_back_differs_is_refused(tmp_path, monkeypatch):
    proc = fake_proc(tmp_path, {"kernel.kptr_restrict": 0})
    monkeypatch.setattr(sp, "write_live", lambda name, value, proc_sys: None)
    results = sp.apply({"kernel.kptr_restrict": "2"}, proc_sys=proc)
    assert results["kernel.kptr_restrict"]["status"] == "refused"
    assert "reads back 0" in results["kernel.kptr_restrict"]["message"]


@pytest.mark.parametrize("files, expected", [
    ({"run/systemd/container": "podman\n"}, "podman"),
    ({"run/.containerenv": ""}, "podman"),
    ({".dockerenv": ""}, "docker"),
    ({"proc/1/environ": "PATH=/bin\0container=lxc\0"}, "lxc"),
    ({"proc/1/environ": "PATH=/bin\0"}, None),
    ({}, None),
])
def test_detect_container(tmp_path, files, expected):
    for rel, content in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    assert kernel_node.detect_container(str(tmp_path)) == expected


class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode

    @staticmethod
    def atomic_move(src, dest):
        os.rename(src, dest)


def test_owned_file_writes_once_and_fixes_the_mode(tmp_path):
    path = str(tmp_path / "sub" / "f.conf")
    assert kernel_node.owned_file(FakeModule(check_mode=True), path, "a\n")["changed"]
    assert not os.path.exists(path)
    assert kernel_node.owned_file(FakeModule(), path, "a\n")["changed"]
    assert open(path).read() == "a\n" and os.stat(path).st_mode & 0o777 == 0o644
    assert not kernel_node.owned_file(FakeModule(), path, "a\n")["changed"]
    os.chmod(path, 0o600)
    assert kernel_node.owned_file(FakeModule(), path, "a\n")["changed"]
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_container_for_forced_answers(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".containerenv").write_text("")
    assert kernel_node.container_for("auto", str(tmp_path)) == "podman"
    assert kernel_node.container_for("host", str(tmp_path)) is None
    assert kernel_node.container_for("container", "/nonexistent") == "forced"
