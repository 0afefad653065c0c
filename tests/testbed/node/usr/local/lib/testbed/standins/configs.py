"""Structured files shared by several components: YAML/JSON decoding with apimachinery's messages, TypeMeta,
strict and lenient field checks, and kubeconfigs as client-go loads them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

try:
    import yaml
except ImportError:  # pragma: no cover - python3-yaml is in the image and the venv
    yaml = None

from .core import go_parse_duration, go_quote, StandinError
from .files import check_ca_bundle, check_key_pair, DATA_FILES

# --------------------------------------------------------------------------------------------------------------
# structured files
# --------------------------------------------------------------------------------------------------------------


def yaml_load(data, what):
    if yaml is None:  # pragma: no cover
        raise StandinError("testbed: PyYAML is not installed")
    try:
        docs = list(yaml.safe_load_all(data))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"yaml: {where}{problem}") from None
    docs = [d for d in docs if d is not None]
    if not docs:
        return {}
    return docs[0]


def type_meta(obj, path):
    if not isinstance(obj, dict):
        raise ValueError(f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                         f"{json_kind(obj)} into Go value of type struct {{ APIVersion string "
                         "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }")
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if not kind:
        raise ValueError(f"Object 'Kind' is missing in '{short_repr(obj)}'")
    if not api_version:
        raise ValueError(f"Object 'apiVersion' is missing in '{short_repr(obj)}'")
    return api_version, kind


def short_repr(obj):
    text = json.dumps(obj, separators=(",", ":"), default=str)
    return text if len(text) < 200 else text[:200] + "..."


def json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def not_registered(kind, api_version, scheme):
    return f"no kind {go_quote(kind)} is registered for version {go_quote(api_version)} in scheme {go_quote(scheme)}"


def unknown_fields(obj, known, prefix=""):
    return [f"{prefix}{key}" for key in obj if key not in known]


def strict_error(fields):
    if len(fields) == 1:
        return f"strict decoding error: unknown field {go_quote(fields[0])}"
    return "strict decoding error: " + ", ".join(f"unknown field {go_quote(f)}" for f in fields)


def check_field_types(obj, types, struct, path=""):
    """JSON type checks for known fields: the error encoding/json reports."""
    for key, typ in types.items():
        if key not in obj or obj[key] is None:
            continue
        value = obj[key]
        ok = True
        if typ == "bool":
            ok = isinstance(value, bool)
        elif typ in ("int32", "int64", "int"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif typ == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif typ in ("string", "duration"):
            ok = isinstance(value, str)
        elif typ == "list":
            ok = isinstance(value, list)
        elif typ == "map":
            ok = isinstance(value, dict)
        if not ok:
            go_type = {"list": "[]string", "map": "map[string]string", "duration": "v1.Duration",
                       "float": "float64"}.get(typ, typ)
            raise ValueError(f"json: cannot unmarshal {json_kind(value)} into Go struct field "
                             f"{struct}.{path}{key} of type {go_type}")
        if typ == "duration":
            try:
                go_parse_duration(value)
            except ValueError as exc:
                raise ValueError(str(exc)) from None


def load_kubeconfig(files, path, what="kubeconfig"):
    """clientcmd: load + validate the current context; returns a dict usable to make TLS clients."""
    files.host_path(path, op="stat")  # clientcmd stats an explicit path first: "stat <path>: no such file ..."
    try:
        data = files.read(path)
    except StandinError as exc:
        raise StandinError(exc.message) from None
    try:
        cfg = yaml_load(data, what)
    except ValueError as exc:
        raise StandinError(f"error loading config file {go_quote(path)}: {exc}") from None
    if not isinstance(cfg, dict):
        raise StandinError(f"error loading config file {go_quote(path)}: couldn't get version/kind; json parse "
                           f"error: json: cannot unmarshal {json_kind(cfg)} into Go value")
    base = os.path.dirname(path)

    def named(section, key):
        out = {}
        for item in cfg.get(section) or []:
            if isinstance(item, dict) and "name" in item:
                out[item["name"]] = item.get(key) or {}
        return out

    clusters, users, contexts = named("clusters", "cluster"), named("users", "user"), named("contexts", "context")
    current = cfg.get("current-context") or ""
    if not current:
        raise StandinError("invalid configuration: no configuration has been provided, try setting "
                           "KUBERNETES_MASTER environment variable")
    errors = []
    if current not in contexts:
        raise StandinError(f"invalid configuration: [context was not found for specified context: {current}, "
                           "cluster has no server defined]")
    context = contexts[current]
    cluster_name, user_name = context.get("cluster", ""), context.get("user", "")
    cluster = clusters.get(cluster_name)
    user = users.get(user_name, {}) if user_name else {}
    if cluster is None:
        errors.append(f"cluster {go_quote(cluster_name)} not found" if cluster_name else
                      "cluster has no server defined")
        cluster = {}
    elif not cluster.get("server"):
        errors.append("cluster has no server defined")
    result = {"server": cluster.get("server", ""), "ca": None, "cert": None, "key": None,
              "insecure": bool(cluster.get("insecure-skip-tls-verify")), "token": user.get("token"),
              "user": user_name, "cluster": cluster_name}

    def rel(p):
        return p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))

    ca_path = cluster.get("certificate-authority")
    if cluster.get("certificate-authority-data"):
        try:
            ca = base64.b64decode(cluster["certificate-authority-data"])
            check_ca_bundle(ca)
            result["ca"] = DATA_FILES.write(f"ca-{abs(hash(path))}.crt", ca)
        except (binascii.Error, ValueError) as exc:
            errors.append(f"unable to load root certificates: {exc}")
    elif ca_path:
        ca_path = rel(ca_path)
        try:
            ca = files.read(ca_path)
            check_ca_bundle(ca)
            result["ca"] = files.host_path(ca_path)
        except StandinError as exc:
            errors.append(f"unable to read certificate-authority {ca_path} for {cluster_name} due to {exc.message}")
        except ValueError as exc:
            errors.append(f"unable to load root certificates: {exc}")
    cert_data = key_data = None
    cert_host = key_host = None
    if user.get("client-certificate-data"):
        try:
            cert_data = base64.b64decode(user["client-certificate-data"])
            cert_host = DATA_FILES.write(f"client-{abs(hash(path))}.crt", cert_data)
        except binascii.Error:
            errors.append(f"illegal base64 data in client-certificate-data for {user_name}")
    elif user.get("client-certificate"):
        cpath = rel(user["client-certificate"])
        try:
            cert_data = files.read(cpath)
            cert_host = files.host_path(cpath)
        except StandinError as exc:
            errors.append(f"unable to read client-cert {cpath} for {user_name} due to {exc.message}")
    if user.get("client-key-data"):
        try:
            key_data = base64.b64decode(user["client-key-data"])
            key_host = DATA_FILES.write(f"client-{abs(hash(path))}.key", key_data)
        except binascii.Error:
            errors.append(f"illegal base64 data in client-key-data for {user_name}")
    elif user.get("client-key"):
        kpath = rel(user["client-key"])
        try:
            key_data = files.read(kpath)
            key_host = files.host_path(kpath)
        except StandinError as exc:
            errors.append(f"unable to read client-key {kpath} for {user_name} due to {exc.message}")
    if (user.get("client-certificate") or user.get("client-certificate-data")) and not (
            user.get("client-key") or user.get("client-key-data")):
        errors.append(f"client-key-data or client-key must be specified for {user_name} to use the clientCert "
                      "authentication method.")
    if errors:
        raise StandinError("invalid configuration: " + (errors[0] if len(errors) == 1 else
                                                        "[" + ", ".join(errors) + "]"))
    if cert_data is not None and key_data is not None:
        try:
            check_key_pair(cert_data, key_data, cert_host, key_host)
        except ValueError as exc:
            raise StandinError(str(exc)) from None
        result["cert"], result["key"] = cert_host, key_host
    return result
