# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of ``playbooks/site.yml``: which of its roles each host gets, in which play, and whether the fleet
needs the etcd snapshot that precedes a control-plane change.

site.yml computes every host's plan in one parallel play, on the controller, before its batched and serial plays.
Those plays then select only the hosts whose plan gives them a role, so a host with nothing to do is never part
of a batch: it neither waits for the one-at-a-time control plane nor makes the others wait for it. The snapshot
is taken only when some host's plan changes the control plane. Pure functions over plain data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# site.yml's plays and the roles of each, in their order. The control plane runs etcd first (stacked members), and
# the last play hardens the etcd members that are not control-plane nodes.
PLAYS = (
    ("node", ("kernel", "containerd", "kubelet")),
    ("control_plane", ("etcd", "apiserver", "controller_manager", "scheduler")),
    ("external_etcd", ("etcd",)),
)
ROLES = ("kernel", "containerd", "kubelet", "etcd", "apiserver", "controller_manager", "scheduler")
# A change to one of these can lose the cluster's state: the etcd snapshot comes first.
SNAPSHOT_PLAYS = ("control_plane", "external_etcd")


class SitePlanError(ValueError):
    """The input does not describe a host of site.yml."""


def _names(value, what):
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise SitePlanError("%s must be a list of host or role names, got %r" % (what, value))
    return set(value)


def host_plan(host, node_hosts, control_plane_hosts, etcd_hosts=None, enabled=None, roles=None):
    """The roles site.yml runs on ``host``, per play.

    ``node_hosts`` and ``control_plane_hosts`` are the hosts of the node and control-plane plays; ``etcd_hosts``
    the etcd members, or None when the inventory has no etcd group (every control-plane node then runs stacked
    etcd). ``enabled`` maps a role to its ``site_<role>_enabled`` switch (missing: on); ``roles`` is the host's
    ``site_roles`` (None: every role).

    Returns ``{"node": [...], "control_plane": [...], "external_etcd": [...], "roles": [...], "snapshot": bool}``:
    the roles of each play in site.yml's order, all of them, and whether they change the control plane or etcd.
    """
    node_hosts = _names(node_hosts, "node_hosts")
    control_plane_hosts = _names(control_plane_hosts, "control_plane_hosts")
    etcd_hosts = _names(etcd_hosts, "etcd_hosts")
    wanted = _names(ROLES if roles is None else roles, "roles")
    unknown = sorted(wanted - set(ROLES))
    if unknown:
        raise SitePlanError("site_roles names roles site.yml does not run: %s (it runs %s)"
                            % (", ".join(unknown), ", ".join(ROLES)))
    enabled = dict(enabled or {})
    unknown = sorted(set(enabled) - set(ROLES))
    if unknown:
        raise SitePlanError("unknown site role switches: %s" % ", ".join(unknown))

    def chosen(play_roles):
        return [r for r in play_roles if r in wanted and _truthy(enabled.get(r, True))]

    is_etcd = etcd_hosts is None or host in etcd_hosts
    plan = {"node": [], "control_plane": [], "external_etcd": []}
    if host in node_hosts:
        plan["node"] = chosen(PLAYS[0][1])
    if host in control_plane_hosts:
        plan["control_plane"] = [r for r in chosen(PLAYS[1][1]) if r != "etcd" or is_etcd]
    elif etcd_hosts is not None and host in etcd_hosts:
        plan["external_etcd"] = chosen(PLAYS[2][1])
    plan["roles"] = [r for r in ROLES if any(r in plan[p] for p, _roles in PLAYS)]
    plan["snapshot"] = any(plan[p] for p in SNAPSHOT_PLAYS)
    return plan


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y", "t")
    return bool(value)


def play_hosts(hosts, hostvars, play, var="site__plan"):
    """The hosts of ``hosts`` whose plan gives them a role in ``play``, in their order.

    A host without a plan (site.yml's planning play did not run for it) keeps its place: leaving a host out is
    only ever the plan's decision. ``play`` "snapshot" selects the hosts whose plan changes the control plane.
    """
    if play != "snapshot" and play not in dict(PLAYS):
        raise SitePlanError("unknown play %r (one of %s, snapshot)" % (play, ", ".join(p for p, _r in PLAYS)))
    selected = []
    for host in hosts:
        plan = hostvars[host].get(var) if host in hostvars else None
        if not isinstance(plan, dict) or plan.get(play):
            selected.append(host)
    return selected


def snapshot_hosts(members, changing):
    """The etcd members that take the snapshot before site.yml changes the control plane or etcd.

    ``members``: the etcd members, in order; ``changing``: the hosts whose plan changes the control plane or etcd.
    Each snapshot holds the whole keyspace, so the members that will change take one (their own state right before
    their change); when none of them is a member (only API servers change, say), the first member takes one; when
    nothing changes, nobody does.
    """
    members = list(members)
    changing = set(changing)
    own = [m for m in members if m in changing]
    if own:
        return own
    return members[:1] if changing else []


def describe(plan):
    """One line for the log: what site.yml will run on the host."""
    parts = []
    for play, label in (("node", "node"), ("control_plane", "control plane"), ("external_etcd", "etcd member")):
        if plan.get(play):
            parts.append("%s: %s" % (label, ", ".join(plan[play])))
    return "; ".join(parts) or "nothing to do: not visited by the hardening plays"
