#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_firewall
short_description: Restrict the etcd client and peer ports to allowed sources in a dedicated iptables chain
version_added: 0.1.0
author:
  - secure_cluster.k8s maintainers (@secure-cluster)
description:
  - Builds one dedicated filter chain (O(chain)) that lets the etcd client port through only from loopback and
    O(client_sources), the peer port only from O(peer_sources), and drops everything else to those two ports.
    Already established connections are never cut. Allowed traffic returns to C(INPUT) (it is not accepted), so
    the chain only ever takes access away.
  - The chain is entered from C(INPUT) by exactly one rule matching TCP to the two ports, inserted first. No other
    chain or rule (kube-proxy, CNI, the SSH connection) is flushed, reordered or touched.
  - Compares the wanted rules with C(iptables -S) and changes nothing when they match. A change is applied as one
    C(iptables-restore --noflush) transaction, then read back and verified.
  - Refuses, before anything changes, an empty source list, an IPv6 or malformed address, and a peer list that
    leaves out an address in O(required_peers) (a current member) or a client list that leaves out one in
    O(required_clients).
  - With O(persist_file), also writes the C(iptables-restore) input that rebuilds the chain at boot (a systemd unit
    of the etcd role replays it).
options:
  state:
    description: V(present) builds the chain; V(absent) removes the jump, the chain and O(persist_file).
    type: str
    choices: [present, absent]
    default: present
  chain:
    description: Name of the dedicated chain.
    type: str
    default: SCK8S-ETCD
  client_sources:
    description: IPv4 addresses or CIDRs allowed to reach O(client_port) (besides loopback).
    type: list
    elements: str
    default: []
  peer_sources:
    description: IPv4 addresses or CIDRs allowed to reach O(peer_port) (besides loopback).
    type: list
    elements: str
    default: []
  required_peers:
    description: Addresses that must stay allowed on O(peer_port), normally every current etcd member.
    type: list
    elements: str
    default: []
  required_clients:
    description: Addresses that must stay allowed on O(client_port), normally the API servers.
    type: list
    elements: str
    default: []
  client_port:
    description: etcd client port.
    type: int
    default: 2379
  peer_port:
    description: etcd peer port.
    type: int
    default: 2380
  persist_file:
    description: Where to keep the C(iptables-restore) input used at boot; not written when unset.
    type: path
extends_documentation_fragment:
  - secure_cluster.k8s.attributes.NODE_WRITE
attributes:
  diff_mode:
    support: full
    description: The diff shows the chain's rules before and after.
notes:
  - Needs C(iptables) and C(iptables-restore) (legacy or nft backend) and CAP_NET_ADMIN.
"""

EXAMPLES = r"""
- name: Allow 2379 from the API servers and 2380 from the members only
  secure_cluster.k8s.etcd_firewall:
    client_sources: [10.0.0.11, 10.0.0.12, 10.0.0.13]
    peer_sources: [10.0.0.21, 10.0.0.22, 10.0.0.23]
    required_peers: [10.0.0.21, 10.0.0.22, 10.0.0.23]
    persist_file: /etc/secure_cluster/etcd-firewall.rules

- name: Remove the chain
  secure_cluster.k8s.etcd_firewall:
    state: absent
    persist_file: /etc/secure_cluster/etcd-firewall.rules
"""

RETURN = r"""
rules:
  description: The chain's rules as C(iptables -S) prints them (empty for V(absent)).
  returned: always
  type: list
  elements: str
jump:
  description: The C(INPUT) rule that enters the chain.
  returned: always
  type: str
previous_rules:
  description: The chain's rules before the call (empty when it did not exist).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_firewall as fw
from ansible_collections.secure_cluster.k8s.plugins.module_utils import owned_file


def _table(module):
    # the whole filter table: iptables-nft 1.8.9 answers `-S CHAIN` for a missing chain with "incompatible"
    rc, out, err = module.run_command([module.get_bin_path("iptables", required=True), "-S"])
    if rc != 0:
        module.fail_json(msg="iptables -S failed: %s" % err.strip())
    return fw.parse_listing(out)


def _restore(module, text):
    rc, dummy, err = module.run_command([module.get_bin_path("iptables-restore", required=True), "--noflush"],
                                        data=text, binary_data=True)
    if rc != 0:
        module.fail_json(msg="iptables-restore --noflush failed, nothing was changed: %s" % err.strip(),
                         restore_input=text)


def _write_file(path, content):
    directory = os.path.dirname(path) or "/"
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    owned_file.write(path, content, mode=0o600, uid=0, gid=0)


def _read_file(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            chain=dict(type="str", default=fw.DEFAULT_CHAIN),
            client_sources=dict(type="list", elements="str", default=[]),
            peer_sources=dict(type="list", elements="str", default=[]),
            required_peers=dict(type="list", elements="str", default=[]),
            required_clients=dict(type="list", elements="str", default=[]),
            client_port=dict(type="int", default=2379),
            peer_port=dict(type="int", default=2380),
            persist_file=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    chain = p["chain"]
    jump = fw.jump_rule(chain, p["client_port"], p["peer_port"])
    table = _table(module)
    current_chain = fw.chain_rules(chain, table)
    current_input = fw.chain_rules("INPUT", table) or []
    previous = current_chain or []
    persisted = _read_file(p["persist_file"]) if p["persist_file"] else None

    if p["state"] == "absent":
        jumps = fw.jumps_to(chain, current_input)
        changed = bool(jumps) or current_chain is not None or persisted is not None
        if changed and not module.check_mode:
            if jumps or current_chain is not None:
                _restore(module, fw.removal_text(chain, jumps, current_chain is not None))
            if persisted is not None:
                os.unlink(p["persist_file"])
        module.exit_json(changed=changed, rules=[], jump=jump, previous_rules=previous,
                         diff=dict(before="\n".join(previous + jumps) + "\n", after=""))

    try:
        rules = fw.plan(chain, p["client_sources"], p["peer_sources"], p["required_peers"], p["required_clients"],
                        p["client_port"], p["peer_port"])
    except (fw.FirewallError, ValueError) as exc:
        module.fail_json(msg="etcd firewall refused, nothing was changed: %s" % exc)
    todo = fw.compare(chain, rules, current_chain, current_input, jump)
    boot_text = fw.restore_text(chain, rules, True, jump)
    live_change = todo["chain"] or todo["jump_add"] or bool(todo["jump_remove"])
    file_change = p["persist_file"] is not None and persisted != boot_text
    if not module.check_mode:
        if live_change:
            _restore(module, fw.restore_text(chain, rules, todo["jump_add"], jump, todo["jump_remove"])
                     if todo["chain"] else fw.jump_text(todo["jump_add"], jump, todo["jump_remove"]))
            table = _table(module)
            after = fw.chain_rules(chain, table)
            if after != rules or fw.jumps_to(chain, fw.chain_rules("INPUT", table) or []) != [jump]:
                module.fail_json(msg="the %s chain does not read back as written" % chain, expected=rules,
                                 found=after)
        if file_change:
            _write_file(p["persist_file"], boot_text)
    module.exit_json(changed=live_change or file_change, rules=rules, jump=jump, previous_rules=previous,
                     diff=dict(before="\n".join(previous) + "\n", after="\n".join(rules) + "\n"))


if __name__ == "__main__":
    main()
