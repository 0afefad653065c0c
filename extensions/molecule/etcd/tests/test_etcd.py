"""The etcd role hardened a 3-member external etcd (systemd) and a stacked etcd (static pod) without breaking them:
TLS is required, the ports are closed to a node outside the allowed set, other firewall rules are untouched, bad
input changes nothing, and a change that breaks etcd is rolled back."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import testinfra

MEMBERS = ["sck8s-mol-etcd-e1", "sck8s-mol-etcd-e2", "sck8s-mol-etcd-e3"]
CP = "sck8s-mol-etcd-cp1"
OUT = "sck8s-mol-etcd-out"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXT_PKI = "/etc/etcd/pki"
STACKED_PKI = "/etc/kubernetes/pki/etcd"
CHAIN = "SCK8S-ETCD"
JUMP = "-A INPUT -p tcp -m multiport --dports 2379,2380 -j SCK8S-ETCD"
HARDENED = {
    "client-cert-auth": "true", "auto-tls": "false", "peer-client-cert-auth": "true", "peer-auto-tls": "false",
    "listen-metrics-urls": "http://127.0.0.1:2381", "auto-compaction-retention": "8",
    "quota-backend-bytes": "8589934592",
}


def node(name):
    return testinfra.get_host("podman://" + name)


def ip(name):
    return node(name).check_output("cat /etc/testbed/node-ip").strip()


def etcdctl(pki, *args, cert=True):
    base = ["etcdctl", "--endpoints=https://127.0.0.1:2379", "--cacert=%s/ca.crt" % pki,
            "--dial-timeout=3s", "--command-timeout=5s"]
    if cert:
        base += ["--cert=%s/healthcheck-client.crt" % pki, "--key=%s/healthcheck-client.key" % pki]
    return " ".join(base + list(args))


def reachable(src, dst_ip, port):
    return node(src).run("timeout 3 bash -c '</dev/tcp/%s/%s'", dst_ip, str(port)).rc == 0


def env_flags(host):
    flags = {}
    for line in host.file("/etc/default/etcd").content_string.splitlines():
        if line.startswith("ETCD_") and "=" in line:
            key, value = line.split("=", 1)
            flags[key[5:].lower().replace("_", "-")] = value
    return flags


def playbook(name, limit, extra=None):
    """Run a playbook of this scenario against the etcd and control-plane nodes as a user would."""
    binary = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    inventory = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "etcd_hosts.json")
    hostvars = {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}
    with open(inventory, "w") as handle:
        json.dump({"etcd": {"hosts": dict((m, hostvars) for m in MEMBERS)},
                   "control_plane": {"hosts": {CP: hostvars}}}, handle)
    cmd = [binary, "-i", inventory, os.path.join(HERE, name), "--limit", limit, "-e", json.dumps(extra or {})]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.parametrize("member", MEMBERS)
def test_member_config_is_hardened(member):
    flags = env_flags(node(member))
    for name, value in HARDENED.items():
        assert flags.get(name) == value, (member, name, flags)
    assert flags["trusted-ca-file"] == EXT_PKI + "/ca.crt"
    assert flags["listen-client-urls"] == "https://127.0.0.1:2379,https://%s:2379" % ip(member)
    assert flags["listen-peer-urls"] == "https://%s:2380" % ip(member)


def test_stacked_manifest_and_process_are_hardened():
    host = node(CP)
    argv = host.check_output("cat /proc/$(pgrep -x etcd)/cmdline | tr '\\0' '\\n'").splitlines()
    for name, value in HARDENED.items():
        assert "--%s=%s" % (name, value) in argv, (name, argv)
    assert "--listen-client-urls=https://127.0.0.1:2379,https://%s:2379" % ip(CP) in argv
    manifest = host.file("/etc/kubernetes/manifests/etcd.yaml")
    assert manifest.mode == 0o600 and manifest.user == "root" and manifest.group == "root"


@pytest.mark.parametrize("member,pki", [(m, EXT_PKI) for m in MEMBERS] + [(CP, STACKED_PKI)])
def test_client_cert_works_and_no_cert_is_rejected(member, pki):
    host = node(member)
    members = json.loads(host.check_output(etcdctl(pki, "member", "list", "--write-out=json")))["members"]
    assert len(members) == (1 if member == CP else 3)
    host.check_output(etcdctl(pki, "put", "/sck8s/test", member))
    assert host.check_output(etcdctl(pki, "get", "--print-value-only", "/sck8s/test")).strip() == member
    anonymous = host.run(etcdctl(pki, "--insecure-transport=false", "get", "/sck8s/test", cert=False))
    assert anonymous.rc != 0, anonymous.stdout
    assert host.run("curl -s http://127.0.0.1:2381/health").stdout.strip().startswith('{"health":"true"')


@pytest.mark.parametrize("member", MEMBERS + [CP])
def test_data_dir(member):
    path = "/var/lib/etcd" if member == CP else "/var/lib/etcd/default"
    directory = node(member).file(path)
    assert directory.mode == 0o700 and directory.user == "etcd" and directory.group == "etcd"


@pytest.mark.parametrize("member", MEMBERS + [CP])
def test_chain_and_foreign_rules(member):
    table = node(member).check_output("iptables -S").splitlines()
    chain = [line for line in table if line.startswith("-A %s " % CHAIN)]
    peers = [ip(CP)] if member == CP else [ip(m) for m in MEMBERS]
    clients = [ip(CP)] + ([] if member == CP else [ip(m) for m in MEMBERS])
    assert chain == (["-A %s -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN" % CHAIN,
                      "-A %s -i lo -j RETURN" % CHAIN]
                     + ["-A %s -s %s/32 -p tcp -m tcp --dport 2379 -j RETURN" % (CHAIN, a) for a in clients]
                     + ["-A %s -s %s/32 -p tcp -m tcp --dport 2380 -j RETURN" % (CHAIN, a) for a in peers]
                     + ["-A %s -p tcp -m tcp --dport 2379 -j DROP" % CHAIN,
                        "-A %s -p tcp -m tcp --dport 2380 -j DROP" % CHAIN])
    inputs = [line for line in table if line.startswith("-A INPUT ")]
    assert inputs == [JUMP, "-A INPUT -j SCK8S-TEST-FOREIGN", "-A INPUT -p tcp -m tcp --dport 9998 -j ACCEPT"]
    assert "-A SCK8S-TEST-FOREIGN -p tcp -m tcp --dport 9999 -j ACCEPT" in table
    host = node(member)
    assert host.service("sck8s-etcd-firewall.service").is_enabled
    assert host.file("/etc/secure_cluster/etcd-firewall.rules").contains("-I INPUT 1 " + JUMP[len("-A INPUT "):])


@pytest.mark.parametrize("target", MEMBERS + [CP])
def test_outside_node_cannot_reach_etcd(target):
    address = ip(target)
    assert not reachable(OUT, address, 2379)
    assert not reachable(OUT, address, 2380)
    assert not reachable(OUT, address, 2381), "metrics must listen on loopback only"


def test_allowed_nodes_still_reach_etcd():
    assert reachable(CP, ip(MEMBERS[0]), 2379), "the API server's node reaches the external etcd"
    assert reachable(MEMBERS[1], ip(MEMBERS[0]), 2380), "a peer reaches the peer port"
    assert reachable(MEMBERS[2], ip(MEMBERS[0]), 2379)
    assert not reachable(CP, ip(MEMBERS[0]), 2380), "the control plane is not an etcd peer"


def test_audit_passes_for_the_stacked_node(tmp_path):
    proc = playbook("audit.yml", CP, {"cis_report_dir": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(os.path.join(str(tmp_path), CP + ".json")) as handle:
        report = json.load(handle)
    results = dict((r["test_number"], r["status"]) for c in report["Controls"] for g in c["tests"]
                   for r in g["results"])
    for cid in ["1.1.7", "1.1.8", "1.1.11", "1.1.12", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]:
        assert results.get(cid) == "PASS", (cid, results.get(cid), results)


def test_audit_passes_for_an_external_member(tmp_path):
    """The member is hardened only through ETCD_* variables in /etc/default/etcd (systemd EnvironmentFile=):
    the audit reads them from the unit and from the running process's environment."""
    member = MEMBERS[0]
    checks = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"]
    proc = playbook("audit.yml", member, {"cis_report_dir": str(tmp_path), "cis_checks": checks})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(os.path.join(str(tmp_path), member + ".json")) as handle:
        report = json.load(handle)
    results = dict((r["test_number"], r) for c in report["Controls"] for g in c["tests"] for r in g["results"])
    for cid in checks:
        assert results.get(cid, {}).get("status") == "PASS", (cid, results.get(cid))
    # e1 has CAP_SYS_PTRACE like root on a real node: running (etcd's environ) and configured (the unit and
    # /etc/default/etcd) are both read, and agree
    expected = "ETCD_CERT_FILE=%s/server.crt; ETCD_KEY_FILE=%s/server.key" % (EXT_PKI, EXT_PKI)
    assert results["2.1"]["actual"] == {"running": expected, "configured": expected}, results["2.1"]
    assert results["2.1"]["actual_value"] == expected


