# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters ``cis_remediation_plan``, ``cis_remediation_compare`` and ``cis_remediation_fleet`` (docs: the
``.yml`` files next to this one); the logic lives in module_utils/cis_remediation.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_remediation


def _wrap(func):
    def filter_(*args):
        try:
            return func(*args)
        except cis_remediation.RemediationError as exc:
            raise AnsibleFilterError("%s: %s" % (func.__name__, exc))
    filter_.__name__ = func.__name__
    return filter_


class FilterModule(object):
    """CIS remediation planning."""

    def filters(self):
        return {
            "cis_remediation_plan": _wrap(cis_remediation.plan),
            "cis_remediation_compare": _wrap(cis_remediation.compare),
            "cis_remediation_fleet": _wrap(cis_remediation.fleet),
        }
