# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The etcd network isolation chain (seed 5.1): desired rules, comparison with ``iptables -S``, restore text.

Standard library only. One dedicated filter chain (default ``SCK8S-ETCD``), entered from INPUT by one rule that
matches only TCP to the etcd ports, so nothing else (SSH, kube-proxy, CNI) ever passes through it::

    -A INPUT -p tcp -m multiport --dports 2379,2380 -j SCK8S-ETCD
    -A SCK8S-ETCD -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN     # open connections are never cut
    -A SCK8S-ETCD -i lo -j RETURN                                          # the node itself
    -A SCK8S-ETCD -s <client>/32 -p tcp -m tcp --dport 2379 -j RETURN      # per client source
    -A SCK8S-ETCD -s <peer>/32 -p tcp -m tcp --dport 2380 -j RETURN        # per peer source
    -A SCK8S-ETCD -p tcp -m tcp --dport 2379 -j DROP
    -A SCK8S-ETCD -p tcp -m tcp --dport 2380 -j DROP

Allowed traffic RETURNs to INPUT instead of being ACCEPTed: the chain only ever takes access away, and whatever
INPUT decides after it (a default-deny policy, other accept rules) still applies. Rules are written as
``iptables -S`` prints them, so the comparison is a plain line comparison. Changes are applied with one
``iptables-restore --noflush`` transaction (declaring the chain flushes only that chain), so there is no moment
with a half-built chain.
"""

from __future__ import annotations

import ipaddress

DEFAULT_CHAIN = "SCK8S-ETCD"


class FirewallError(ValueError):
    """The requested address lists cannot be turned into a safe chain."""


def _network(text, what):
    try:
        net = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise FirewallError("%s %r is not an IPv4 address or CIDR" % (what, text))
    if net.version != 4:
        raise FirewallError("%s %s is IPv6: this chain is IPv4 (iptables) only; bind etcd to IPv4 addresses"
                            % (what, text))
    return net


def normalize_sources(sources, what):
    """Unique IPv4 networks in the given order, as iptables prints them (``10.0.0.1/32``)."""
    seen = []
    for item in sources or []:
        text = str(_network(item, what))
        if "/" not in text:
            text += "/32"
        if text not in seen:
            seen.append(text)
    return seen


def covered(address, sources):
    """Whether ``address`` (an IP) falls in one of ``sources`` (normalized networks)."""
    ip = ipaddress.ip_address(str(address).strip())
    return any(ip in ipaddress.ip_network(s) for s in sources)


def jump_rule(chain, client_port, peer_port):
    return "-A INPUT -p tcp -m multiport --dports %d,%d -j %s" % (client_port, peer_port, chain)


def desired_rules(chain, client_sources, peer_sources, client_port=2379, peer_port=2380):
    """The chain's rules as ``iptables -S CHAIN`` prints them (first line ``-N CHAIN``)."""
    rules = ["-N %s" % chain,
             "-A %s -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN" % chain,
             "-A %s -i lo -j RETURN" % chain]
    for port, sources in ((client_port, client_sources), (peer_port, peer_sources)):
        for source in sources:
            rules.append("-A %s -s %s -p tcp -m tcp --dport %d -j RETURN" % (chain, source, port))
    for port in (client_port, peer_port):
        rules.append("-A %s -p tcp -m tcp --dport %d -j DROP" % (chain, port))
    return rules


def plan(chain, client_sources, peer_sources, required_peers=(), required_clients=(), client_port=2379,
         peer_port=2380):
    """Validate the request and return the desired rules.

    ``required_peers``: addresses that must keep reaching the peer port (every current member, this node
    included); ``required_clients``: addresses that must keep reaching the client port (the API servers).
    Raises :class:`FirewallError` with the reason when the chain would lock one of them out."""
    if not chain or len(chain) > 28 or any(c.isspace() for c in chain):
        raise FirewallError("chain name %r is not a valid iptables chain name (1-28 characters, no blanks)" % chain)
    clients = normalize_sources(client_sources, "client source")
    peers = normalize_sources(peer_sources, "peer source")
    if not peers:
        raise FirewallError("the etcd peer source list is empty: every member would be cut off from its peers on "
                            "port %d" % peer_port)
    if not clients:
        raise FirewallError("the etcd client source list is empty: no API server could reach port %d"
                            % client_port)
    missing_peers = [a for a in required_peers if not covered(a, peers)]
    if missing_peers:
        raise FirewallError("the peer source list %s would lock out etcd member%s %s on port %d (every current "
                            "member must stay allowed)" % (", ".join(peers), "s" if len(missing_peers) > 1 else "",
                                                           ", ".join(missing_peers), peer_port))
    missing_clients = [a for a in required_clients if not covered(a, clients)]
    if missing_clients:
        raise FirewallError("the client source list %s would lock out %s on port %d"
                            % (", ".join(clients), ", ".join(missing_clients), client_port))
    return desired_rules(chain, clients, peers, client_port, peer_port)


def parse_listing(text):
    """``iptables -S`` output -> list of rule lines (blank lines dropped)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def chain_rules(chain, table_listing):
    """The lines of one chain in an ``iptables -S`` listing of the whole table (its ``-N``/``-P`` line first);
    None when the table has no such chain."""
    head = [line for line in table_listing if line == "-N %s" % chain or line.startswith("-P %s " % chain)]
    if not head:
        return None
    return head[:1] + [line for line in table_listing if line.startswith("-A %s " % chain)]


def restore_text(chain, rules, add_jump, jump, remove_jumps=()):
    """``iptables-restore --noflush`` input that (re)builds the chain, removes ``remove_jumps`` and, when
    ``add_jump``, inserts the jump as the first INPUT rule."""
    lines = ["*filter", ":%s - [0:0]" % chain]
    lines.extend(rule for rule in rules if not rule.startswith("-N "))
    return "\n".join(lines + _jump_lines(add_jump, jump, remove_jumps) + ["COMMIT"]) + "\n"


def _jump_lines(add_jump, jump, remove_jumps):
    lines = [j.replace("-A INPUT", "-D INPUT", 1) for j in remove_jumps]
    if add_jump:
        lines.append(jump.replace("-A INPUT", "-I INPUT 1", 1))
    return lines


def jump_text(add_jump, jump, remove_jumps=()):
    """``iptables-restore --noflush`` input that only fixes the INPUT jumps (the chain is already right)."""
    return "\n".join(["*filter"] + _jump_lines(add_jump, jump, remove_jumps) + ["COMMIT"]) + "\n"


def removal_text(chain, jumps_present, chain_present):
    """``iptables-restore --noflush`` input that removes every jump to the chain and the chain itself."""
    lines = ["*filter"] + _jump_lines(False, None, jumps_present)
    if chain_present:
        lines.extend(["-F %s" % chain, "-X %s" % chain])
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def jumps_to(chain, input_listing):
    """The INPUT rules of an ``iptables -S INPUT`` listing that jump to ``chain``."""
    return [line for line in input_listing if line.startswith("-A INPUT ") and line.endswith(" -j %s" % chain)]


def compare(chain, desired, current_chain, current_input, jump):
    """What has to change: {"chain": bool, "jump_add": bool, "jump_remove": [lines]}.

    ``current_chain`` is None when the chain does not exist. The jump must be present exactly once; stray jumps
    to the chain with other matches (from an older run with other ports) are removed."""
    jumps = jumps_to(chain, current_input)
    return {
        "chain": current_chain != desired,
        "jump_add": jump not in jumps,
        "jump_remove": [j for j in jumps if j != jump] + ([jump] * (jumps.count(jump) - 1)),
    }