def test_audit_of_a_member_whose_environment_is_unreadable(tmp_path):
    """e2's root lacks CAP_SYS_PTRACE, so etcd's (user etcd) environ is unreadable: judged from the unit and
    /etc/default/etcd, and the reason says so instead of reporting drift."""
    member = MEMBERS[1]
    proc = playbook("audit.yml", member, {"cis_report_dir": str(tmp_path), "cis_checks": ["2.1"]})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(os.path.join(str(tmp_path), member + ".json")) as handle:
        report = json.load(handle)
    result = [r for c in report["Controls"] for g in c["tests"] for r in g["results"] if r["test_number"] == "2.1"][0]
    assert result["status"] == "PASS" and not result.get("drift"), result
    assert "configured: ETCD_CERT_FILE=%s/server.crt" % EXT_PKI in result["actual_value"], result


def _unchanged_after(limit, extra, expected):
    host = node(limit)
    before = host.file("/etc/default/etcd").content_string
    pid = host.check_output("systemctl show -p MainPID --value etcd.service")
    table = host.check_output("iptables -S")
    proc = playbook("failures.yml", limit, extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert expected in out, out[-4000:]
    assert host.file("/etc/default/etcd").content_string == before
    assert host.check_output("systemctl show -p MainPID --value etcd.service") == pid, "etcd was not restarted"
    assert host.check_output("iptables -S") == table
    return out


def test_wrong_cert_path_is_refused_and_etcd_untouched():
    out = _unchanged_after(MEMBERS[0], {"etcd_cert_file": "/etc/etcd/pki/missing.crt"},
                           "--cert-file: file /etc/etcd/pki/missing.crt does not exist on the node")
    assert "/etc/default/etcd not changed" in out


def test_peer_list_that_locks_out_a_member_is_refused():
    _unchanged_after(MEMBERS[0], {"etcd_firewall_peer_sources": [ip(MEMBERS[0]), ip(MEMBERS[1])]},
                     "would lock out etcd member %s on port 2380" % ip(MEMBERS[2]))


def test_empty_members_group_is_refused():
    _unchanged_after(MEMBERS[0], {"etcd_members_group": "no_such_group"},
                     "inventory group no_such_group (the etcd members) is empty or missing")


def test_flag_unknown_to_etcd_version_is_refused():
    _unchanged_after(MEMBERS[0], {"etcd_extra_flags": {"tls-min-version": "TLS1.2"}},
                     "--tls-min-version is not accepted by etcd 3.4: it was added in etcd 3.5")


def test_breaking_change_is_rolled_back():
    member = MEMBERS[2]
    host = node(member)
    before = host.file("/etc/default/etcd").content_string
    # valid for etcd 3.4 and preflight, but not an address of the node: etcd cannot bind and exits
    proc = playbook("failures.yml", member, {"etcd_extra_flags": {
        "listen-client-urls": "https://127.0.0.1:2379,https://192.0.2.10:2379"}})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "etcd failed its health gate after /etc/default/etcd changed" in out, out[-4000:]
    assert "/etc/default/etcd was restored from /var/lib/secure_cluster/backups/etcd/" in out
    assert "etcd is healthy again" in out, out[-4000:]
    assert host.file("/etc/default/etcd").content_string == before
    host.check_output(etcdctl(EXT_PKI, "endpoint", "health", "--cluster"))


def test_chain_is_restored_at_boot():
    """What a reboot leaves (empty kernel tables) and what runs at boot (the enabled restore unit); a podman restart
    is not used because the member's address may change with it, which real nodes do not do."""
    member = MEMBERS[1]
    host = node(member)
    assert host.check_output("systemctl is-enabled sck8s-etcd-firewall.service") == "enabled"
    before = host.check_output("iptables -S").splitlines()
    host.check_output("iptables -D " + JUMP[3:] + " && iptables -F " + CHAIN + " && iptables -X " + CHAIN)
    assert not [line for line in host.check_output("iptables -S").splitlines() if CHAIN in line]
    host.check_output("systemctl restart sck8s-etcd-firewall.service")
    table = host.check_output("iptables -S").splitlines()
    assert [line for line in table if CHAIN in line] == [line for line in before if CHAIN in line]
    assert [line for line in table if line.startswith("-A INPUT ") and line.endswith(CHAIN)] == [JUMP]
    assert not reachable(OUT, ip(member), 2379)
    host.check_output(etcdctl(EXT_PKI, "endpoint", "health", "--cluster"))
