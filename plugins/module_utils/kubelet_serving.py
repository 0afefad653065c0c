# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubelet serving certificates: judge ``kubernetes.io/kubelet-serving`` CSRs, probe what the kubelets serve.

Runs on a control-plane node, so standard library only. kube-controller-manager signs an approved kubelet-serving
CSR with the cluster CA whatever names it asks for, which is why kubeadm never approves them: the approval is the
only place where "this node may claim these addresses" is decided. A CSR is approved here only when

* it comes from a node's own identity (``system:node:<name>`` in ``system:nodes``) and its subject says the same;
* it asks for server authentication and nothing a serving certificate does not need;
* every DNS SAN is a name of that node and every IP SAN an address of it, in the Node object *and* in what the
  caller knows of the node from outside (the addresses its inventory host has), and no other Node claims the IP;
* it carries no e-mail, URI or other SAN kind.

Anything else is reported with its reasons and never approved or denied (a person decides).
"""
from __future__ import annotations

import base64
import ipaddress
import socket
import ssl

SIGNER = "kubernetes.io/kubelet-serving"
NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
# What k8s.io/kubernetes pkg/apis/certificates validation allows a kubelet-serving CSR to ask for; "key
# encipherment" only matters to RSA keys, so it may be left out.
ALLOWED_USAGES = frozenset(["digital signature", "key encipherment", "server auth"])
REQUIRED_USAGES = frozenset(["server auth"])
NAME_TYPES = ("Hostname", "InternalDNS", "ExternalDNS")
IP_TYPES = ("InternalIP", "ExternalIP")
APPROVAL_REASON = "SecureClusterK8sApproved"

_OID_CN = "2.5.4.3"
_OID_O = "2.5.4.10"
_OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14"
_OID_SAN = "2.5.29.17"
# GeneralName choices (RFC 5280 4.2.1.6), context-specific tag numbers.
_SAN_KINDS = {0: "otherName", 1: "email", 2: "dns", 3: "x400Address", 4: "directoryName", 5: "ediPartyName",
              6: "uri", 7: "ip", 8: "registeredID"}


class CSRError(ValueError):
    """The request is not a PKCS#10 certificate request this module can read."""


