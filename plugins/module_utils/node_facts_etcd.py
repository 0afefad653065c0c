# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd on the node: its data directory, as a static pod (kubeadm's stacked etcd) or a systemd service (an
external etcd member).

Standard library only; shipped with the ``node_facts`` module. etcd reads every ``ETCD_<FLAG>`` variable as
``--<flag>``, so the data directory is looked up in the environment too, as etcd does (``etcd_flags.apply_env``).
"""

from __future__ import annotations

from ansible_collections.secure_cluster.k8s.plugins.module_utils.etcd_flags import (
    apply_env,
    public_env,
)
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import parse_argv
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_systemd import (
    systemd_service,
    unit_enabled,
)


ETCD_DEFAULT_DATA_DIR = "/var/lib/etcd"
ETCD_SERVICE = "etcd.service"


def etcd_service(node):
    """etcd run by systemd (an external etcd member): what its unit starts it with.

    Only paths, the argv and the ``ETCD_*`` variables leave the node (see ``etcd_flags.public_env``): unit
    files and environment files can hold other variables, secrets among them.
    """
    name = ETCD_SERVICE
    specifiers = {"n": name, "N": name[:-len(".service")], "p": name[:-len(".service")],
                  "H": node.hostname(), "l": node.hostname().split(".")[0]}
    service = systemd_service(node, name, specifiers=specifiers)
    rebuilt = service["rebuilt"]
    return {
        "unit": service["unit"],
        "files": [f["path"] for f in service["files"]],
        "enabled": bool(service["unit"]) and unit_enabled(node, name),
        "exec_argv": rebuilt["argv"],
        "environment": public_env(rebuilt["environment"]),
        "environment_files": rebuilt["environment_files"],
        "missing_environment_files": rebuilt["missing_environment_files"],
    }


def etcd_facts(node, running):
    """etcd's data directory and where it was found, and its systemd service (its ``etcd_data_dir`` file set).

    The running process (argv, then ETCD_DATA_DIR in its environment) first, then the manifest, then the systemd
    unit if it is enabled (ExecStart, then its environment), then the default."""
    service = etcd_service(node)
    etcd_run = running.args("etcd")
    data_dir, data_dir_source = None, "default"
    etcd_procs = running.procs.get("etcd") or []
    run_env = apply_env(etcd_run.flags if etcd_run is not None else (),
                        (etcd_procs[0].get("environ") or {}) if etcd_procs else {})[0]
    unit_run = parse_argv(service["exec_argv"]) if service["exec_argv"] else None
    unit_env = apply_env(unit_run.flags if unit_run is not None else (), service["environment"])[0]
    if etcd_run is not None and etcd_run.get("data-dir"):
        data_dir, data_dir_source = etcd_run.get("data-dir"), "argv"
    elif "data-dir" in run_env:
        data_dir, data_dir_source = run_env["data-dir"][1], "environ"
    elif running.manifest_flag("etcd", "data-dir"):
        data_dir, data_dir_source = running.manifest_flag("etcd", "data-dir"), "manifest"
    elif service["enabled"] and unit_run is not None and unit_run.get("data-dir"):
        data_dir, data_dir_source = unit_run.get("data-dir"), "unit"
    elif service["enabled"] and "data-dir" in unit_env:
        data_dir, data_dir_source = unit_env["data-dir"][1], "unit"
    else:
        data_dir = ETCD_DEFAULT_DATA_DIR
    etcd = {"data_dir": data_dir, "data_dir_source": data_dir_source, "service": service}
    node.add_set("etcd_data_dir", [data_dir])
    return etcd
