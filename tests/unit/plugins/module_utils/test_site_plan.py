# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml's plan (module_utils/site_plan.py) and its wiring in playbooks/site.yml."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import site_plan

COLLECTION = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))
NODES = ["cp1", "cp2", "w1", "w2"]
CP = ["cp1", "cp2"]


def test_every_role_of_a_stacked_control_plane_node_and_the_node_roles_of_a_worker():
    cp = site_plan.host_plan("cp1", NODES, CP, etcd_hosts=None)
    assert cp["node"] == ["kernel", "containerd", "kubelet"]
    assert cp["control_plane"] == ["etcd", "apiserver", "controller_manager", "scheduler"]
    assert cp["external_etcd"] == [] and cp["snapshot"] is True
    assert cp["roles"] == list(site_plan.ROLES)
    worker = site_plan.host_plan("w1", NODES, CP, etcd_hosts=None)
    assert worker["roles"] == ["kernel", "containerd", "kubelet"] and worker["snapshot"] is False
    assert site_plan.describe(worker) == "node: kernel, containerd, kubelet"


def test_etcd_group_decides_stacked_and_external_members():
    # cp2 is a control-plane node outside the etcd group: no etcd there; e1 is an external member
    etcd = ["cp1", "e1"]
    assert site_plan.host_plan("cp2", NODES, CP, etcd_hosts=etcd)["control_plane"] == [
        "apiserver", "controller_manager", "scheduler"]
    assert site_plan.host_plan("cp1", NODES, CP, etcd_hosts=etcd)["control_plane"][0] == "etcd"
    ext = site_plan.host_plan("e1", NODES, CP, etcd_hosts=etcd)
    assert ext["external_etcd"] == ["etcd"] and ext["node"] == [] and ext["snapshot"] is True
    assert site_plan.describe(ext) == "etcd member: etcd"


def test_switches_and_site_roles_narrow_the_plan():
    plan = site_plan.host_plan("cp1", NODES, CP, enabled={"kernel": False, "etcd": "false", "apiserver": "yes"},
                               roles=["kernel", "kubelet", "etcd", "apiserver"])
    assert plan["node"] == ["kubelet"] and plan["control_plane"] == ["apiserver"]
    nothing = site_plan.host_plan("cp1", NODES, CP, roles=[])
    assert nothing["roles"] == [] and nothing["snapshot"] is False
    assert site_plan.describe(nothing).startswith("nothing to do")
    # a host site.yml does not select gets nothing, whatever site_roles says
    assert site_plan.host_plan("x9", NODES, CP, roles=["kernel"])["roles"] == []


@pytest.mark.parametrize("kwargs, message", [
    ({"roles": ["kernel", "firewall"]}, "site_roles names roles site.yml does not run: firewall"),
    ({"roles": "kernel"}, "roles must be a list"),
    ({"enabled": {"kube_proxy": True}}, "unknown site role switches: kube_proxy"),
])
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(site_plan.SitePlanError, match=message):
        site_plan.host_plan("cp1", NODES, CP, **kwargs)


def test_plays_select_only_the_hosts_their_plan_gives_a_role():
    hostvars = {
        "cp1": {"site__plan": site_plan.host_plan("cp1", NODES, CP, roles=["scheduler"])},
        "cp2": {"site__plan": site_plan.host_plan("cp2", NODES, CP, roles=[])},
        "w1": {"site__plan": site_plan.host_plan("w1", NODES, CP, roles=["kubelet"])},
        "w2": {},  # not planned: kept, only the plan leaves a host out
    }
    assert site_plan.play_hosts(NODES, hostvars, "node") == ["w1", "w2"]
    assert site_plan.play_hosts(CP, hostvars, "control_plane") == ["cp1"]
    assert site_plan.play_hosts(NODES, hostvars, "snapshot") == ["cp1", "w2"]
    assert site_plan.play_hosts(["cp2"], hostvars, "external_etcd") == []
    with pytest.raises(site_plan.SitePlanError, match="unknown play 'nodes'"):
        site_plan.play_hosts(NODES, hostvars, "nodes")


def test_the_changing_members_snapshot_else_the_first_member_else_nobody():
    members = ["cp1", "cp2", "cp3"]
    assert site_plan.snapshot_hosts(members, ["cp2", "w1"]) == ["cp2"]
    assert site_plan.snapshot_hosts(members, ["cp3", "cp1"]) == ["cp1", "cp3"]
    assert site_plan.snapshot_hosts(members, ["api1"]) == ["cp1"]  # only a non-member API server changes
    assert site_plan.snapshot_hosts(members, []) == []
    assert site_plan.snapshot_hosts([], ["cp1"]) == []


def test_site_yml_plays_and_role_conditions_follow_the_plan():
    """Every play after the planning play selects its hosts with its own plan key, and each role entry runs on
    exactly the condition that the plan names it in that play; the roles are the plan's, in its order."""
    with open(os.path.join(COLLECTION, "playbooks", "site.yml"), encoding="utf-8") as f:
        plays = yaml.safe_load(f)
    role_plays = [p for p in plays if "roles" in p]
    assert [p["roles"][0]["role"].rsplit(".", 1)[1] for p in role_plays] == [r[0] for _p, r in site_plan.PLAYS]
    for play, (key, roles) in zip(role_plays, site_plan.PLAYS):
        assert "site_plan_hosts(hostvars | default({}), '%s')" % key in play["hosts"], play["name"]
        assert play.get("max_fail_percentage") == 0, play["name"]
        assert [r["role"] for r in play["roles"]] == ["secure_cluster.k8s." + r for r in roles]
        for entry in play["roles"]:
            name = entry["role"].rsplit(".", 1)[1]
            assert entry["when"] == "'%s' in site__plan.%s" % (name, key)
            assert entry["tags"] == [name]
    assert [p.get("serial") for p in role_plays] == ["{{ site_node_serial | default('20%') }}", 1, 1]
    planning = plays[0]
    assert "roles" not in planning and "serial" not in planning
    assert "secure_cluster.k8s.site_plan(" in planning["tasks"][0]["ansible.builtin.set_fact"]["site__plan"]
    snapshot = [p for p in plays if p.get("ansible.builtin.import_playbook") == "secure_cluster.k8s.etcd_backup"]
    assert len(snapshot) == 1
    assert "site_plan_snapshot_hosts(" in snapshot[0]["vars"]["etcd_backup_hosts"]
    assert "site_plan_hosts(hostvars | default({}), 'snapshot')" in snapshot[0]["vars"]["etcd_backup_hosts"]
