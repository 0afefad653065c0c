#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: owned_file
short_description: Write a file this collection owns, guarded, backed up and atomically, in one call
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - The collection's one file writer on the nodes (also used inside its other modules); the roles use it for the
    files they replace whole, such as containerd's C(config.toml) and the kubelet's configuration file.
  - Refuses, and writes nothing, when the file changed since the caller read it (O(expected_sha256)) or when
    O(validate) fails on the new content.
  - Copies the previous content into O(backup_dir) (directory 0700, backups 0600) and keeps the newest
    O(backup_keep) backups of that file, deleting older ones.
  - Writes the new content to a temporary file in C(.secure_cluster-staging) beside the file's directory (not in
    the directory itself, which a component such as the kubelet may read whole), sets mode and owner on it, then
    renames it over the file. Where the file's directory is another mount (a bind mount, a container volume),
    which a rename cannot cross, the temporary file is a hidden file beside the target instead. A failure before
    the rename leaves the old file as it was.
options:
  path:
    description: The file.
    type: path
    required: true
  content:
    description: The whole new content.
    type: str
    required: true
  mode:
    description: Octal mode as a string (V(0600)); by default the current file's, V(0600) for a new file.
    type: str
  owner:
    description: Owner name or uid; by default the current file's, root for a new file.
    type: str
  group:
    description: Group name or gid; by default the current file's, root for a new file.
    type: str
  expected_sha256:
    description:
      - The SHA-256 of the content the caller read; the write is refused when the file now differs.
      - The empty string means the file must not exist. Omitted, there is no such check.
    type: str
  backup_dir:
    description: Directory for the backup of the previous content; omitted, no backup is made.
    type: path
  validate:
    description:
      - A command run on the temporary file before it replaces the file; C(%s) is the temporary file's path. A
        non-zero exit refuses the write.
    type: str
extends_documentation_fragment:
  - secure_cluster.k8s.attributes.NODE_WRITE
  - secure_cluster.k8s.owned_file
attributes:
  diff_mode:
    support: full
    description: The content before and after.
"""

EXAMPLES = r"""
- name: Install config.toml after containerd accepted it
  secure_cluster.k8s.owned_file:
    path: /etc/containerd/config.toml
    content: "{{ candidate }}"
    mode: "0600"
    owner: root
    group: root
    backup_dir: /var/lib/secure_cluster/backups/containerd
    validate: containerd --config %s config dump
  register: written
"""

RETURN = r"""
backup_path:
  description: The backup of the previous content, when the file was rewritten and O(backup_dir) was given.
  returned: always
  type: str
  sample: /var/lib/secure_cluster/backups/containerd/config.toml.20261207T120000.000000Z.bak
content_changed:
  description: Whether the content changed (C(changed) is also true for a mode or owner change alone).
  returned: always
  type: bool
sha256:
  description: SHA-256 of the new content.
  returned: always
  type: str
before_sha256:
  description: SHA-256 of the previous content, or null when there was no file.
  returned: always
  type: str
mode:
  description: The file's mode after the call.
  returned: always
  type: str
  sample: "0600"
"""

import grp
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import owned_file


def _id(value, lookup, kind):
    if value is None or value == "":
        return None
    if str(value).isdigit():
        return int(value)
    try:
        return lookup(str(value))[2]
    except KeyError:
        raise owned_file.OwnedFileError("no %s named %s on this node" % (kind, value))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True, no_log=False),
            mode=dict(type="str"),
            owner=dict(type="str"),
            group=dict(type="str"),
            expected_sha256=dict(type="str"),
            backup_dir=dict(type="path"),
            backup_keep=dict(type="int", default=5),
            validate=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    expected = owned_file.KEEP_ANY
    if p["expected_sha256"] is not None:
        expected = p["expected_sha256"] or None
    validate = None
    if p["validate"]:
        if "%s" not in p["validate"]:
            module.fail_json(msg="validate must contain %%s (the temporary file): %s" % p["validate"])

        def validate(tmp):
            rc, out, err = module.run_command(p["validate"] % tmp, use_unsafe_shell=False)
            return None if rc == 0 else "%s failed (rc %d): %s" % (p["validate"] % tmp, rc, (err or out).strip())

    try:
        mode = int(p["mode"], 8) if p["mode"] else None
    except ValueError:
        module.fail_json(msg="mode must be an octal string such as 0600, got %s" % p["mode"])
    try:
        before = owned_file.read(p["path"])
        written = owned_file.write(
            p["path"], p["content"], mode=mode, uid=_id(p["owner"], pwd.getpwnam, "user"),
            gid=_id(p["group"], grp.getgrnam, "group"), expected_sha256=expected, backup_dir=p["backup_dir"],
            backup_keep=p["backup_keep"], validate=validate, check_mode=module.check_mode)
    except (owned_file.OwnedFileError, OSError) as exc:
        module.fail_json(msg=str(exc), changed=False)
    result = dict(changed=written["changed"], content_changed=written["content_changed"],
                  backup_path=written["backup_path"], sha256=written["sha256"],
                  before_sha256=written["before_sha256"], mode=written["mode"])
    if module._diff:
        result["diff"] = dict(before=before.get("content", b"").decode("utf-8", "replace"), after=p["content"],
                              before_header=p["path"], after_header=p["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
