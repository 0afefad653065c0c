#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_env_file
short_description: Set and remove etcd flags in the environment file of a systemd-run etcd, safely
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Edits the C(EnvironmentFile) of an etcd run by systemd (for example Debian's C(/etc/default/etcd)) structurally,
    one C(ETCD_<FLAG>) variable per flag (etcd reads every flag from such a variable). Existing variables keep
    their line, new ones are appended; comments and other lines are kept.
  - Refuses, before anything is written, a flag or value the detected etcd version does not accept (etcd exits
    on an unknown flag), a flag that is also on the command-line variable C(DAEMON_ARGS) (etcd exits on the
    conflict), and a file-valued flag (certificates, keys, CAs, CRLs) whose file is missing or unreadable.
  - Writes at most once per call, atomically, keeping mode and owner, after copying the previous content to
    O(backup_dir) (the path is returned for the rollback).
options:
  backup_dir:
    default: /var/lib/secure_cluster/backups/etcd
  path:
    description: The environment file.
    type: path
    default: /etc/default/etcd
  flags:
    description: Flags to set, as a dict of flag name (with or without dashes) to value; a null value removes it.
  version:
    description: etcd version (V(3.4.23), V(3.5)); by default the output of O(etcd_binary) C(--version).
    type: str
  etcd_binary:
    description: The etcd binary asked for its version when O(version) is not set.
    type: path
    default: etcd
extends_documentation_fragment:
  - secure_cluster.k8s.flag_edit
  - secure_cluster.k8s.attributes.NODE_WRITE
  - secure_cluster.k8s.owned_file
attributes:
  diff_mode:
    support: full
    description: The diff shows the environment file before and after; RV(flags_changed) lists the flag changes.
"""

EXAMPLES = r"""
- name: Require client certificates and keep metrics on loopback
  secure_cluster.k8s.etcd_env_file:
    flags:
      client-cert-auth: true
      trusted-ca-file: /etc/etcd/pki/ca.crt
      listen-metrics-urls: http://127.0.0.1:2381
  register: etcd_env
"""

RETURN = r"""
changed:
  description: Whether the file was (or, in check mode, would be) rewritten.
  returned: always
  type: bool
backup_path:
  description: The backup of the previous file, when it was rewritten.
  returned: always
  type: str
version:
  description: The etcd version the flags were checked against.
  returned: always
  type: str
flags:
  description: The flags etcd gets from the file after the edit.
  returned: always
  type: dict
flags_changed:
  description: Flags added, changed (before/after) and removed.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_flags
from ansible_collections.secure_cluster.k8s.plugins.module_utils import static_pod_node


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/default/etcd"),
            flags=dict(type="dict", default={}),
            remove_flags=dict(type="list", elements="str", default=[]),
            version=dict(type="str"),
            etcd_binary=dict(type="path", default="etcd"),
            backup_dir=dict(type="path", default="/var/lib/secure_cluster/backups/etcd"),
            backup_keep=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    p = module.params
    version = p["version"]
    if not version:
        binary = module.get_bin_path(p["etcd_binary"], required=True)
        rc, out, err = module.run_command([binary, "--version"])
        version = etcd_flags.parse_version_output(out)
        if rc != 0 or not version:
            module.fail_json(msg="cannot tell the etcd version from %s --version: %s" % (binary, (out + err).strip()))
    try:
        etcd_flags.minor(version)
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    current = static_pod_node.read_manifest(p["path"])
    flags = dict(p["flags"])
    remove = list(p["remove_flags"]) + [name for name, value in flags.items() if value is None]
    flags = dict((name, value) for name, value in flags.items() if value is not None)
    edit = etcd_flags.edit_env(current.get("content", ""), flags, remove, version)
    problems = list(edit.errors)
    if not problems:
        checks = [{"flag": name, "path": path, "kind": "file"} for name, path in etcd_flags.file_paths(edit.after)]
        problems.extend(static_pod_node.check_node_paths(checks))
    result = dict(changed=False, backup_path=None, version=version, flags=edit.after or edit.before,
                  flags_changed=edit.flags_changed)
    if problems:
        module.fail_json(msg="%s not changed: %s" % (p["path"], "; ".join(problems)), **result)
    if edit.changed:
        try:
            written = static_pod_node.write_manifest(p["path"], edit.text, current.get("sha256"), p["backup_dir"],
                                                     p["backup_keep"], module.check_mode)
        except (static_pod_node.ManifestError, OSError) as exc:
            module.fail_json(msg=str(exc), **result)
        result.update(changed=written["changed"], backup_path=written["backup_path"])
    if module._diff:
        result["diff"] = dict(before=current.get("content", ""), after=edit.text, before_header=p["path"],
                              after_header=p["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
