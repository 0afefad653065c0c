# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters ``site_plan``, ``site_plan_hosts`` and ``site_plan_snapshot_hosts`` of playbooks/site.yml (docs: the ``.yml`` files next to this
one); the logic lives in module_utils/site_plan.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.module_utils import site_plan


def _plan(host, node_hosts, control_plane_hosts, etcd_hosts=None, enabled=None, roles=None):
    try:
        plan = site_plan.host_plan(host, node_hosts, control_plane_hosts, etcd_hosts=etcd_hosts, enabled=enabled,
                                   roles=roles)
    except site_plan.SitePlanError as exc:
        raise AnsibleFilterError("site_plan: %s" % exc)
    plan["summary"] = site_plan.describe(plan)
    return plan


def _hosts(hosts, hostvars, play):
    try:
        return site_plan.play_hosts(list(hosts), hostvars, play)
    except site_plan.SitePlanError as exc:
        raise AnsibleFilterError("site_plan_hosts: %s" % exc)


def _snapshot_hosts(members, changing):
    return site_plan.snapshot_hosts(members, changing)


class FilterModule(object):
    """site.yml's plan."""

    def filters(self):
        return {"site_plan": _plan, "site_plan_hosts": _hosts,
                "site_plan_snapshot_hosts": _snapshot_hosts}
