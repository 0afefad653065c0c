#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_facts
short_description: Collect in one read-only call everything the CIS Kubernetes Benchmark looks at on a node
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Reads, without changing anything, the state of a kubeadm-style Kubernetes node that the CIS Kubernetes
    Benchmark judges, and returns it in one result, so that the evaluation on the controller needs one round trip
    per node.
  - Running processes and their argv (from C(/proc/PID/cmdline)) of kube-apiserver, kube-controller-manager,
    kube-scheduler, etcd, kubelet, kube-proxy and containerd, matched on the basename of argv[0].
  - The text of the static pod manifests in C(/etc/kubernetes/manifests) (parsed on the controller; the target
    needs no YAML library), the kubelet config file (C(--config) of the running kubelet, else of its systemd unit,
    else C(/var/lib/kubelet/config.yaml)), the kubelet systemd unit, drop-ins and environment files and the
    argv they start, the kube-proxy config, and the containerd config.
  - For etcd, which reads every flag also as an C(ETCD_<FLAG>) variable, the C(ETCD_*) part of its environment
    (C(/proc/PID/environ)) and, for an external member run by systemd, its unit's argv and C(ETCD_*) variables
    (C(Environment=), C(EnvironmentFile=) such as C(/etc/default/etcd)); values that can hold a credential are
    redacted.
  - Mode, owner and group of every file the benchmark names (manifests, CNI files, etcd data directory, the PKI
    directory with every certificate and key, kubeconfigs, kubelet config, service and client CA files), grouped
    in named file sets.
  - Selected sysctls from C(/proc/sys), loaded kernel modules from C(/proc/modules) (reported as unavailable
    when that file cannot be read), and the Kubernetes version from the manifests' image tags or the binaries'
    C(--version) output.
  - On a node kubeadm set up (C(/etc/kubernetes/admin.conf) or C(/etc/kubernetes/kubelet.conf) present), the
    C(kubeadm-config) and C(kubelet-config) ConfigMaps that C(kubeadm upgrade) regenerates the node from, read
    with C(kubectl) as that kubeconfig's identity (two GETs, read-only). See O(kubeadm_config).
  - Kubeconfigs, keys and the encryption provider configuration are only stat'ed; their contents never leave the
    node (only the names of the encryption providers do). Of the API server's C(--authorization-config) only the
    authorizers' types and names are returned, of its C(--authentication-config) only the C(anonymous) section's
    C(enabled) and the number of its path conditions.
  - Missing files, unreadable files and a node without Kubernetes are reported in the result, never as a failure.
options:
  sysctls:
    description:
      - Kernel parameters to read from C(/proc/sys), in dotted form.
      - When not given, a default list is read (the values kubelet's C(protectKernelDefaults) checks and common
        network hardening parameters).
    type: list
    elements: str
  extra_paths:
    description:
      - Additional paths to stat; their results appear in RV(node_facts.stats).
    type: list
    elements: path
    default: []
  version_from_binaries:
    description:
      - When the manifests do not name the Kubernetes version, run C(kubelet --version) (and
        C(kube-apiserver --version) for a host-process API server) to find it.
    type: bool
    default: true
  kubeadm_config:
    description:
      - Read the C(kube-system/kubeadm-config) (key C(ClusterConfiguration)) and C(kube-system/kubelet-config)
        (key C(kubelet)) ConfigMaps on a kubeadm node, with C(kubectl) and C(/etc/kubernetes/admin.conf), else
        the kubelet's C(/etc/kubernetes/kubelet.conf) (kubeadm's RBAC lets every node read both).
      - M(secure_cluster.k8s.cis_audit) uses them to say which passing recommendations the next C(kubeadm upgrade)
        would undo.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Reads Linux's /proc; any POSIX node with Python works, other systems report no processes.
notes:
  - Run it as root (C(become=true)); otherwise files such as the PKI keys cannot be stat'ed or read and are reported
    with an error.
seealso:
  - name: CIS Kubernetes Benchmark
    description: The benchmark whose inputs this module collects.
    link: https://www.cisecurity.org/benchmark/kubernetes
"""

EXAMPLES = r"""
- name: Collect the CIS inputs of a node
  secure_cluster.k8s.node_facts:
  become: true
  register: node

- name: Show the kubelet config path and the Kubernetes version
  ansible.builtin.debug:
    msg: "{{ node.node_facts.kubelet.config.path }} / {{ node.node_facts.version.kubernetes }}"

- name: Also read two more sysctls and stat an audit policy file
  secure_cluster.k8s.node_facts:
    sysctls:
      - net.ipv4.ip_forward
      - kernel.kptr_restrict
    extra_paths:
      - /etc/kubernetes/audit/policy.yaml
  become: true
