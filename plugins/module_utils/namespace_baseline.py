# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenant namespace baseline (seed 1.1, 6.2, Q4): role variables in, Kubernetes manifests (dicts) out.

Pure logic, standard library only. The ``namespace_baseline`` filter plugins call it on the controller; schema
validation against the Kubernetes OpenAPI (``kubernetes-validate``) is done there, not here.

Public API::

    problems(settings) -> [sentence]        every input error, [] when the input is usable
    render(settings) -> [manifest dict]     raises ValueError (all problems, one per line) on bad input
    file_name(manifest) -> str              the output file of a manifest (one file per namespace)

``settings`` is a dict with the role's variables without the prefix: ``kubernetes_version``, ``namespaces``,
``network_contracts``, ``external_namespaces``, ``pod_security``, ``allow_intra_namespace``, ``resource_quota``,
``resource_quota_enabled``, ``limit_range``, ``limit_range_enabled``, ``dns``, ``default_service_account_automount``
(None: leave the default ServiceAccount alone), ``labels``, ``managed_by``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_flags
# Recursive merge where a None value removes a key: the per-namespace overrides.
from ansible_collections.secure_cluster.k8s.plugins.module_utils.kubelet_config import deep_merge as merge

PSA_LEVELS = ("privileged", "baseline", "restricted")
# Keys left out of the role-wide pod_security and dns keep these (the role's defaults; a unit test keeps them equal).
PSA_DEFAULTS = {"enforce": "restricted", "warn": "restricted", "audit": "restricted", "version": ""}
DNS_DEFAULTS = {"namespace": "kube-system", "pod_selector": {"k8s-app": "kube-dns"}, "extra_cidrs": []}
PSA_MODES = ("enforce", "warn", "audit")
PROTOCOLS = ("TCP", "UDP", "SCTP")
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
LIMIT_TYPES = ("Container", "Pod", "PersistentVolumeClaim")
LIMIT_FIELDS = ("default", "defaultRequest", "max", "min", "maxLimitRequestRatio")
NAMESPACE_KEYS = frozenset((
    "name", "team", "env", "labels", "annotations", "pod_security", "allow_intra_namespace", "resource_quota",
    "resource_quota_enabled", "limit_range", "limit_range_enabled"))
CONTRACT_KEYS = frozenset(("name", "description", "from", "to", "ports"))
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PSA_PREFIX = "pod-security.kubernetes.io/"
METADATA_NAME_LABEL = "kubernetes.io/metadata.name"
CONTRACT_LABEL = "secure-cluster.io/network-contract"
CONTRACT_DESCRIPTION = "secure-cluster.io/contract-description"
# Object order inside a namespace's file (and apply order): the Namespace first, policies last.
KIND_ORDER = ("Namespace", "ServiceAccount", "ResourceQuota", "LimitRange", "NetworkPolicy")

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_PSA_VERSION = re.compile(r"^(latest|v1\.[0-9]+)$")
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
_SUFFIX = {
    "": 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10 ** 3, "M": 10 ** 6,
    "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30,
    "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
}


# ---------------------------------------------------------------------------------------------------- checks

def label_key_problem(key):
    """None for a valid label key (``[prefix/]name``), else why not."""
    if not isinstance(key, str) or not key:
        return "label key %r is not a non-empty string" % (key,)
    prefix, _sep, name = key.rpartition("/")
    if _sep and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return "label key %r: prefix %r is not a DNS subdomain (lowercase, at most 253 characters)" % (key, prefix)
    if len(name) > 63 or not _LABEL_NAME.match(name):
        return ("label key %r: name %r must be at most 63 characters of letters, digits, '-', '_' or '.', starting and "
                "ending with a letter or digit" % (key, name))
    return None


def label_value_problem(key, value):
    """None for a valid label value (a string, possibly empty), else why not."""
    if not isinstance(value, str):
        return "label %s: value %r is not a string (quote it in YAML)" % (key, value)
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        return ("label %s: value %r must be at most 63 characters of letters, digits, '-', '_' or '.', starting and "
                "ending with a letter or digit" % (key, value))
    return None


def labels_problems(where, labels, what="labels"):
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return ["%s: %s must be a mapping of label keys to values, got %r" % (where, what, labels)]
    found = []
    for key in sorted(labels, key=str):
        problem = label_key_problem(key) or label_value_problem(key, labels[key])
        if problem:
            found.append("%s: %s" % (where, problem))
    return found


