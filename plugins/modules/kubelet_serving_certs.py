#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubelet_serving_certs
short_description: Approve the kubelets' serving-certificate CSRs after checking them, and verify what the kubelets serve
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Runs on a control-plane node (or any host with C(kubectl) and a kubeconfig that may approve CSRs). Lists the
    Nodes and the C(kubernetes.io/kubelet-serving) CertificateSigningRequests in one C(kubectl get) call.
  - A pending CSR is approved only when it comes from the node's own identity (C(system:node:<name>) in
    C(system:nodes)) with the same subject, asks for server authentication and no other kind of use, and every
    DNS SAN is a name of that Node and every IP SAN an address of that Node that no other Node claims. With
    O(known_addresses), the SANs must also be among the addresses known for the node from outside the cluster
    (a Node's status is written by its own kubelet, so a compromised node could claim anything there).
  - Any other pending kubelet-serving CSR is reported in RV(rejected) with the reasons and a warning, and left
    pending; it is never approved and never denied. kube-controller-manager signs the approved ones with the
    cluster CA.
  - With O(wait), waits until the kubelet of every node in O(nodes) serves a certificate that verifies the way
    the API server verifies it with C(--kubelet-certificate-authority) (chain to O(ca_file), address in the SANs),
    approving the node's CSRs as they arrive, and fails naming the nodes that do not, and why.
  - With O(approve=false) only reports (the apiserver role's CIS 1.2.5 preflight).
options:
  nodes:
    description: Node names to handle; empty means every Node. CSRs of other nodes are not approved.
    type: list
    elements: str
    default: []
  known_addresses:
    description:
      - Node name to the IP addresses and host names known for it from outside the cluster (its inventory host's
        interface addresses). A node listed here gets only SANs from this list (its Node name is always allowed).
    type: dict
    default: {}
  approve:
    description: Approve the CSRs that pass. V(false) reports what would be approved.
    type: bool
    default: true
  probe:
    description: Connect to the kubelet of each node in O(nodes) and verify its serving certificate (RV(nodes)).
    type: bool
    default: true
  wait:
    description: Wait (up to O(timeout)) until each node in O(nodes) serves a verified certificate; fail otherwise.
    type: bool
    default: false
  timeout:
    description: Seconds O(wait) waits.
    type: int
    default: 120
  ca_file:
    description: The CA the API server verifies kubelets with (C(--kubelet-certificate-authority)).
    type: path
    default: /etc/kubernetes/pki/ca.crt
  preferred_address_types:
    description: The API server's C(--kubelet-preferred-address-types), the address probed first.
    type: list
    elements: str
    default: [InternalIP, ExternalIP, Hostname]
  kubeconfig:
    description: Kubeconfig allowed to list Nodes and CSRs and to update CSR approval.
    type: path
    default: /etc/kubernetes/admin.conf
  kubectl:
    description: Path or name of C(kubectl).
    type: str
    default: kubectl
attributes:
  check_mode:
    support: full
    description: CSRs are judged and RV(approved) lists what would be approved; nothing is approved and nothing waits.
  diff_mode:
    support: none
    description: Approving a CSR changes no file; RV(approved) says what was approved.
  platform:
    support: full
    platforms: posix
    description: A host that reaches the API server and the kubelets, normally a control-plane node.
notes:
  - Approval uses C(kubectl replace --raw) on the CSR's C(approval) subresource, with reason C(SecureClusterK8sApproved)
    and a message naming the checks, so the audit log and C(kubectl describe csr) say who approved and why.
  - Kubelets rotate their serving certificate before it expires with a new CSR; a scheduled run approves those too.
seealso:
  - name: Kubelet serving certificates (Kubernetes documentation)
    description: Why kubelet-serving CSRs are not approved automatically.
    link: https://kubernetes.io/docs/reference/access-authn-authz/kubelet-tls-bootstrapping/#certificate-rotation
"""

EXAMPLES = r"""
- name: Approve this node's serving CSR and wait until its kubelet serves the certificate
  secure_cluster.k8s.kubelet_serving_certs:
    nodes: [worker-1]
    known_addresses:
      worker-1: [10.0.0.21, worker-1.example.internal]
    wait: true
  delegate_to: cp-1

- name: Report which kubelets the API server could not verify (no approval)
  secure_cluster.k8s.kubelet_serving_certs:
    approve: false
  register: serving
"""

RETURN = r"""
approved:
  description: CSRs approved by this call (in check mode, those that would be).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "csr-8x2kq", "node": "worker-1", "sans": {"dns": ["worker-1"], "ip": ["10.0.0.21"]}}]
rejected:
  description: Pending kubelet-serving CSRs left pending, with the reasons.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "csr-z9", "node": "worker-1", "reasons": ["IP SAN 10.9.9.9 is not an address of Node worker-1 (10.0.0.21)"]}]
nodes:
  description: Per node, the kubelet endpoint the API server dials and whether its serving certificate verified.
  returned: when O(probe)
  type: dict
  sample: {"worker-1": {"address": "10.0.0.21", "port": 10250, "verified": true, "detail": "verified against ..."}}
unverified:
  description: Nodes whose kubelet does not serve a certificate the API server would accept.
  returned: when O(probe)
  type: list
  elements: str
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubelet_serving as ks


