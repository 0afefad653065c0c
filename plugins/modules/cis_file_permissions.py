#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cis_file_permissions
short_description: Restrict the mode and set the ownership of many files at once, one entry per CIS control
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Applies the file permission and ownership controls of the CIS Kubernetes Benchmark (sections 1.1 and 4.1) to
    many paths in one task. Each entry of O(entries) is one control, named by its CIS id.
  - A mode is a maximum, as kube-bench judges it (C(600 or more restrictive)) - permission bits it does not allow
    are removed, bits are never added. A file already at V(0400) stays V(0400) under V(0600).
  - Paths may be shell globs (C(*), C(?), C([...]), and C(**) for any number of directories). A path or glob that
    matches nothing is reported in RV(results[].missing), or fails the task with O(missing=fail).
  - Symlinks are never followed. A matched symlink gets its own ownership changed (lchown) and never a mode; a
    glob does not reach through a symlinked directory; O(entries[].recurse) does not descend into one.
  - When the same path is matched by several entries, their modes are intersected (the strictest wins), and their
    owners and groups must agree.
  - Everything is checked before anything is changed. Refused are relative paths, paths with C(..), unknown
    users and groups, malformed modes, conflicting owners or groups for one path, a path named literally (not by
    a glob) whose type differs from O(entries[].file_type), and with O(missing=fail) a path or glob matching
    nothing.
options:
  entries:
    description: The controls to apply, in order; RV(results) has one item per entry in the same order.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: CIS id of the control (for example V(1.1.20)). Names the entry in results and messages.
        type: str
        required: true
      paths:
        description:
          - Absolute paths or shell globs (for example C(/etc/kubernetes/pki/**/*.crt)).
          - As in the shell, C(*) does not match a leading dot.
        type: list
        elements: str
        required: true
      mode:
        description:
          - Most permissive mode allowed, as an octal string (V('0600')). Bits outside it are removed.
          - Omit it to leave the mode alone.
        type: raw
      owner:
        description: User name or numeric id that must own the paths. Omit it to leave the owner alone.
        type: str
      group:
        description: Group name or numeric id that must own the paths. Omit it to leave the group alone.
        type: str
      recurse:
        description:
          - For a matched directory, apply the entry to everything below it as well (symlinks are not followed).
          - O(entries[].file_type) filters the paths found below it.
        type: bool
        default: false
      file_type:
        description:
          - Which kind of path the entry applies to. Paths of another kind matched by a glob or found by
            O(entries[].recurse) are left alone; a path named literally with another kind is an error.
        type: str
        choices: [any, file, directory]
        default: any
  missing:
    description:
      - What to do when a path or glob matches nothing. V(ignore) reports it in RV(results[].missing);
        V(fail) fails the task before anything is changed.
    type: str
    choices: [ignore, fail]
    default: ignore
attributes:
  check_mode:
    support: full
    description: Reports exactly the changes a real run would make, without making them.
  diff_mode:
    support: full
    description: The mode and ownership of each changed path, before and after.
  platform:
    support: full
    platforms: posix
    description: Targets are Linux Kubernetes nodes.
notes:
  - Run it as root (C(become=true)) to change ownership.
  - Mode and ownership are read with lstat; the change of ownership comes first (it clears setuid/setgid bits on
    files), then the mode.
seealso:
  - module: ansible.builtin.file
  - name: CIS Kubernetes Benchmark
    description: Sections 1.1 (control plane node configuration files) and 4.1 (worker node configuration files).
    link: https://www.cisecurity.org/benchmark/kubernetes
"""

EXAMPLES = r"""
- name: Control plane file permissions (CIS 1.1.x)
  secure_cluster.k8s.cis_file_permissions:
    entries:
      - id: 1.1.1
        paths: [/etc/kubernetes/manifests/kube-apiserver.yaml]
        mode: "0600"
      - id: 1.1.2
        paths: [/etc/kubernetes/manifests/kube-apiserver.yaml]
        owner: root
        group: root
      - id: 1.1.19
        paths: [/etc/kubernetes/pki]
        owner: root
        group: root
        recurse: true
      - id: 1.1.20
        paths: [/etc/kubernetes/pki/**/*.crt]
        mode: "0600"
        file_type: file
      - id: 1.1.21
        paths: [/etc/kubernetes/pki/**/*.key]
        mode: "0600"
        file_type: file
  become: true

- name: Fail when a file the controls name does not exist
  secure_cluster.k8s.cis_file_permissions:
    entries:
      - id: 4.1.5
        paths: [/etc/kubernetes/kubelet.conf]
        mode: "0600"
        owner: root
        group: root
    missing: fail
  become: true
"""

RETURN = r"""
results:
  description: One item per entry, in the order of O(entries).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The entry's CIS id.
      type: str
      sample: 1.1.20
    paths:
      description: Every path the entry matched, sorted (including those already compliant).
      type: list
      elements: str
      sample: [/etc/kubernetes/pki/apiserver.crt, /etc/kubernetes/pki/ca.crt]
    changed:
      description:
        - The paths whose mode or ownership this entry changes (or would change, in check mode), each with
          C(path), C(before) and C(after); C(before) and C(after) have C(mode) (null for a symlink), C(owner)
          and C(group).
      type: list
      elements: dict
      sample: [{"path": "/etc/kubernetes/pki/ca.crt", "before": {"mode": "0644", "owner": "root", "group": "root"},
                "after": {"mode": "0600", "owner": "root", "group": "root"}}]
    missing:
      description: The paths and globs of the entry that matched nothing.
      type: list
      elements: str
      sample: []
diff:
  description:
    - C(before) and C(after) text, one line per changed path with its mode and owner:group (also outside diff
      mode, so a caller can log it).
  returned: success
  type: dict
problems:
  description: Why the request was refused (nothing was changed) or, on a failure while changing, what failed.
  returned: failure
  type: list
  elements: str
changed_paths:
  description: On a failure while changing, the paths already changed before it.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import file_permissions as fp

ARGUMENT_SPEC = dict(
    entries=dict(type="list", elements="dict", required=True, options=dict(
        id=dict(type="str", required=True),
        paths=dict(type="list", elements="str", required=True),
        mode=dict(type="raw"),
        owner=dict(type="str"),
        group=dict(type="str"),
        recurse=dict(type="bool", default=False),
        file_type=dict(type="str", choices=list(fp.FILE_TYPES), default="any"),
    )),
    missing=dict(type="str", choices=list(fp.MISSING_POLICIES), default="ignore"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        outcome = fp.run(module.params["entries"], module.params["missing"], module.check_mode)
    except fp.FilePermissionsError as exc:
        if exc.changed:
            msg = "changed %d path(s), then failed: %s" % (len(exc.changed), exc)
        else:
            msg = "refused, nothing changed: %s" % exc
        module.fail_json(msg=msg, problems=exc.problems, changed=bool(exc.changed), changed_paths=exc.changed)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
