# -*- coding: utf-8 -*-
"""kubelet_serving: CSRs made by openssl are read back as openssl wrote them, the approval rules, and the probe
against real TLS servers with openssl-made certificates."""
from __future__ import annotations

import base64
import socket
import ssl
import subprocess
import threading

import pytest

from ansible_collections.secure_cluster.k8s.plugins.module_utils import kubelet_serving as ks

NODE = "worker-1"
USER = "system:node:" + NODE


def openssl(*args, cwd):
    return subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_csr(tmp_path, subject="/O=system:nodes/CN=" + USER, sans="DNS:worker-1,IP:10.0.0.21", key="ec"):
    name = "req%d" % len(list(tmp_path.iterdir()))
    keyargs = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if key == "ec" else ["-newkey", "rsa:2048"]
    args = ["req", "-new", "-nodes"] + keyargs + ["-keyout", name + ".key", "-subj", subject, "-out", name + ".csr"]
    if sans:
        args += ["-addext", "subjectAltName=" + sans]
    openssl(*args, cwd=tmp_path)
    return (tmp_path / (name + ".csr")).read_text()


def node(name, *addresses):
    return {"metadata": {"name": name}, "status": {
        "addresses": [{"type": t, "address": a} for t, a in addresses],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}


NODES = [node(NODE, ("InternalIP", "10.0.0.21"), ("Hostname", NODE)),
         node("cp-1", ("InternalIP", "10.0.0.11"), ("Hostname", "cp-1"))]


def csr_object(pem, username=USER, groups=("system:nodes", "system:authenticated"),
               usages=("digital signature", "server auth"), signer=ks.SIGNER, conditions=None):
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": "csr-test", "resourceVersion": "7"},
            "spec": {"request": base64.b64encode(pem.encode()).decode(), "signerName": signer,
                     "username": username, "groups": list(groups), "usages": list(usages)},
            "status": {"conditions": conditions} if conditions else {}}


def test_parse_reads_what_openssl_wrote(tmp_path):
    pem = make_csr(tmp_path, subject="/O=system:nodes/CN=system:node:worker-1",
                   sans="DNS:worker-1,DNS:worker-1.example.internal,IP:10.0.0.21,IP:fd00::21,"
                        "email:ops@example.com,URI:spiffe://example/node")
    parsed = ks.parse_csr(pem)
    assert parsed["common_name"] == ["system:node:worker-1"]
    assert parsed["organization"] == ["system:nodes"]
    assert parsed["dns"] == ["worker-1", "worker-1.example.internal"]
    assert parsed["ip"] == ["10.0.0.21", "fd00::21"]
    assert parsed["email"] == ["ops@example.com"]
    assert parsed["uri"] == ["spiffe://example/node"]
    # the DER form and an RSA key read the same
    der = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
    assert ks.parse_csr(der)["ip"] == ["10.0.0.21", "fd00::21"]
    assert ks.parse_csr(make_csr(tmp_path, key="rsa"))["dns"] == ["worker-1"]


def test_parse_without_extensions_and_garbage(tmp_path):
    parsed = ks.parse_csr(make_csr(tmp_path, sans=None))
    assert parsed["dns"] == [] and parsed["ip"] == [] and parsed["common_name"] == [USER]
    with pytest.raises(ks.CSRError):
        ks.parse_csr("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")
    with pytest.raises(ks.CSRError):
        ks.parse_csr(b"\x30\x82\x01")


def test_a_kubelets_own_request_is_approved(tmp_path):
    verdict = ks.judge(csr_object(make_csr(tmp_path)), NODES)
    assert verdict["verdict"] == "approve", verdict["reasons"]
    assert verdict["node"] == NODE and verdict["sans"] == {"dns": ["worker-1"], "ip": ["10.0.0.21"]}
    rsa = csr_object(make_csr(tmp_path, key="rsa"), usages=("digital signature", "key encipherment", "server auth"))
    assert ks.judge(rsa, NODES)["verdict"] == "approve"


@pytest.mark.parametrize("change, reason", [
    (dict(sans="DNS:worker-1,IP:10.0.0.21,IP:10.9.9.9"), "IP SAN 10.9.9.9 is not an address of Node worker-1"),
    (dict(sans="DNS:worker-1,IP:10.0.0.11"), "IP SAN 10.0.0.11 is not an address of Node worker-1"),
    (dict(sans="DNS:kubernetes.default,IP:10.0.0.21"), "DNS SAN kubernetes.default is not a name of Node"),
    (dict(sans="DNS:*.worker-1"), "wildcard"),
    (dict(sans="DNS:worker-1,email:a@b.c"), "email SANs are not for a kubelet"),
    (dict(sans=None), "no DNS or IP SAN"),
    (dict(subject="/O=system:nodes/CN=system:node:cp-1"), "subject CN ['system:node:cp-1'] is not the requester"),
    (dict(subject="/O=system:masters/CN=" + USER), "subject O ['system:masters'] is not [system:nodes]"),
    (dict(username="system:serviceaccount:kube-system:x"), "not by a node"),
    (dict(username="system:node:ghost", subject="/O=system:nodes/CN=system:node:ghost"), "there is no Node ghost"),
    (dict(groups=("system:authenticated",)), "not in the group system:nodes"),
    (dict(usages=("digital signature", "server auth", "client auth")), "not for a serving certificate"),
    (dict(usages=("digital signature",)), "lack server auth"),
])
def test_a_request_that_claims_too_much_is_rejected_with_the_reason(tmp_path, change, reason):
    csr_args = {k: change.pop(k) for k in ("subject", "sans") if k in change}
    verdict = ks.judge(csr_object(make_csr(tmp_path, **csr_args), **change), NODES)
    assert verdict["verdict"] == "reject"
    assert any(reason in r for r in verdict["reasons"]), verdict["reasons"]