def parse_quantity(text):
    """A Kubernetes resource quantity (``500m``, ``2Gi``, ``1e3``, ``4``) as a Decimal; ValueError if malformed."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError("quantity %r is not a string or an integer" % (text,))
    match = _QUANTITY.match(str(text))
    if not match:
        raise ValueError("%r is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 4Gi)" % (text,))
    number, suffix = match.group(1), match.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * (Decimal(10) ** int(suffix[1:]))
        return Decimal(number) * Decimal(_SUFFIX[suffix])
    except (InvalidOperation, KeyError) as exc:  # pragma: no cover - the regex admits only known suffixes
        raise ValueError("%r is not a Kubernetes quantity" % (text,)) from exc


def _port_problems(where, ports):
    if not isinstance(ports, list) or not ports:
        return ["%s: ports must be a non-empty list (a contract opens explicit ports)" % where]
    found = []
    for index, entry in enumerate(ports):
        at = "%s.ports[%d]" % (where, index)
        if not isinstance(entry, dict):
            found.append("%s: must be a mapping with port and protocol, got %r" % (at, entry))
            continue
        unknown = sorted(set(entry) - {"port", "protocol", "end_port"})
        if unknown:
            found.append("%s: unknown keys %s (port, protocol, end_port)" % (at, ", ".join(unknown)))
        port = entry.get("port")
        if isinstance(port, bool) or not isinstance(port, (int, str)):
            found.append("%s: port %r must be a number 1-65535 or a named container port" % (at, port))
        elif isinstance(port, int) or port.isdigit():
            if not 1 <= int(port) <= 65535:
                found.append("%s: port %s is outside 1-65535" % (at, port))
        elif len(port) > 15 or not _PORT_NAME.match(port) or "--" in port:
            found.append("%s: port %r is neither a number 1-65535 nor a valid port name (IANA_SVC_NAME: at most 15 "
                         "lowercase letters, digits and '-')" % (at, port))
        protocol = entry.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            found.append("%s: protocol %r is not one of %s" % (at, protocol, ", ".join(PROTOCOLS)))
        end_port = entry.get("end_port")
        if end_port is not None:
            if isinstance(end_port, bool) or not isinstance(end_port, int) or not 1 <= end_port <= 65535:
                found.append("%s: end_port %r is not a number 1-65535" % (at, end_port))
            elif not isinstance(port, int) and not (isinstance(port, str) and port.isdigit()):
                found.append("%s: end_port needs a numeric port" % at)
            elif end_port < int(port):
                found.append("%s: end_port %d is lower than port %s" % (at, end_port, port))
    return found


def _psa(settings, namespace):
    psa = dict(PSA_DEFAULTS)
    psa.update(settings.get("pod_security") or {})
    psa.update({k: v for k, v in (namespace.get("pod_security") or {}).items() if v is not None})
    if not psa.get("version"):
        psa["version"] = "v" + k8s_flags.minor(str(settings.get("kubernetes_version")))
    return psa


def _psa_problems(where, psa):
    found = []
    unknown = sorted(set(psa) - set(PSA_MODES) - {"version"})
    if unknown:
        found.append("%s: unknown pod_security keys %s (enforce, warn, audit, version)" % (where, ", ".join(unknown)))
    for mode in PSA_MODES:
        if psa.get(mode) not in PSA_LEVELS:
            found.append("%s: pod_security.%s %r is not a Pod Security level (%s)"
                         % (where, mode, psa.get(mode), ", ".join(PSA_LEVELS)))
    if not isinstance(psa.get("version"), str) or not _PSA_VERSION.match(psa["version"]):
        found.append("%s: pod_security.version %r must be 'latest' or 'v1.<minor>' (e.g. v1.33)"
                     % (where, psa.get("version")))
    return found


def _enabled(settings, namespace, key):
    value = namespace.get(key)
    return bool(settings.get(key, True)) if value is None else bool(value)


def _quota_problems(where, hard):
    if not isinstance(hard, dict):
        return ["%s: resource_quota must be a mapping of resource name to quantity, got %r" % (where, hard)]
    found = []
    for name in sorted(hard, key=str):
        try:
            parse_quantity(hard[name])
        except ValueError as exc:
            found.append("%s: resource_quota %s: %s" % (where, name, exc))
    return found


def _limit_range_problems(where, limits):
    if not isinstance(limits, dict):
        return ["%s: limit_range must be a mapping of limit type to settings, got %r" % (where, limits)]
    found = []
    for kind in sorted(limits, key=str):
        at = "%s: limit_range.%s" % (where, kind)
        if kind not in LIMIT_TYPES:
            found.append("%s is not a LimitRange type (%s)" % (at, ", ".join(LIMIT_TYPES)))
            continue
        fields = limits[kind]
        if not isinstance(fields, dict):
            found.append("%s must be a mapping of %s" % (at, ", ".join(LIMIT_FIELDS)))
            continue
        values = {}
        for field in sorted(fields, key=str):
            if field not in LIMIT_FIELDS:
                found.append("%s.%s is not a LimitRange field (%s)" % (at, field, ", ".join(LIMIT_FIELDS)))
                continue
            if not isinstance(fields[field], dict):
                found.append("%s.%s must be a mapping of resource to quantity" % (at, field))
                continue
            for resource in sorted(fields[field], key=str):
                try:
                    values[(field, resource)] = parse_quantity(fields[field][resource])
                except ValueError as exc:
                    found.append("%s.%s.%s: %s" % (at, field, resource, exc))
        # The API server's own LimitRange rules: min <= defaultRequest <= default <= max.
        for low, high in (("min", "defaultRequest"), ("defaultRequest", "default"), ("min", "default"),
                          ("default", "max"), ("defaultRequest", "max"), ("min", "max")):
            for (field, resource), value in sorted(values.items()):
                other = values.get((high, resource))
                if field == low and other is not None and value > other:
                    found.append("%s: %s.%s %s is greater than %s.%s %s (the API server refuses it)"
                                 % (at, low, resource, fields[low][resource], high, resource, fields[high][resource]))
    return found


def _selector_problems(where, selector):
    return labels_problems(where + ".pod_selector", selector, "pod_selector (matchLabels)")


def _entries(what, items, keys, found):
    """(index, item, where) of the mappings in items; non-mappings and unknown keys are added to found."""
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            found.append("%s[%d]: must be a mapping with %s" % (what, index, ", ".join(sorted(keys))))
            continue
        where = "%s[%d] (%s)" % (what, index, item.get("name"))
        unknown = sorted(set(map(str, item)) - keys)
        if unknown:
            found.append("%s: unknown keys %s (known: %s)" % (where, ", ".join(unknown), ", ".join(sorted(keys))))
        yield index, item, where


def problems(settings):
    """Every problem of the input, as sentences naming where it is; [] when render() will work."""
    found = []
    try:
        k8s_flags.minor(str(settings.get("kubernetes_version")))
    except ValueError as exc:
        return ["kubernetes_version: %s" % exc]
    namespaces = settings.get("namespaces") or []
    if not isinstance(namespaces, list):
        return ["namespaces must be a list, got %r" % (namespaces,)]
    found.extend(labels_problems("labels", settings.get("labels")))
    declared = {}
    for index, namespace, where in _entries("namespaces", namespaces, NAMESPACE_KEYS, found):
        name = namespace.get("name")
        if not isinstance(name, str) or len(name) > 63 or not _DNS1123_LABEL.match(name):
            found.append("%s: name %r is not a DNS-1123 label (lowercase letters, digits and '-', at most 63)"
                         % (where, name))
        elif name in RESERVED_NAMESPACES:
            found.append("%s: %s is a system namespace, not a tenant namespace (CIS 5.6.4: keep workloads out of "
                         "default)" % (where, name))
        elif name in declared:
            found.append("%s: duplicate namespace name, also namespaces[%d]" % (where, declared[name]))
        else:
            declared[name] = index
        for key in ("team", "env"):
            if not namespace.get(key):
                found.append("%s: %s is required (it becomes the %s label)" % (where, key, key))
            else:
                problem = label_value_problem(key, namespace[key])
                if problem:
                    found.append("%s: %s" % (where, problem))
        extra = namespace.get("labels") or {}
        found.extend(labels_problems(where, extra))
        if isinstance(extra, dict):
            for key in sorted(extra, key=str):
                if str(key).startswith(PSA_PREFIX) or key in (METADATA_NAME_LABEL, "team", "env"):
                    found.append("%s: label %s is set by the role (use pod_security, team and env)" % (where, key))
        annotations = namespace.get("annotations") or {}
        if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
            found.append("%s: annotations must be a mapping of strings" % where)
        else:
            found.extend("%s: annotation %s" % (where, p) for p in filter(None, map(label_key_problem, annotations)))
        if namespace.get("pod_security") is not None and not isinstance(namespace.get("pod_security"), dict):
            found.append("%s: pod_security must be a mapping" % where)
        else:
            found.extend(_psa_problems(where, _psa(settings, namespace)))
        if _enabled(settings, namespace, "resource_quota_enabled"):
            found.extend(_quota_problems(where, merge(settings.get("resource_quota"), namespace.get("resource_quota"))))
        if _enabled(settings, namespace, "limit_range_enabled"):
            found.extend(_limit_range_problems(where, merge(settings.get("limit_range"),
                                                            namespace.get("limit_range"))))
    found.extend(_dns_problems(_dns(settings)))
    found.extend(_contract_problems(settings, set(declared)))
    return found


def _dns(settings):
    dns = dict(DNS_DEFAULTS)
    dns.update(settings.get("dns") or {})
    return dns


def _dns_problems(dns):
    found = []
    if not isinstance(dns.get("namespace"), str) or not _DNS1123_LABEL.match(dns.get("namespace") or ""):
        found.append("dns.namespace %r is not a namespace name" % (dns.get("namespace"),))
    found.extend(_selector_problems("dns", dns.get("pod_selector")))
    for cidr in dns.get("extra_cidrs") or []:
        if not isinstance(cidr, str) or not re.match(r"^[0-9a-fA-F:.]+/[0-9]{1,3}$", cidr):
            found.append("dns.extra_cidrs: %r is not a CIDR (e.g. 169.254.20.10/32 for NodeLocal DNSCache)" % (cidr,))
    return found


def _contract_problems(settings, declared):
    found = []
    external = set(settings.get("external_namespaces") or [])
    for name in sorted(external & declared):
        found.append("external_namespaces: %s is also a managed namespace" % name)
    contracts = settings.get("network_contracts") or []
    if not isinstance(contracts, list):
        return found + ["network_contracts must be a list"]
    seen = {}
    for index, contract, where in _entries("network_contracts", contracts, CONTRACT_KEYS, found):
        name = contract.get("name")
        # The policies are named contract-<name>-ingress / -egress: at most 63 characters in all.
        if not isinstance(name, str) or len(name) > 46 or not _DNS1123_LABEL.match(name):
            found.append("%s: name %r must be a DNS-1123 label of at most 46 characters" % (where, name))
        elif name in seen:
            found.append("%s: duplicate contract name, also network_contracts[%d]" % (where, seen[name]))
        else:
            seen[name] = index
        sides = []
        for side in ("from", "to"):
            end = contract.get(side)
            if not isinstance(end, dict) or not isinstance(end.get("namespace"), str) or not end["namespace"]:
                found.append("%s: %s must be a mapping with namespace and optional pod_selector" % (where, side))
                continue
            extra = sorted(set(end) - {"namespace", "pod_selector"})
            if extra:
                found.append("%s: %s has unknown keys %s (namespace, pod_selector)" % (where, side, ", ".join(extra)))
            if end["namespace"] not in declared and end["namespace"] not in external:
                found.append("%s: %s.namespace %s is not declared in namespaces nor in external_namespaces"
                             % (where, side, end["namespace"]))
            found.extend(_selector_problems("%s: %s" % (where, side), end.get("pod_selector")))
            sides.append(end["namespace"])
        if len(sides) == 2 and not set(sides) & declared:
            found.append("%s: neither %s nor %s is a managed namespace, so there is nothing to render"
                         % (where, sides[0], sides[1]))
        found.extend(_port_problems(where, contract.get("ports")))
    return found


# ---------------------------------------------------------------------------------------------------- render

def _meta(name, namespace, labels):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(sorted(labels.items()))
    return meta


def _policy(name, namespace, labels, pod_selector, types, ingress=None, egress=None):
    spec = {"podSelector": _selector(pod_selector), "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta(name, namespace, labels), "spec": spec}


def _selector(match_labels):
    return {"matchLabels": dict(sorted(match_labels.items()))} if match_labels else {}


def _peer(namespace, pod_selector):
    peer = {"namespaceSelector": {"matchLabels": {METADATA_NAME_LABEL: namespace}}}
    if pod_selector:
        peer["podSelector"] = _selector(pod_selector)
    return peer


def _ports(ports):
    rendered = []
    for entry in ports:
        port = entry["port"]
        item = {"protocol": entry.get("protocol", "TCP"), "port": int(port) if str(port).isdigit() else port}
        if entry.get("end_port") is not None:
            item["endPort"] = int(entry["end_port"])
        rendered.append(item)
    return rendered


def _namespace_objects(settings, namespace, common):
    name = namespace["name"]
    psa = _psa(settings, namespace)
    labels = dict(common)
    labels.update(namespace.get("labels") or {})
    labels.update({"team": namespace["team"], "env": namespace["env"]})
    for mode in PSA_MODES:
        labels[PSA_PREFIX + mode] = psa[mode]
        labels[PSA_PREFIX + mode + "-version"] = psa["version"]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, None, labels)}
    if namespace.get("annotations"):
        ns["metadata"]["annotations"] = dict(sorted(namespace["annotations"].items()))
    objects = [ns]
    automount = settings.get("default_service_account_automount")
    if automount is not None:
        objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("default", name, common),
                        "automountServiceAccountToken": bool(automount)})
    if _enabled(settings, namespace, "resource_quota_enabled"):
        hard = merge(settings.get("resource_quota"), namespace.get("resource_quota"))
        objects.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta("tenant-quota", name, common),
                        "spec": {"hard": {k: str(hard[k]) for k in sorted(hard)}}})
    if _enabled(settings, namespace, "limit_range_enabled"):
        limits = merge(settings.get("limit_range"), namespace.get("limit_range"))
        items = []
        for kind in LIMIT_TYPES:
            if limits.get(kind):
                item = {"type": kind}
                for field in LIMIT_FIELDS:
                    if limits[kind].get(field):
                        item[field] = {k: str(v) for k, v in sorted(limits[kind][field].items())}
                items.append(item)
        if items:
            objects.append({"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta("tenant-limits", name, common),
                            "spec": {"limits": items}})
    objects.append(_policy("default-deny-all", name, common, None, ["Ingress", "Egress"]))
    dns = _dns(settings)
    dns_to = [_peer(dns["namespace"], dns.get("pod_selector"))]
    dns_to.extend({"ipBlock": {"cidr": cidr}} for cidr in dns.get("extra_cidrs") or [])
    objects.append(_policy("allow-dns", name, common, None, ["Egress"], egress=[{
        "to": dns_to, "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]))
    if _enabled(settings, namespace, "allow_intra_namespace"):
        objects.append(_policy("allow-same-namespace", name, common, None, ["Ingress", "Egress"],
                               ingress=[{"from": [{"podSelector": {}}]}], egress=[{"to": [{"podSelector": {}}]}]))
    return objects


def _contract_objects(settings, declared, common):
    """{namespace: [NetworkPolicy]}: egress on the source side, ingress on the destination side (managed ones)."""
    by_namespace = {}
    for contract in sorted(settings.get("network_contracts") or [], key=lambda c: c["name"]):
        src, dst = contract["from"], contract["to"]
        ports = _ports(contract["ports"])
        labels = dict(common)
        labels[CONTRACT_LABEL] = contract["name"]
        policies = []
        if src["namespace"] in declared:
            policies.append(_policy(
                "contract-%s-egress" % contract["name"], src["namespace"], labels, src.get("pod_selector"), ["Egress"],
                egress=[{"to": [_peer(dst["namespace"], dst.get("pod_selector"))], "ports": ports}]))
        if dst["namespace"] in declared:
            policies.append(_policy(
                "contract-%s-ingress" % contract["name"], dst["namespace"], labels, dst.get("pod_selector"),
                ["Ingress"], ingress=[{"from": [_peer(src["namespace"], src.get("pod_selector"))], "ports": ports}]))
        for policy in policies:
            if contract.get("description"):
                policy["metadata"]["annotations"] = {CONTRACT_DESCRIPTION: str(contract["description"])}
            by_namespace.setdefault(policy["metadata"]["namespace"], []).append(policy)
    return by_namespace


def _order(manifest):
    # Allows before default-deny-all: applied to a live namespace, the deny never cuts a flow meant to stay open.
    name = manifest["metadata"]["name"]
    return (KIND_ORDER.index(manifest["kind"]), name == "default-deny-all", name)


def render(settings):
    """The manifests, namespace by namespace (sorted by name), each namespace's objects in KIND_ORDER then name
    (NetworkPolicy default-deny-all last)."""
    found = problems(settings)
    if found:
        raise ValueError("\n".join(found))
    common = dict(settings.get("labels") or {})
    common[MANAGED_BY_LABEL] = settings.get("managed_by") or "secure-cluster-k8s"
    namespaces = sorted(settings.get("namespaces") or [], key=lambda n: n["name"])
    declared = {n["name"] for n in namespaces}
    contracts = _contract_objects(settings, declared, common)
    manifests = []
    for namespace in namespaces:
        objects = _namespace_objects(settings, namespace, common) + contracts.get(namespace["name"], [])
        objects.sort(key=_order)
        manifests.extend(objects)
    return manifests


def file_name(manifest):
    """The output file of a manifest: one file per namespace."""
    namespace = manifest["metadata"]["name"] if manifest["kind"] == "Namespace" else manifest["metadata"]["namespace"]
    return "%s.yaml" % namespace


def object_ref(manifest):
    meta = manifest.get("metadata") or {}
    if meta.get("namespace"):
        return "%s %s/%s" % (manifest.get("kind"), meta["namespace"], meta.get("name"))
    return "%s %s" % (manifest.get("kind"), meta.get("name"))
