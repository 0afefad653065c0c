# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_modules: /proc/modules parsing, refusals, the blacklist file and what is loaded or unloaded."""
from __future__ import annotations

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kernel_modules as km

PROC_MODULES = """\
dccp_ipv4 36864 0 - Live 0x0000000000000000
dccp 118784 1 dccp_ipv4, Live 0x0000000000000000
sctp 434176 0 - Live 0x0000000000000000
br_netfilter 36864 0 - Live 0x0000000000000000
bridge 315392 1 br_netfilter, Live 0x0000000000000000
"""


def test_parse_proc_modules():
    loaded = km.parse_proc_modules(PROC_MODULES)
    assert loaded["dccp"] == {"refcount": 1, "users": ["dccp_ipv4"]}
    assert loaded["sctp"] == {"refcount": 0, "users": []}
    assert loaded["bridge"]["users"] == ["br_netfilter"]


def test_required_module_in_blacklist_is_refused():
    problems = km.check_inputs(["dccp", "br-netfilter"], ["br_netfilter", "overlay"])
    assert problems == ["br_netfilter is refused in the blacklist: Kubernetes needs it loaded"]


def test_bad_name_is_refused():
    assert "is not a kernel module name" in km.check_inputs(["dccp; rm"], [])[0]


def test_render_blacklist():
    text = km.render_blacklist(["dccp", "tipc"])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["install dccp /bin/false", "blacklist dccp", "install tipc /bin/false", "blacklist tipc"]
    assert km.render_load(["br_netfilter", "overlay"]).splitlines()[1:] == ["br_netfilter", "overlay"]


def test_plan_on_a_host():
    loaded = km.parse_proc_modules(PROC_MODULES)
    present = {"br_netfilter": True, "overlay": False, "dccp": True, "sctp": True, "rds": False, "tipc": False}
    plan = km.plan(["dccp", "sctp", "rds", "tipc"], ["br_netfilter", "overlay"], loaded, present)
    assert plan["br_netfilter"] == {"role": "required", "status": "loaded", "action": None}
    assert plan["overlay"]["action"] == "load"
    assert plan["dccp"]["status"] == "in-use" and plan["dccp"]["action"] is None
    assert plan["dccp"]["users"] == ["dccp_ipv4"]
    assert plan["sctp"] == {"role": "blacklisted", "status": "loaded-unused", "action": "unload"}
    assert plan["rds"]["status"] == "not-loaded" and plan["rds"]["action"] is None


def test_plan_built_in():
    plan = km.plan(["dccp"], ["overlay"], {}, {"overlay": True, "dccp": True})
    assert plan["overlay"]["status"] == "built-in" and plan["overlay"]["action"] is None
    assert plan["dccp"]["status"] == "built-in"


def test_plan_in_a_container_does_nothing():
    plan = km.plan(["dccp", "sctp"], ["br_netfilter", "overlay"], None,
                   {"br_netfilter": True, "overlay": False, "dccp": False, "sctp": True}, container="podman")
    assert all(entry["action"] is None for entry in plan.values())
    assert plan["br_netfilter"]["status"] == "host-owned"
    assert plan["overlay"]["status"] == "host-owned-missing"
    assert plan["dccp"]["status"] == "host-owned"
    assert plan["sctp"]["status"] == "host-owned-loaded"


def test_present_without_modules(tmp_path):
    (tmp_path / "proc" / "sys" / "net" / "bridge").mkdir(parents=True)
    (tmp_path / "proc" / "filesystems").write_text("nodev\tsysfs\nnodev\toverlay\n\text4\n")
    (tmp_path / "sys" / "module" / "tipc").mkdir(parents=True)
    assert km.present_without_modules("br_netfilter", str(tmp_path))
    assert km.present_without_modules("overlay", str(tmp_path))
    assert km.present_without_modules("tipc", str(tmp_path))
    assert not km.present_without_modules("dccp", str(tmp_path))
    (tmp_path / "proc" / "filesystems").write_text("nodev\tsysfs\n")
    assert not km.present_without_modules("overlay", str(tmp_path))
