# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/etcd_firewall.py."""
from __future__ import annotations

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import etcd_firewall as fw

CHAIN = "SCK8S-ETCD"
JUMP = "-A INPUT -p tcp -m multiport --dports 2379,2380 -j SCK8S-ETCD"
PEERS = ["10.0.0.21", "10.0.0.22", "10.0.0.23"]


def test_plan_renders_what_iptables_prints():
    rules = fw.plan(CHAIN, ["10.0.0.11", "10.0.0.11/32", "10.1.0.0/24"], PEERS, required_peers=PEERS)
    assert rules == [
        "-N SCK8S-ETCD",
        "-A SCK8S-ETCD -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A SCK8S-ETCD -i lo -j RETURN",
        "-A SCK8S-ETCD -s 10.0.0.11/32 -p tcp -m tcp --dport 2379 -j RETURN",
        "-A SCK8S-ETCD -s 10.1.0.0/24 -p tcp -m tcp --dport 2379 -j RETURN",
        "-A SCK8S-ETCD -s 10.0.0.21/32 -p tcp -m tcp --dport 2380 -j RETURN",
        "-A SCK8S-ETCD -s 10.0.0.22/32 -p tcp -m tcp --dport 2380 -j RETURN",
        "-A SCK8S-ETCD -s 10.0.0.23/32 -p tcp -m tcp --dport 2380 -j RETURN",
        "-A SCK8S-ETCD -p tcp -m tcp --dport 2379 -j DROP",
        "-A SCK8S-ETCD -p tcp -m tcp --dport 2380 -j DROP",
    ]
    assert fw.jump_rule(CHAIN, 2379, 2380) == JUMP


def test_plan_refuses_lockouts_and_bad_input():
    with pytest.raises(fw.FirewallError, match="would lock out etcd member 10.0.0.23"):
        fw.plan(CHAIN, ["10.0.0.11"], PEERS[:2], required_peers=PEERS)
    with pytest.raises(fw.FirewallError, match="lock out 10.0.0.12"):
        fw.plan(CHAIN, ["10.0.0.11"], PEERS, required_clients=["10.0.0.12"])
    assert fw.plan(CHAIN, ["10.0.0.0/24"], ["10.0.0.0/24"], PEERS, ["10.0.0.12"])
    with pytest.raises(fw.FirewallError, match="peer source list is empty"):
        fw.plan(CHAIN, ["10.0.0.11"], [])
    with pytest.raises(fw.FirewallError, match="client source list is empty"):
        fw.plan(CHAIN, [], PEERS)
    with pytest.raises(fw.FirewallError, match="IPv6"):
        fw.plan(CHAIN, ["fd00::1"], PEERS)
    with pytest.raises(fw.FirewallError, match="not an IPv4 address"):
        fw.plan(CHAIN, ["etcd-1.example"], PEERS)
    with pytest.raises(fw.FirewallError, match="chain name"):
        fw.plan("BAD CHAIN", ["10.0.0.11"], PEERS)


def test_compare_and_restore_text():
    rules = fw.plan(CHAIN, ["10.0.0.11"], PEERS)
    foreign = ["-P INPUT ACCEPT", "-A INPUT -j KUBE-FIREWALL"]
    todo = fw.compare(CHAIN, rules, None, foreign, JUMP)
    assert todo == {"chain": True, "jump_add": True, "jump_remove": []}
    text = fw.restore_text(CHAIN, rules, True, JUMP)
    lines = text.splitlines()
    assert lines[:2] == ["*filter", ":SCK8S-ETCD - [0:0]"] and lines[-1] == "COMMIT"
    assert "-N SCK8S-ETCD" not in lines and rules[1] in lines
    assert lines[-2] == "-I INPUT 1 -p tcp -m multiport --dports 2379,2380 -j SCK8S-ETCD"
    assert not any("KUBE" in line for line in lines)
    done = fw.compare(CHAIN, rules, list(rules), foreign + [JUMP], JUMP)
    assert done == {"chain": False, "jump_add": False, "jump_remove": []}
    old = "-A INPUT -p tcp -m multiport --dports 12379,12380 -j SCK8S-ETCD"
    messy = fw.compare(CHAIN, rules, list(rules), [JUMP, old, JUMP], JUMP)
    assert messy == {"chain": False, "jump_add": False, "jump_remove": [old, JUMP]}
    assert fw.jump_text(False, JUMP, messy["jump_remove"]).splitlines()[1:3] == [
        old.replace("-A", "-D", 1), JUMP.replace("-A", "-D", 1)]


def test_removal_text_touches_only_our_chain():
    text = fw.removal_text(CHAIN, [JUMP], True)
    assert text == ("*filter\n-D INPUT -p tcp -m multiport --dports 2379,2380 -j SCK8S-ETCD\n"
                    "-F SCK8S-ETCD\n-X SCK8S-ETCD\nCOMMIT\n")
    assert fw.removal_text(CHAIN, [], False) == "*filter\nCOMMIT\n"


def test_parse_listing_and_covered():
    assert fw.parse_listing("-N X\n\n-A X -j RETURN\n") == ["-N X", "-A X -j RETURN"]
    assert fw.covered("10.0.0.5", ["10.0.0.0/24"]) and not fw.covered("10.0.1.5", ["10.0.0.0/24"])


def test_chain_rules_from_the_whole_table():
    table = fw.parse_listing("-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-N SCK8S-ETCD\n-N OTHER\n"
                             "-A INPUT -p tcp -m multiport --dports 2379,2380 -j SCK8S-ETCD\n"
                             "-A SCK8S-ETCD -i lo -j RETURN\n-A OTHER -j RETURN\n")
    assert fw.chain_rules("SCK8S-ETCD", table) == ["-N SCK8S-ETCD", "-A SCK8S-ETCD -i lo -j RETURN"]
    assert fw.chain_rules("INPUT", table) == ["-P INPUT ACCEPT", JUMP]
    assert fw.chain_rules("MISSING", table) is None
