# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``command_line`` (docs: command_line.yml): a component's command line read by module_utils/k8s_args.py,
the reading the audit and the manifest editor use, so that roles and playbooks never parse one with a regex."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags, k8s_args
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain


def command_line(value, env=None, has_program=True):
    """``{program, flags, multi, positional, repeated}`` of an argv list or a shell-like command string; with
    ``env`` (a dict or an environment file's text), etcd's ``ETCD_*`` variables fill in the flags the command line
    does not give, as etcd does."""
    value = plain(value)
    if value is None:
        value = []
    if not isinstance(value, (list, str)):
        raise AnsibleFilterError("command_line expects an argv list or a command string, got %s"
                                 % type(value).__name__)
    args = k8s_args.parse_argv(value, has_program=bool(has_program))
    if env:
        env = plain(env)
        variables = env if isinstance(env, dict) else etcd_flags.parse_env(to_text(env))
        applied, dummy = etcd_flags.apply_env(args.flags, dict((str(k), to_text(v)) for k, v in variables.items()))
        args = k8s_args.ParsedArgs(args.program, [(flag, val) for flag, (dummy, val) in applied.items()]
                                   + args.occurrences, args.positional, args.bare)
    return args.to_dict()


class FilterModule(object):
    def filters(self):
        return {"command_line": command_line}