class Cluster:
    def __init__(self, module):
        self.module = module
        p = module.params
        self.base = [module.get_bin_path(p["kubectl"], required=True), "--kubeconfig", p["kubeconfig"]]

    def read(self):
        """(Nodes, kubelet-serving CSRs)."""
        rc, out, err = self.module.run_command(self.base + ["get", "nodes,certificatesigningrequests", "-o", "json"])
        if rc != 0:
            self.module.fail_json(msg="kubectl get nodes,certificatesigningrequests failed: %s" % err.strip())
        try:
            items = json.loads(out).get("items") or []
        except ValueError as exc:
            self.module.fail_json(msg="kubectl printed no JSON list: %s" % exc)
        return ([i for i in items if i.get("kind") == "Node"],
                [i for i in items if i.get("kind") == "CertificateSigningRequest"
                 and (i.get("spec") or {}).get("signerName") == ks.SIGNER])

    def approve(self, csr, verdict):
        message = ("secure_cluster.k8s: requested by %s with subject and usages of a kubelet serving certificate; "
                   "SANs %s are names and addresses of Node %s"
                   % (csr["spec"]["username"], ", ".join(verdict["sans"]["dns"] + verdict["sans"]["ip"]),
                      verdict["node"]))
        path = "/apis/certificates.k8s.io/v1/certificatesigningrequests/%s/approval" % csr["metadata"]["name"]
        rc, dummy, err = self.module.run_command(self.base + ["replace", "--raw", path, "-f", "-"],
                                                 data=json.dumps(ks.approval(csr, message)))
        if rc != 0:
            self.module.fail_json(msg="approving %s failed: %s" % (csr["metadata"]["name"], err.strip()))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nodes=dict(type="list", elements="str", default=[]),
            known_addresses=dict(type="dict", default={}),
            approve=dict(type="bool", default=True),
            probe=dict(type="bool", default=True),
            wait=dict(type="bool", default=False),
            timeout=dict(type="int", default=120),
            ca_file=dict(type="path", default="/etc/kubernetes/pki/ca.crt"),
            preferred_address_types=dict(type="list", elements="str", default=["InternalIP", "ExternalIP", "Hostname"]),
            kubeconfig=dict(type="path", default="/etc/kubernetes/admin.conf"),
            kubectl=dict(type="str", default="kubectl"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    known = {name: [str(a) for a in (addresses or [])] for name, addresses in p["known_addresses"].items()}
    cluster = Cluster(module)
    wanted = set(p["nodes"])
    wait = p["wait"] and not module.check_mode
    deadline = time.monotonic() + max(p["timeout"], 0)
    approved, rejected, seen = [], {}, set()
    while True:
        nodes, csrs = cluster.read()
        missing = wanted - {n["metadata"]["name"] for n in nodes}
        if missing and not wait:
            module.fail_json(msg="no Node named %s in the cluster" % ", ".join(sorted(missing)))
        for csr in csrs:
            verdict = ks.judge(csr, nodes, known)
            if verdict["verdict"] == "ignore" or (wanted and verdict["node"] not in wanted):
                continue
            if verdict["verdict"] == "reject":
                rejected[verdict["name"]] = {k: verdict[k] for k in ("name", "node", "reasons", "sans")}
                continue
            if verdict["name"] in seen:
                continue
            seen.add(verdict["name"])
            if p["approve"] and not module.check_mode:
                cluster.approve(csr, verdict)
            approved.append({k: verdict[k] for k in ("name", "node", "sans")})
        result = {"approved": approved, "rejected": sorted(rejected.values(), key=lambda r: r["name"])}
        if p["probe"] or wait:
            by_name = {n["metadata"]["name"]: n for n in nodes}
            states = {}
            for name in sorted(wanted or by_name):
                if name not in by_name:
                    states[name] = {"address": None, "port": None, "verified": False, "detail": "no such Node"}
                    continue
                address, port = ks.kubelet_endpoint(by_name[name], p["preferred_address_types"])
                ok, detail = ks.probe(address, port, p["ca_file"]) if address else (False, "the Node has no address")
                states[name] = {"address": address, "port": port, "verified": ok, "detail": detail}
            result["nodes"] = states
            result["unverified"] = [name for name, state in states.items() if not state["verified"]]
        if not wait or not result.get("unverified", []) or time.monotonic() >= deadline:
            break
        time.sleep(2)
    for item in result["rejected"]:
        module.warn("kubelet-serving CSR %s of node %s not approved: %s"
                    % (item["name"], item["node"], "; ".join(item["reasons"])))
    changed = bool(approved)
    if wait and result.get("unverified"):
        pending = "; ".join("%s (%s): %s" % (r["name"], r["node"], ", ".join(r["reasons"])) for r in result["rejected"])
        module.fail_json(
            msg="after %d s the kubelet of %s does not serve a certificate the API server accepts (%s)%s"
            % (p["timeout"], ", ".join(result["unverified"]),
               "; ".join("%s: %s" % (n, result["nodes"][n]["detail"]) for n in result["unverified"]),
               "; CSRs not approved: " + pending if pending else ""),
            changed=changed, **result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