def _tlv(data, pos):
    """(tag, value start, value end) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise CSRError("truncated DER element at byte %d" % pos)
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise CSRError("multi-byte DER tags are not used in certificate requests")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CSRError("bad DER length at byte %d" % (pos - 1))
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise CSRError("DER element at byte %d runs past the end" % pos)
    return tag, pos, pos + length


def _children(data, start, end):
    pos, out = start, []
    while pos < end:
        tag, vstart, vend = _tlv(data, pos)
        out.append((tag, vstart, vend))
        pos = vend
    if pos != end:
        raise CSRError("DER elements overrun their container")
    return out


def _expect(element, tag, what):
    if element[0] != tag:
        raise CSRError("%s: expected DER tag 0x%02x, found 0x%02x" % (what, tag, element[0]))
    return element


def _oid(raw):
    if not raw:
        raise CSRError("empty OBJECT IDENTIFIER")
    parts, value = [], 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first] + parts[1:])


def _string(data, element):
    tag, start, end = element
    raw = data[start:end]
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be")
    return raw.decode("utf-8" if tag == 0x0C else "latin-1")


def _name(data, element):
    """{OID: [values]} of an X.501 Name."""
    attrs = {}
    for rdn in _children(data, element[1], element[2]):
        _expect(rdn, 0x31, "RelativeDistinguishedName")
        for atv in _children(data, rdn[1], rdn[2]):
            _expect(atv, 0x30, "AttributeTypeAndValue")
            oid_el, value_el = _children(data, atv[1], atv[2])[:2]
            _expect(oid_el, 0x06, "attribute type")
            attrs.setdefault(_oid(data[oid_el[1]:oid_el[2]]), []).append(_string(data, value_el))
    return attrs


def _sans(data, start, end):
    names = {"dns": [], "ip": [], "email": [], "uri": [], "other": []}
    general_names = _expect(_tlv(data, start), 0x30, "GeneralNames")
    for tag, vstart, vend in _children(data, general_names[1], general_names[2]):
        kind = _SAN_KINDS.get(tag & 0x1F, "other") if tag & 0x80 else "other"
        raw = data[vstart:vend]
        if kind == "ip":
            if len(raw) not in (4, 16):
                raise CSRError("IP address SAN of %d bytes" % len(raw))
            names["ip"].append(str(ipaddress.ip_address(raw)))
        elif kind in ("dns", "email", "uri"):
            names[kind].append(raw.decode("latin-1"))
        else:
            names["other"].append(kind)
    return names


def parse_csr(pem):
    """Subject and SANs of a PEM (or DER) PKCS#10 request.

    Returns ``{"common_name": [...], "organization": [...], "subject": {oid: [...]}, "dns": [...], "ip": [...],
    "email": [...], "uri": [...], "other": [...]}``. The signature is not checked: the API server refuses a CSR whose
    signature does not verify when it is created.
    """
    if isinstance(pem, str):
        pem = pem.encode("ascii", "replace")
    if b"-----BEGIN" in pem:
        lines = pem.strip().splitlines()
        begin = [i for i, line in enumerate(lines) if line.startswith(b"-----BEGIN")]
        end = [i for i, line in enumerate(lines) if line.startswith(b"-----END")]
        if not begin or not end or end[0] <= begin[0] or b"CERTIFICATE REQUEST" not in lines[begin[0]]:
            raise CSRError("not a PEM CERTIFICATE REQUEST")
        try:
            der = base64.b64decode(b"".join(lines[begin[0] + 1:end[0]]), validate=True)
        except ValueError as exc:
            raise CSRError("bad base64 in the PEM block: %s" % exc) from None
    else:
        der = pem
    outer = _expect(_tlv(der, 0), 0x30, "CertificationRequest")
    info = _expect(_children(der, outer[1], outer[2])[0], 0x30, "CertificationRequestInfo")
    fields = _children(der, info[1], info[2])
    if len(fields) < 3:
        raise CSRError("CertificationRequestInfo has %d fields, not 4" % len(fields))
    subject = _name(der, _expect(fields[1], 0x30, "subject"))
    result = {"subject": subject, "common_name": subject.get(_OID_CN, []),
              "organization": subject.get(_OID_O, []),
              "dns": [], "ip": [], "email": [], "uri": [], "other": []}
    attributes = fields[3] if len(fields) > 3 else None
    if attributes is None:
        return result
    _expect(attributes, 0xA0, "attributes")
    for attr in _children(der, attributes[1], attributes[2]):
        oid_el, values = _children(der, attr[1], attr[2])[:2]
        if _oid(der[oid_el[1]:oid_el[2]]) != _OID_EXTENSION_REQUEST:
            continue
        for extensions in _children(der, values[1], values[2]):
            for ext in _children(der, extensions[1], extensions[2]):
                parts = _children(der, ext[1], ext[2])
                if _oid(der[parts[0][1]:parts[0][2]]) != _OID_SAN:
                    continue
                value = _expect(parts[-1], 0x04, "extnValue")
                for key, items in _sans(der, value[1], value[2]).items():
                    result[key].extend(items)
    return result


def _is_pending(csr):
    conditions = (csr.get("status") or {}).get("conditions") or []
    return not any(c.get("type") in ("Approved", "Denied", "Failed") for c in conditions)


def node_addresses(node):
    """(names, IPs) a Node object gives for itself: its name, Hostname/InternalDNS/ExternalDNS, InternalIP/ExternalIP."""
    names, ips = {node["metadata"]["name"].lower()}, set()
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") in NAME_TYPES:
            names.add(str(address.get("address", "")).lower())
        elif address.get("type") in IP_TYPES:
            ips.add(_normal_ip(address.get("address")))
    return names, ips - {None}


def _normal_ip(text):
    try:
        return str(ipaddress.ip_address(str(text).strip()))
    except ValueError:
        return None


def judge(csr, nodes, known=None):
    """Decide one CSR.

    ``nodes``: the cluster's Node objects. ``known``: optional ``{node name: [addresses]}`` of what is known of each
    node from outside the cluster (its inventory host's own interface addresses and names); when a node is in it,
    every SAN must also be there. Returns ``{"name", "node", "pending", "verdict", "reasons", "sans"}`` where
    verdict is ``approve``, ``reject`` (reasons say why) or ``ignore`` (not a kubelet-serving CSR, or already
    decided).
    """
    meta, spec = csr.get("metadata") or {}, csr.get("spec") or {}
    result = {"name": meta.get("name"), "node": None, "pending": _is_pending(csr), "verdict": "ignore",
              "reasons": [], "sans": {"dns": [], "ip": []}}
    if spec.get("signerName") != SIGNER or not result["pending"]:
        return result
    reasons = result["reasons"]
    username = spec.get("username") or ""
    node_name = username[len(NODE_USER_PREFIX):] if username.startswith(NODE_USER_PREFIX) else None
    result["node"] = node_name
    if not node_name:
        reasons.append("requested by %r, not by a node (system:node:<name>)" % username)
    if NODES_GROUP not in (spec.get("groups") or []):
        reasons.append("the requester is not in the group %s" % NODES_GROUP)
    usages = set(spec.get("usages") or [])
    if not REQUIRED_USAGES <= usages:
        reasons.append("usages %s lack server auth" % sorted(usages))
    if usages - ALLOWED_USAGES:
        reasons.append("usages %s are not for a serving certificate" % sorted(usages - ALLOWED_USAGES))
    try:
        request = base64.b64decode(spec.get("request") or "", validate=True)
        parsed = parse_csr(request)
    except (CSRError, ValueError) as exc:
        reasons.append("the request cannot be read: %s" % exc)
        result["verdict"] = "reject"
        return result
    result["sans"] = {"dns": parsed["dns"], "ip": parsed["ip"]}
    if parsed["common_name"] != [username]:
        reasons.append("subject CN %s is not the requester %s" % (parsed["common_name"], username))
    if parsed["organization"] != [NODES_GROUP]:
        reasons.append("subject O %s is not [%s]" % (parsed["organization"], NODES_GROUP))
    for kind in ("email", "uri", "other"):
        if parsed[kind]:
            reasons.append("%s SANs are not for a kubelet: %s" % (kind, parsed[kind]))
    if not parsed["dns"] and not parsed["ip"]:
        reasons.append("no DNS or IP SAN")
    by_name = {n["metadata"]["name"]: n for n in nodes}
    if node_name and node_name not in by_name:
        reasons.append("there is no Node %s" % node_name)
    elif node_name:
        names, ips = node_addresses(by_name[node_name])
        others = set()
        for other, obj in by_name.items():
            if other != node_name:
                others |= node_addresses(obj)[1]
        outside = None
        if known is not None and node_name in known:
            outside = {str(a).lower() for a in known[node_name]}
            outside |= {ip for ip in (_normal_ip(a) for a in known[node_name]) if ip}
        for dns in parsed["dns"]:
            if "*" in dns:
                reasons.append("DNS SAN %s is a wildcard" % dns)
            elif dns.lower() not in names:
                reasons.append("DNS SAN %s is not a name of Node %s (%s)" % (dns, node_name, ", ".join(sorted(names))))
            elif outside is not None and dns.lower() != node_name.lower() and dns.lower() not in outside:
                reasons.append("DNS SAN %s is not a name the inventory knows for %s" % (dns, node_name))
        for ip in parsed["ip"]:
            normal = _normal_ip(ip)
            if normal not in ips:
                reasons.append("IP SAN %s is not an address of Node %s (%s)" % (ip, node_name,
                                                                                ", ".join(sorted(ips)) or "none"))
            elif normal in others:
                reasons.append("IP SAN %s is also claimed by another Node" % ip)
            elif outside is not None and normal not in outside:
                reasons.append("IP SAN %s is not an address the node has (%s)" % (ip, ", ".join(sorted(outside))))
    result["verdict"] = "reject" if reasons else "approve"
    return result


def approval(csr, message):
    """The CSR object with the Approved condition, for PUT .../certificatesigningrequests/<name>/approval."""
    out = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
           "metadata": {"name": csr["metadata"]["name"]}, "spec": csr["spec"],
           "status": {"conditions": list((csr.get("status") or {}).get("conditions") or [])}}
    if "resourceVersion" in csr["metadata"]:
        out["metadata"]["resourceVersion"] = csr["metadata"]["resourceVersion"]
    out["status"]["conditions"].append({"type": "Approved", "status": "True", "reason": APPROVAL_REASON,
                                        "message": message})
    return out


def kubelet_endpoint(node, preferred_types):
    """(address, port) the API server dials for this Node (its --kubelet-preferred-address-types order)."""
    port = (((node.get("status") or {}).get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    addresses = (node.get("status") or {}).get("addresses") or []
    for kind in preferred_types:
        for address in addresses:
            if address.get("type") == kind and address.get("address"):
                return address["address"], int(port or 10250)
    return None, int(port or 10250)


def probe(address, port, ca_file, timeout=5.0):
    """Verify what a kubelet serves the way the API server does with --kubelet-certificate-authority: the chain
    to ``ca_file`` and the address dialled in the certificate's SANs. Returns (ok, detail)."""
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = True
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=address) as tls:
                cert = tls.getpeercert() or {}
    except ssl.SSLCertVerificationError as exc:
        return False, "certificate not accepted: %s" % (exc.verify_message or exc)
    except (ssl.SSLError, OSError) as exc:
        return False, "no TLS session: %s" % exc
    issuer = ", ".join("%s=%s" % kv for rdn in cert.get("issuer", ()) for kv in rdn)
    return True, "verified against %s (issuer %s, valid until %s)" % (ca_file, issuer, cert.get("notAfter"))