def test_an_address_another_node_also_claims_is_rejected(tmp_path):
    nodes = NODES + [node("worker-2", ("InternalIP", "10.0.0.21"))]
    verdict = ks.judge(csr_object(make_csr(tmp_path)), nodes)
    assert verdict["reasons"] == ["IP SAN 10.0.0.21 is also claimed by another Node"]


def test_known_addresses_from_outside_the_cluster_bind_the_node(tmp_path):
    # the Node's status says 10.0.0.21 (its kubelet wrote it); the inventory knows the node as 10.0.0.99
    verdict = ks.judge(csr_object(make_csr(tmp_path)), NODES, {NODE: ["10.0.0.99", "worker-1.example.internal"]})
    assert verdict["reasons"] == ["IP SAN 10.0.0.21 is not an address the node has "
                                  "(10.0.0.99, worker-1.example.internal)"]
    ok = ks.judge(csr_object(make_csr(tmp_path)), NODES, {NODE: ["10.0.0.21"], "other": []})
    assert ok["verdict"] == "approve"


def test_decided_and_foreign_requests_are_ignored(tmp_path):
    pem = make_csr(tmp_path)
    approved = csr_object(pem, conditions=[{"type": "Approved", "status": "True"}])
    assert ks.judge(approved, NODES)["verdict"] == "ignore"
    client = csr_object(pem, signer="kubernetes.io/kube-apiserver-client-kubelet")
    assert ks.judge(client, NODES)["verdict"] == "ignore"


def test_approval_keeps_the_request_and_adds_the_condition(tmp_path):
    obj = csr_object(make_csr(tmp_path))
    body = ks.approval(obj, "checked")
    assert body["spec"] == obj["spec"] and body["metadata"] == {"name": "csr-test", "resourceVersion": "7"}
    assert body["status"]["conditions"] == [{"type": "Approved", "status": "True",
                                             "reason": ks.APPROVAL_REASON, "message": "checked"}]


def test_kubelet_endpoint_follows_the_preferred_address_types():
    multi = node("n", ("Hostname", "n"), ("ExternalIP", "192.0.2.1"), ("InternalIP", "10.0.0.1"))
    assert ks.kubelet_endpoint(multi, ["InternalIP", "ExternalIP", "Hostname"]) == ("10.0.0.1", 10250)
    assert ks.kubelet_endpoint(multi, ["Hostname"]) == ("n", 10250)
    assert ks.kubelet_endpoint(node("bare"), ["InternalIP"]) == (None, 10250)


@pytest.fixture()
def pki(tmp_path):
    """A CA, a serving certificate it signed for 127.0.0.1, one it signed for another address, a self-signed one."""
    def run(*args):
        return openssl(*args, cwd=tmp_path)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj",
        "/CN=kubernetes", "-days", "1")
    for name, san in (("good", "IP:127.0.0.1"), ("wrongip", "IP:10.0.0.21")):
        run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/O=system:nodes/CN=" + USER)
        (tmp_path / (name + ".ext")).write_text("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", name + ".ext", "-out", name + ".crt")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.crt", "-subj",
        "/CN=worker-1@1700000000", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1")
    return tmp_path


def serve(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def accept():
        while True:
            try:
                conn, _addr = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass
    threading.Thread(target=accept, daemon=True).start()
    return listener


@pytest.mark.parametrize("pair, verified, detail", [
    ("good", True, "verified against"),
    ("wrongip", False, "IP address mismatch"),
    ("self", False, "self-signed certificate"),
])
def test_probe_verifies_as_the_api_server_does(pki, pair, verified, detail):
    listener = serve(pki / (pair + ".crt"), pki / (pair + ".key"))
    try:
        ok, text = ks.probe("127.0.0.1", listener.getsockname()[1], str(pki / "ca.crt"))
    finally:
        listener.close()
    assert ok is verified and detail in text, text


def test_probe_of_a_closed_port(pki):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    ok, text = ks.probe("127.0.0.1", port, str(pki / "ca.crt"), timeout=2)
    assert not ok and text.startswith("no TLS session")