"""

RETURN = r"""
node_facts:
  description: Everything collected. Paths are the node's own paths.
  returned: always
  type: dict
  contains:
    schema_version:
      description: Version of this structure.
      type: int
      sample: 1
    hostname:
      description: The node's host name.
      type: str
      sample: cp1
    processes:
      description:
        - One key per component (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kubelet, kube-proxy,
          containerd); each a list of C(pid), C(argv) and C(exe) of the matching processes (empty when not running).
        - etcd processes also have C(environ), the C(ETCD_*) variables of C(/proc/PID/environ) (null when not
          readable). No other variable is returned; the value of a variable that is not a known etcd flag or that can
          hold a credential (discovery, password, token, a URL with user info) is C(<redacted>).
      type: dict
      sample: {"kubelet": [{"pid": 812, "argv": ["/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"],
               "exe": "/usr/bin/kubelet"}], "etcd": []}
    manifests:
      description: C(dir), C(exists) and C(files) (file name to C(path), C(text), C(readable)) of the static pods.
      type: dict
    kubelet:
      description:
        - C(present); C(config) (C(path), C(source) argv/unit/default, C(exists), C(text), C(config_dir),
          C(dropins)); C(service) (C(unit), C(files) with C(path)/C(kind)/C(text), C(env_files), C(exec_argv)
          the argv systemd starts); C(kubeconfig); C(client_ca_file) (C(path), C(source)).
      type: dict
    kube_proxy:
      description: C(present), C(config) (C(path), C(via), C(text)) and C(kubeconfig) (C(path), C(source)).
      type: dict
    etcd:
      description:
        - C(data_dir) and where it came from (C(data_dir_source) argv, environ, manifest, unit or default).
        - C(service), etcd run by systemd (external member) - C(unit), C(files) (paths only), C(enabled),
          C(exec_argv), C(environment) (the C(ETCD_*) variables of C(Environment=) and C(EnvironmentFile=), redacted
          as for the process), C(environment_files), C(missing_environment_files).
      type: dict
      sample: {"data_dir": "/var/lib/etcd/default", "data_dir_source": "environ",
               "service": {"unit": "/lib/systemd/system/etcd.service", "files": ["/lib/systemd/system/etcd.service"],
                           "enabled": true, "exec_argv": ["/usr/bin/etcd"],
                           "environment": {"ETCD_CERT_FILE": "/etc/etcd/pki/server.crt"},
                           "environment_files": ["/etc/default/etcd"], "missing_environment_files": []}}
    kubeconfigs:
      description: Kubeconfig paths by role (admin, super-admin, controller-manager, scheduler, kubelet, kube-proxy).
      type: dict
    pki:
      description: C(dir), C(exists) and C(files) (paths relative to the PKI directory).
      type: dict
    cni:
      description: C(dirs) searched and C(files) found.
      type: dict
    encryption:
      description: C(path) of the API server's encryption provider config and the C(providers) it lists, in order.
      type: dict
    authorization:
      description:
        - The API server's C(--authorization-config) (running process, else its manifest) C(path), the
          C(read_path) it was read from on the node (through the manifest's hostPath mounts), C(authorizers)
          (C(type) and C(name) of each, in order; null when unreadable) and C(error).
      type: dict
    authentication:
      description:
        - The API server's C(--authentication-config) C(path), C(read_path), C(anonymous) (C(enabled) and the
          number of path C(conditions); null when the file has no anonymous section) and C(error).
      type: dict
    containerd:
      description: C(present), C(config_path), C(config_text) and C(socket).
      type: dict
    sysctls:
      description: Sysctl name to value (null when it does not exist on this kernel).
      type: dict
      sample: {"net.ipv4.ip_forward": "1", "vm.overcommit_memory": "1"}
    modules:
      description: C(available) (false when /proc/modules is unreadable, with C(reason)) and C(loaded) names.
      type: dict
    version:
      description: C(kubernetes) (for example C(1.33.4), null when unknown), C(source) and per-C(components) data.
      type: dict
    file_sets:
      description:
        - Named lists of paths the benchmark judges (for example C(manifest:kube-apiserver), C(pki_key),
          C(kubelet_service), C(cni), C(etcd_data_dir)); each path has an entry in C(stats).
      type: dict
    stats:
      description:
        - Path to C(exists), C(type), C(mode) (four octal digits), C(uid), C(gid), C(owner), C(group), C(size),
          C(link) and, on failure, C(error).
      type: dict
      sample: {"/etc/kubernetes/admin.conf": {"exists": true, "type": "file", "mode": "0600", "uid": 0, "gid": 0,
               "owner": "root", "group": "root", "size": 5650, "link": false}}
    kubeadm:
      description:
        - C(present) (a kubeadm node), C(source) (the kubectl call that answered), C(configmaps) (ConfigMap name
          to {key to text}) and C(error) (why they could not be read, or which is missing).
      type: dict
      sample: {"present": true, "source": "kubectl --kubeconfig /etc/kubernetes/admin.conf", "error": null,
               "configmaps": {"kubeadm-config": {"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\n..."},
                              "kubelet-config": {"kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\n..."}}}
    collector:
      description: C(root), non-fatal C(errors) (path and message), C(wall_seconds) and C(cpu_seconds).
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysctls=dict(type="list", elements="str"),
            extra_paths=dict(type="list", elements="path", default=[]),
            version_from_binaries=dict(type="bool", default=True),
            kubeadm_config=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )

    def run_command(argv):
        # exceptions go back to the collector, which records them instead of failing the audit
        return module.run_command(argv, check_rc=False, environ_update={"LC_ALL": "C"}, handle_exceptions=False)

    facts = collect(
        root="/",
        run_command=run_command,
        sysctls=module.params["sysctls"],
        extra_paths=module.params["extra_paths"],
        version_from_binaries=module.params["version_from_binaries"],
        kubeadm_config=module.params["kubeadm_config"],
    )
    module.exit_json(changed=False, node_facts=facts)


if __name__ == "__main__":
    main()
