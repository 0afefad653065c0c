# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sysctl_profile and kernel_modules modules end to end on a fake /proc/sys and tmp files."""
from __future__ import annotations

import functools
import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kernel_modules as km
from ansible_collections.secure_cluster.k8s.plugins.module_utils import sysctl_profile as sp
from ansible_collections.secure_cluster.k8s.plugins.modules import kernel_modules
from ansible_collections.secure_cluster.k8s.plugins.modules import sysctl_profile


def run(module, capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def proc(tmp_path, monkeypatch):
    root = tmp_path / "proc_sys"
    for name, value in {"net.ipv4.ip_forward": 1, "net.bridge.bridge-nf-call-iptables": 1, "kernel.panic": 0,
                        "net.ipv4.conf.all.send_redirects": 1}.items():
        path = root.joinpath(*name.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("%s\n" % value)
    read_live = sp.read_live
    monkeypatch.setattr(sp, "read_live", lambda name, proc_sys=None: read_live(name, str(root)))
    monkeypatch.setattr(sp, "apply", functools.partial(sp.apply, proc_sys=str(root)))
    monkeypatch.setattr(sp, "shadowing", lambda sysctls, path: [])
    return root


@pytest.mark.parametrize("module", [sysctl_profile, kernel_modules])
def test_documentation(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["author"] == ["secure_cluster.k8s maintainers (@secure-cluster)"]
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert isinstance(yaml.safe_load(module.EXAMPLES), list)
    assert yaml.safe_load(module.RETURN)


def test_sysctl_refusal_writes_nothing(proc, tmp_path, capsys):
    path = tmp_path / "k8s.conf"
    rc, out = run(sysctl_profile, capsys, {"sysctls": {"net.ipv4.ip_forward": 0},
                                           "required": {"net.ipv4.ip_forward": 1}, "path": str(path),
                                           "node_kind": "host"})
    assert rc == 1 and "net.ipv4.ip_forward = 0 is refused" in out["msg"]
    assert not path.exists()
    assert (proc / "net" / "ipv4" / "ip_forward").read_text() == "1\n"


def test_sysctl_missing_required_key_fails_before_writing(proc, tmp_path, capsys):
    path = tmp_path / "k8s.conf"
    (proc / "net" / "bridge" / "bridge-nf-call-iptables").unlink()
    rc, out = run(sysctl_profile, capsys, {"sysctls": {"kernel.panic": 10}, "path": str(path), "node_kind": "host",
                                           "required": {"net.bridge.bridge-nf-call-iptables": 1}})
    assert rc == 1 and "br_netfilter" in out["msg"]
    assert not path.exists()


def test_sysctl_check_mode_then_apply_then_idempotent(proc, tmp_path, capsys):
    path = tmp_path / "k8s.conf"
    args = {"sysctls": {"kernel.panic": 10, "net.ipv4.conf.all.send_redirects": 0},
            "required": {"net.ipv4.ip_forward": 1}, "path": str(path), "node_kind": "host", "_ansible_diff": True}
    rc, out = run(sysctl_profile, capsys, args, check_mode=True)
    assert rc == 0 and out["changed"] and sorted(out["applied"]) == ["kernel.panic", "net.ipv4.conf.all.send_redirects"]
    assert not path.exists() and (proc / "kernel" / "panic").read_text() == "0\n"
    assert "kernel.panic = 10" in out["diff"]["after"]
    rc, out = run(sysctl_profile, capsys, args)
    assert rc == 0 and out["changed"] and out["parameters"]["kernel.panic"]["status"] == "applied"
    assert (proc / "kernel" / "panic").read_text() == "10\n"
    assert sp.parse_conf(path.read_text()) == {"kernel.panic": "10", "net.ipv4.conf.all.send_redirects": "0",
                                               "net.ipv4.ip_forward": "1"}
    rc, out = run(sysctl_profile, capsys, args)
    assert rc == 0 and not out["changed"] and out["applied"] == []


def test_sysctl_container_reports_host_owned_and_strict_fails(proc, tmp_path, capsys):
    path = tmp_path / "k8s.conf"
    args = {"sysctls": {"kernel.panic": 10, "net.ipv4.conf.all.send_redirects": 0}, "path": str(path),
            "node_kind": "container"}
    rc, out = run(sysctl_profile, capsys, args)
    assert rc == 0 and out["host_owned"] == ["kernel.panic"] and out["not_applied"] == ["kernel.panic"]
    assert out["parameters"]["kernel.panic"]["status"] == "host-owned-mismatch"
    assert (proc / "kernel" / "panic").read_text() == "0\n"
    assert "kernel.panic = 10" not in path.read_text().splitlines()
    rc, out = run(sysctl_profile, capsys, dict(args, strict=True))
    assert rc == 1 and "kernel.panic" in out["msg"]


def test_kernel_modules_refuses_a_required_module_in_the_blacklist(tmp_path, capsys):
    rc, out = run(kernel_modules, capsys, {"blacklist": ["br_netfilter"], "node_kind": "host",
                                           "blacklist_path": str(tmp_path / "b.conf"),
                                           "load_path": str(tmp_path / "l.conf")})
    assert rc == 1 and "Kubernetes needs it loaded" in out["msg"]
    assert not (tmp_path / "b.conf").exists()


def test_kernel_modules_in_a_container_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(km, "present_without_modules", lambda name: name == "br_netfilter")
    rc, out = run(kernel_modules, capsys, {"blacklist": ["dccp"], "node_kind": "container",
                                           "blacklist_path": str(tmp_path / "b.conf"),
                                           "load_path": str(tmp_path / "l.conf")})
    assert rc == 0 and not out["changed"]
    assert out["modules"]["br_netfilter"]["status"] == "host-owned"
    assert out["modules"]["overlay"]["status"] == "host-owned-missing"
    assert not (tmp_path / "b.conf").exists() and not (tmp_path / "l.conf").exists()


def test_sysctl_check_mode_tolerates_a_key_an_earlier_task_would_create(proc, tmp_path, capsys):
    (proc / "net" / "bridge" / "bridge-nf-call-iptables").unlink()
    args = {"sysctls": {"kernel.panic": 10}, "path": str(tmp_path / "k8s.conf"), "node_kind": "host",
            "required": {"net.bridge.bridge-nf-call-iptables": 1}}
    rc, out = run(sysctl_profile, capsys, args, check_mode=True)
    assert rc == 0 and out["parameters"]["net.bridge.bridge-nf-call-iptables"]["status"] == "missing"
    rc, out = run(sysctl_profile, capsys, args)
    assert rc == 1 and "does not exist on this kernel" in out["msg"]
