#!/usr/bin/env python
"""Stand-ins for kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy and the kubelet.

No Kubernetes binary can be obtained on the machines the secure_cluster.k8s tests run on, yet the roles must be
tested against nodes that FAIL the way real nodes fail when a hardening change is wrong. These stand-ins do not
implement Kubernetes (no API, no storage, no scheduling, no pods): they reproduce the start-up validation and the
serving behaviour that hardening changes can break:

* the command line is parsed like spf13/pflag and checked against the flags the real component of the node's
  version accepts (k8s_flags.flags_for); unknown flags and malformed typed values exit 1 with pflag's messages;
* every file named by a flag or a config file is opened as the real binary would open it, inside the pod's mounts
  (env TESTBED_MOUNTS, set by static_pod_runner.py): certificates and keys must load, CAs must parse, structured
  files (audit policy, EncryptionConfiguration, AdmissionConfiguration, kubeconfigs, KubeletConfiguration,
  KubeProxyConfiguration, KubeSchedulerConfiguration) are decoded and validated;
* the components serve HTTPS with the configured certificate, TLS version and cipher suites and answer
  /livez /readyz /healthz /version (and a little more) with the authentication behaviour that decides whether
  kubeadm's probes pass (e.g. --anonymous-auth=false makes the apiserver answer 401);
* the kubelet refuses to start when protectKernelDefaults is true and the kernel tunables differ.

The component is chosen from argv[0] (launchers in /usr/local/bin and /usr/bin) or, when this file is run
directly, from the first argument: `standin.py kube-apiserver --flags...`.

Environment (all optional; the defaults are the test node's paths):
  TESTBED_VERSION_FILE   version of the node, default /etc/testbed/version (e.g. "1.33.5")
  TESTBED_K8S_FLAGS      path of the k8s_flags.py module to use (default: next to this file, else the repo copy)
  TESTBED_MOUNTS         JSON list of {"mountPath","hostPath","readOnly"}; when set, files outside are invisible
  TESTBED_POD            name of the static pod (informational)
  TESTBED_SYSCTL_ROOT    root of the sysctl tree the kubelet checks, default /proc/sys
  TESTBED_NODE_IP_FILE   node IP, default /etc/testbed/node-ip
  TESTBED_ETCD_HEALTH_CACHE  seconds the apiserver caches the etcd health result (default 1)
  TESTBED_KUBELET_STRICT_CONFIG=1  make unknown KubeletConfiguration fields fatal (the real kubelet only warns)
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime
import importlib.util
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import yaml
except ImportError:  # pragma: no cover - python3-yaml is in the image and the venv
    yaml = None

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
LIB_DIR = os.path.dirname(os.path.realpath(__file__))


def _env(name, default):
    value = os.environ.get(name)
    return value if value else default


# --------------------------------------------------------------------------------------------------------------
# klog-style logging to stderr
# --------------------------------------------------------------------------------------------------------------

_LOG_LOCK = threading.Lock()


def _fmt_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(json.dumps(str(v), ensure_ascii=False) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _klog_prefix(sev, where):
    now = datetime.datetime.now()
    return f"{sev}{now:%m%d %H:%M:%S}.{now.microsecond:06d} {os.getpid():7d} {where}] "


def klog(sev, where, msg, **kv):
    """Structured klog line: E1127 10:00:00.000000    1234 run.go:72] "msg" key="value"."""
    text = json.dumps(msg, ensure_ascii=False)
    for key, value in kv.items():
        text += f" {key}={_fmt_value(value)}"
    with _LOG_LOCK:
        sys.stderr.write(_klog_prefix(sev, where) + text + "\n")
        sys.stderr.flush()


def klogf(sev, where, text):
    """Unstructured klog line (klog.Warningf and friends)."""
    with _LOG_LOCK:
        sys.stderr.write(_klog_prefix(sev, where) + text + "\n")
        sys.stderr.flush()


class StandinError(Exception):
    """A start-up error: the real binary logs `"command failed" err=...` (or `where`/`msg`) and exits 1."""

    def __init__(self, message, where="run.go:72", msg="command failed"):
        super().__init__(message)
        self.message = message
        self.where = where
        self.msg = msg


class UsageError(Exception):
    """A flag-parsing error, printed by cobra as `Error: <message>` followed by the usage."""


def go_quote(value):
    return json.dumps(value, ensure_ascii=False)


def enoent(op, path):
    return f"{op} {path}: no such file or directory"


# --------------------------------------------------------------------------------------------------------------
# version and flag data
# --------------------------------------------------------------------------------------------------------------

def read_version():
    path = _env("TESTBED_VERSION_FILE", "/etc/testbed/version")
    try:
        with open(path, encoding="utf-8") as handle:
            version = handle.read().strip()
    except OSError as exc:
        raise StandinError(f"testbed: cannot read the node version from {path}: {exc.strerror}") from None
    version = version.lstrip("v")
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", version):
        raise StandinError(f"testbed: {path} does not hold a Kubernetes version: {version!r}")
    if version.count(".") == 1:
        version += ".0"
    return version


def minor_of(version):
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


_COLLECTION_MODULE_UTILS = "ansible_collections.secure_cluster.k8s.plugins.module_utils."


def _load_by_path(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_k8s_flags():
    """Import k8s_flags: $TESTBED_K8S_FLAGS, else next to this file (test node), else the repository copy.

    k8s_flags imports k8s_version and k8s_flag_data (which reads data/*.json beside itself) by their collection
    names; those next to the chosen k8s_flags.py are loaded by path and registered under those names first."""
    candidates = []
    if os.environ.get("TESTBED_K8S_FLAGS"):
        candidates.append(os.environ["TESTBED_K8S_FLAGS"])
    candidates.append(os.path.join(LIB_DIR, "k8s_flags.py"))
    candidates.append(os.path.normpath(os.path.join(LIB_DIR, *[".."] * 6, "plugins", "module_utils", "k8s_flags.py")))
    for path in candidates:
        if os.path.isfile(path):
            for name in ("k8s_version", "k8s_flag_data"):  # in import order
                sibling = os.path.join(os.path.dirname(path), name + ".py")
                if os.path.isfile(sibling):
                    sys.modules[_COLLECTION_MODULE_UTILS + name] = _load_by_path(_COLLECTION_MODULE_UTILS + name, sibling)
            return _load_by_path("k8s_flags", path)
    raise StandinError("testbed: k8s_flags.py not found (tried " + ", ".join(candidates) + ")")


# --------------------------------------------------------------------------------------------------------------
# Go value parsing (strconv / time) with Go's error messages
# --------------------------------------------------------------------------------------------------------------

_INT_BITS = {"int": 64, "int64": 64, "int32": 32, "int16": 16, "int8": 8, "level": 32,
             "uint": 64, "uint64": 64, "uint32": 32, "uint16": 16, "uint8": 8}


def go_parse_bool(text):
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax")


def go_parse_int(text, bits=64, signed=True):
    func = "ParseInt" if signed else "ParseUint"
    syntax = ValueError(f"strconv.{func}: parsing {go_quote(text)}: invalid syntax")
    s = text
    neg = False
    if signed and s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if not s:
        raise syntax
    base = 10
    prefixed = False
    low = s.lower()
    if low.startswith("0x"):
        base, s, prefixed = 16, s[2:], True
    elif low.startswith("0b"):
        base, s, prefixed = 2, s[2:], True
    elif low.startswith("0o"):
        base, s, prefixed = 8, s[2:], True
    elif len(s) > 1 and s[0] == "0":
        base, s, prefixed = 8, s[1:], True
    if "_" in s:
        if not prefixed or s.startswith("_") or s.endswith("_") or "__" in s:
            raise syntax
        s = s.replace("_", "")
    if not s:
        raise syntax
    try:
        value = int(s, base)
    except ValueError:
        raise syntax from None
    if neg:
        value = -value
    if signed:
        low_limit, high_limit = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        low_limit, high_limit = 0, (1 << bits) - 1
    if not low_limit <= value <= high_limit:
        raise ValueError(f"strconv.{func}: parsing {go_quote(text)}: value out of range")
    return value


def go_parse_float(text):
    try:
        if text != text.strip() or "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        raise ValueError(f"strconv.ParseFloat: parsing {go_quote(text)}: invalid syntax") from None


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
                   "h": 3600.0}


def go_parse_duration(text):
    """time.ParseDuration; returns seconds."""
    orig = text
    quoted = go_quote(orig)
    s = text
    neg = False
    if s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0.0
    while s:
        match = re.match(r"(\d*)(\.\d*)?", s)
        whole, frac = match.group(1), match.group(2) or ""
        if not whole and len(frac) <= 1:
            raise ValueError(f"time: invalid duration {quoted}")
        s = s[match.end():]
        unit_match = re.match(r"[^\d.]*", s)
        unit = unit_match.group(0)
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in _DURATION_UNITS:
            raise ValueError(f"time: unknown unit {go_quote(unit)} in duration {quoted}")
        s = s[unit_match.end():]
        total += float((whole or "0") + (frac if len(frac) > 1 else "")) * _DURATION_UNITS[unit]
    return -total if neg else total


def go_csv_split(text):
    """pflag stringSlice: one CSV record."""
    if text == "":
        return []
    try:
        return next(csv.reader(io.StringIO(text), skipinitialspace=False))
    except (csv.Error, StopIteration):
        return text.split(",")


def parse_typed(typ, raw):
    """Convert a raw flag value by its pflag type; ValueError carries Go's message."""
    t = typ.lower()
    if t == "bool":
        return go_parse_bool(raw)
    if t in _INT_BITS:
        return go_parse_int(raw, _INT_BITS[t], signed=not t.startswith("uint"))
    if t in ("float", "float32", "float64"):
        return go_parse_float(raw)
    if t == "duration":
        return go_parse_duration(raw)
    return raw


# --------------------------------------------------------------------------------------------------------------
# pflag-compatible command line parsing
# --------------------------------------------------------------------------------------------------------------

def _normalize_type(typ):
    typ = (typ or "bool").strip()
    typ = re.sub(r"\[=.*\]$", "", typ)  # "version[=true]"
    low = typ.lower()
    if low in ("bool", "boolean"):
        return "bool"
    if low in ("strings", "stringslice", "[]string"):
        return "strings"
    if low in ("stringarray",):
        return "stringArray"
    if low == "level":
        return "int32"
    if low == "version":
        return "version"
    return typ


class FlagSet:
    """Parsed command line: values keep every occurrence in order (pflag semantics applied by the getters)."""

    SHORTHANDS = {"v": "v", "h": "help"}

    def __init__(self, component, spec):
        self.component = component
        self.spec = {name: _normalize_type(typ) for name, typ in spec.items()}
        self.spec.setdefault("help", "bool")
        self.spec.setdefault("version", "version")
        self.values = {}
        self.args = []

    # -- parsing ------------------------------------------------------------------------------------------------
    def is_bool(self, name):
        return self.spec.get(name) in ("bool", "version")

    @staticmethod
    def normalize(name):
        return name.replace("_", "-")  # cliflag.WordSepNormalizeFunc

    def flag_label(self, name):
        for short, long_name in self.SHORTHANDS.items():
            if long_name == name and name in self.spec:
                return f"-{short}, --{name}"
        return f"--{name}"

    def _set(self, name, value):
        typ = self.spec[name]
        if typ == "version":
            if value not in ("raw",):
                try:
                    go_parse_bool(value)
                except ValueError as exc:
                    raise UsageError(f"invalid argument {go_quote(value)} for {go_quote(self.flag_label(name))} "
                                     f"flag: {exc}") from None
        elif typ in ("strings", "stringArray"):
            pass
        else:
            try:
                parse_typed(typ, value)
            except ValueError as exc:
                raise UsageError(f"invalid argument {go_quote(value)} for {go_quote(self.flag_label(name))} "
                                 f"flag: {exc}") from None
        self.values.setdefault(name, []).append(value)

    def parse(self, argv):
        args = list(argv)
        while args:
            s = args.pop(0)
            if len(s) == 0 or s[0] != "-" or len(s) == 1:
                self.args.append(s)
                continue
            if s[1] == "-":
                if len(s) == 2:  # "--" terminates the flags
                    self.args.extend(args)
                    break
                self._parse_long(s, args)
            else:
                self._parse_short(s, args)
        return self

    def _parse_long(self, s, args):
        body = s[2:]
        if not body or body[0] in "-=":
            raise UsageError(f"bad flag syntax: {s}")
        name, eq, value = body.partition("=")
        name = self.normalize(name)
        if name not in self.spec:
            raise UsageError(f"unknown flag: --{name}")
        if eq:
            self._set(name, value)
        elif self.is_bool(name):
            self._set(name, "true")
        elif args:
            self._set(name, args.pop(0))
        else:
            raise UsageError(f"flag needs an argument: {s}")

    def _parse_short(self, s, args):
        shorthands = s[1:]
        while shorthands:
            c = shorthands[0]
            name = self.SHORTHANDS.get(c)
            if name is None or name not in self.spec:
                raise UsageError(f"unknown shorthand flag: {c!r} in -{shorthands}".replace("'", "'"))
            if len(shorthands) > 2 and shorthands[1] == "=":
                self._set(name, shorthands[2:])
                return
            if self.is_bool(name):
                self._set(name, "true")
                shorthands = shorthands[1:]
                continue
            if len(shorthands) > 1:
                self._set(name, shorthands[1:])
                return
            if args:
                self._set(name, args.pop(0))
                return
            raise UsageError(f"flag needs an argument: {c!r} in -{shorthands}")

    # -- getters ------------------------------------------------------------------------------------------------
    def changed(self, name):
        return name in self.values

    def raw(self, name, default=None):
        vals = self.values.get(name)
        return vals[-1] if vals else default

    def get_str(self, name, default=""):
        return self.raw(name, default)

    def get_bool(self, name, default=False):
        raw = self.raw(name)
        return default if raw is None else go_parse_bool(raw)

    def get_int(self, name, default=0):
        raw = self.raw(name)
        return default if raw is None else go_parse_int(raw)

    def get_float(self, name, default=0.0):
        raw = self.raw(name)
        return default if raw is None else go_parse_float(raw)

    def get_duration(self, name, default=0.0):
        raw = self.raw(name)
        return default if raw is None else go_parse_duration(raw)

    def get_list(self, name, default=None):
        vals = self.values.get(name)
        if not vals:
            return list(default or [])
        if self.spec.get(name) == "stringArray":
            return list(vals)
        out = []
        for v in vals:
            out.extend(go_csv_split(v))
        return out

    def get_map(self, name):
        out = {}
        for item in self.get_list(name):
            if not item:
                continue
            key, dummy, value = item.partition("=")
            out[key.strip()] = value.strip()
        return out


# --------------------------------------------------------------------------------------------------------------
# the pod's view of the file system (TESTBED_MOUNTS)
# --------------------------------------------------------------------------------------------------------------

class Mounts:
    """Maps paths as the containerised binary sees them to host paths; None when the path is invisible."""

    def __init__(self, raw=None):
        if raw is None:
            raw = os.environ.get("TESTBED_MOUNTS")
        self.active = raw is not None
        self.items = []
        if raw:
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise StandinError(f"testbed: TESTBED_MOUNTS is not valid JSON: {exc}") from None
            for m in data or []:
                mount_path = os.path.normpath("/" + str(m.get("mountPath", "")).lstrip("/"))
                host_path = os.path.normpath(str(m.get("hostPath", "")))
                self.items.append((mount_path, host_path, bool(m.get("readOnly", False))))
        self.items.sort(key=lambda item: len(item[0]), reverse=True)

    def _map(self, path):
        if not self.active:
            return path, False
        for mount_path, host_path, read_only in self.items:
            if path == mount_path or path.startswith(mount_path.rstrip("/") + "/"):
                rel = path[len(mount_path):].lstrip("/")
                return (os.path.join(host_path, rel) if rel else host_path), read_only
        return None

    def resolve(self, path):
        """Container path -> (host path, read_only) or None, following symlinks inside the container's view."""
        if not self.active:
            return os.path.abspath(path), False  # a host process: relative to its working directory
        path = os.path.normpath(os.path.join("/", path))  # the container's working directory is /
        parts = [p for p in path.split("/") if p]
        current = "/"
        hops = 0
        while parts:
            current = os.path.join(current, parts.pop(0))
            mapped = self._map(current)
            if mapped is None:
                continue  # the container's own directories (e.g. /etc above a mount): no symlinks to follow
            host, dummy = mapped
            if os.path.islink(host):
                hops += 1
                if hops > 40:
                    return None
                target = os.readlink(host)
                base = os.path.dirname(current)
                current_target = os.path.normpath(os.path.join(base, target))
                parts = [p for p in current_target.split("/") if p] + parts
                current = "/"
        return self._map(os.path.normpath(current))

    def describe(self):
        if not self.active:
            return "host view (no TESTBED_MOUNTS)"
        return ", ".join(f"{m}{' (ro)' if ro else ''}" for m, dummy, ro in self.items) or "no mounts"


class Files:
    """Reads files as the real binary would, from inside the pod's mounts; errors carry Go's wording."""

    def __init__(self, mounts):
        self.mounts = mounts

    def host_path(self, path, op="open"):
        if not path:
            raise StandinError(f"{op} : no such file or directory")
        resolved = self.mounts.resolve(path)
        if resolved is None:  # invisible inside the container: the same error as a missing file
            if os.path.exists(path):
                klogf("I", "testbed.go:1", f"testbed: {path} exists on the host but no volumeMount of the pod "
                                           f"covers it (mounts: {self.mounts.describe()})")
            raise StandinError(enoent(op, path))
        host, dummy = resolved
        if not os.path.lexists(host):
            raise StandinError(enoent(op, path))
        return host

    def read(self, path, op="open"):
        host = self.host_path(path, op)
        try:
            with open(host, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise StandinError(enoent(op, path)) from None
        except PermissionError:
            raise StandinError(f"{op} {path}: permission denied") from None
        except IsADirectoryError:
            raise StandinError(f"read {path}: is a directory") from None
        except OSError as exc:
            raise StandinError(f"{op} {path}: {exc.strerror.lower() if exc.strerror else exc}") from None

    def exists(self, path):
        resolved = self.mounts.resolve(path) if path else None
        return bool(resolved) and os.path.exists(resolved[0])


# --------------------------------------------------------------------------------------------------------------
# PEM / certificate / key checks
# --------------------------------------------------------------------------------------------------------------
_PEM_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)


def pem_blocks(data):
    blocks = []
    for match in _PEM_RE.finditer(data):
        body = b"".join(line for line in match.group(2).splitlines() if b":" not in line)
        try:
            der = base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError):
            der = b""
        blocks.append((match.group(1).decode(), der, match.group(0)))
    return blocks


def check_ca_bundle(data):
    """certutil.NewPool / ParseCertsPEM."""
    certs = [b for b in pem_blocks(data) if b[0] == "CERTIFICATE"]
    if not certs:
        raise ValueError("data does not contain any valid RSA or ECDSA certificates")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for dummy, dummy, pem in certs:
        try:
            ctx.load_verify_locations(cadata=pem.decode())
        except (ssl.SSLError, ValueError):
            raise ValueError("x509: malformed certificate") from None
    return ctx


def _openssl(args, data):
    try:
        proc = subprocess.run(["openssl"] + args, input=data, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StandinError(f"testbed: cannot run openssl: {exc}") from None
    return proc.returncode == 0


def check_private_key(data):
    """keyutil.ParsePrivateKeyPEM."""
    blocks = [b for b in pem_blocks(data) if b[0].endswith("PRIVATE KEY")]
    if not blocks or not _openssl(["pkey", "-noout"], blocks[0][2]):
        raise ValueError("data does not contain a valid RSA or ECDSA private key")


def check_public_keys(data):
    """keyutil.ParsePublicKeysPEM (public keys, certificates or private keys)."""
    for typ, dummy, pem in pem_blocks(data):
        if typ in ("PUBLIC KEY", "RSA PUBLIC KEY") and _openssl(["pkey", "-pubin", "-noout"], pem):
            return
        if typ.endswith("PRIVATE KEY") and _openssl(["pkey", "-noout"], pem):
            return
        if typ == "CERTIFICATE" and _openssl(["x509", "-noout"], pem):
            return
    raise ValueError("data does not contain any valid RSA or ECDSA public keys")


def check_key_pair(cert_data, key_data, cert_host, key_host):
    """tls.X509KeyPair; returns nothing, raises ValueError with Go's message."""
    cert_blocks = pem_blocks(cert_data)
    if not cert_blocks:
        raise ValueError("tls: failed to find any PEM data in certificate input")
    if not any(b[0] == "CERTIFICATE" for b in cert_blocks):
        skipped = "[" + " ".join(b[0] for b in cert_blocks) + "]"
        raise ValueError("tls: failed to find \"CERTIFICATE\" PEM block in certificate input after skipping "
                         f"PEM blocks of the following types: {skipped}")
    key_blocks = pem_blocks(key_data)
    if not key_blocks:
        raise ValueError("tls: failed to find any PEM data in key input")
    if not any(b[0] == "PRIVATE KEY" or b[0].endswith(" PRIVATE KEY") for b in key_blocks):
        if any(b[0] == "CERTIFICATE" for b in key_blocks):
            raise ValueError("tls: found a certificate rather than a key in the PEM for the private key")
        skipped = "[" + " ".join(b[0] for b in key_blocks) + "]"
        raise ValueError("tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input after "
                         f"skipping PEM blocks of the following types: {skipped}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert_host, key_host)
    except ssl.SSLError as exc:
        text = str(exc)
        if "KEY_VALUES_MISMATCH" in text or "key values mismatch" in text:
            raise ValueError("tls: private key does not match public key") from None
        if "PEM" in text and "key" in text.lower():
            raise ValueError("tls: failed to parse private key") from None
        raise ValueError(f"x509: malformed certificate ({text})") from None


class _DataFiles:
    """Temp files for *-data fields of kubeconfigs (ssl needs paths)."""

    def __init__(self):
        self.dir = None

    def write(self, name, data):
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="standin-")
        path = os.path.join(self.dir, name)
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o600)
        return path

    def cleanup(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


DATA_FILES = _DataFiles()


def load_pair(files, cert_path, key_path, wrap):
    """Open and check a cert/key pair named by flags; `wrap` formats the error like the component does."""
    try:
        cert_data = files.read(cert_path)
        key_data = files.read(key_path)
    except StandinError as exc:
        raise StandinError(wrap(exc.message)) from None
    try:
        check_key_pair(cert_data, key_data, files.host_path(cert_path), files.host_path(key_path))
    except ValueError as exc:
        raise StandinError(wrap(str(exc))) from None
    return files.host_path(cert_path), files.host_path(key_path)


def load_ca(files, path, wrap):
    try:
        data = files.read(path)
    except StandinError as exc:
        raise StandinError(wrap(exc.message)) from None
    try:
        check_ca_bundle(data)
    except ValueError as exc:
        raise StandinError(wrap(str(exc))) from None
    return files.host_path(path)


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
                         f"{_json_kind(obj)} into Go value of type struct {{ APIVersion string "
                         "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }")
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if not kind:
        raise ValueError(f"Object 'Kind' is missing in '{_short(obj)}'")
    if not api_version:
        raise ValueError(f"Object 'apiVersion' is missing in '{_short(obj)}'")
    return api_version, kind


def _short(obj):
    text = json.dumps(obj, separators=(",", ":"), default=str)
    return text if len(text) < 200 else text[:200] + "..."


def _json_kind(value):
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
            raise ValueError(f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
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
                           f"error: json: cannot unmarshal {_json_kind(cfg)} into Go value")
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


# Audit policy -------------------------------------------------------------------------------------------------

AUDIT_LEVELS = ("None", "Metadata", "Request", "RequestResponse")
AUDIT_STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")


def load_audit_policy(files, path):
    """policy.LoadPolicyFromFile; returns the policy dict."""
    try:
        data = files.read(path)
    except StandinError as exc:
        raise StandinError(f"loading audit policy file: failed to read file path {go_quote(path)}: "
                           f"{exc.message}") from None

    def fail(text):
        raise StandinError(f"loading audit policy file: {text}: from file {path}")

    try:
        obj = yaml_load(data, "audit policy")
        api_version, kind = type_meta(obj, path)
    except ValueError as exc:
        fail(f"failed decoding: {exc}")
    if kind != "Policy" or api_version != "audit.k8s.io/v1":
        fail("failed decoding: " + not_registered(kind, api_version, "k8s.io/apiserver/pkg/audit/scheme.go:30"))
    known = {"apiVersion", "kind", "metadata", "rules", "omitStages", "omitManagedFields"}
    unknown = unknown_fields(obj, known)
    rule_known = {"level", "users", "userGroups", "verbs", "resources", "namespaces", "nonResourceURLs",
                  "omitStages", "omitManagedFields"}
    rules = obj.get("rules") or []
    if not isinstance(rules, list):
        fail("failed decoding: json: cannot unmarshal object into Go struct field Policy.rules of type "
             "[]v1.PolicyRule")
    for rule in rules:
        if isinstance(rule, dict):
            unknown += unknown_fields(rule, rule_known, "rules.")
    if unknown:
        klogf("W", "reader.go:75", "Audit policy contains errors, falling back to lenient decoding: "
              + strict_error(unknown))
    errs = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            fail(f"failed decoding: json: cannot unmarshal {_json_kind(rule)} into Go struct field Policy.rules "
                 "of type v1.PolicyRule")
        level = rule.get("level")
        if not level:
            errs.append(f"rules[{i}].level: Required value")
        elif level not in AUDIT_LEVELS:
            errs.append(f"rules[{i}].level: Unsupported value: {go_quote(level)}: supported values: "
                        + ", ".join(go_quote(x) for x in AUDIT_LEVELS))
        urls = rule.get("nonResourceURLs") or []
        if urls and (rule.get("resources") or rule.get("namespaces")):
            errs.append(f"rules[{i}].nonResourceURLs: Invalid value: []string{{{', '.join(go_quote(u) for u in urls)}}}"
                        ": rules cannot apply to both regular resources and non-resource URLs")
        for j, url in enumerate(urls):
            if not str(url).startswith("/") and url != "*":
                errs.append(f"rules[{i}].nonResourceURLs[{j}]: Invalid value: {go_quote(url)}: non-resource URL "
                            "rules must begin with a '/' character")
            elif "*" in str(url)[:-1]:
                errs.append(f"rules[{i}].nonResourceURLs[{j}]: Invalid value: {go_quote(url)}: non-resource URL "
                            "wildcards '*' must be the final character of the rule")
        for j, stage in enumerate(rule.get("omitStages") or []):
            if stage not in AUDIT_STAGES:
                errs.append(f"rules[{i}].omitStages[{j}]: Invalid value: {go_quote(stage)}: allowed stages are "
                            + ", ".join(AUDIT_STAGES))
        for j, res in enumerate(rule.get("resources") or []):
            if isinstance(res, dict) and res.get("resourceNames") and len(res.get("resources") or []) == 0:
                errs.append(f"rules[{i}].resources[{j}].resourceNames: Invalid value: "
                            f"{res.get('resourceNames')}: using resourceNames requires at least one resource")
    for j, stage in enumerate(obj.get("omitStages") or []):
        if stage not in AUDIT_STAGES:
            errs.append(f"omitStages[{j}]: Invalid value: {go_quote(stage)}: allowed stages are "
                        + ", ".join(AUDIT_STAGES))
    if errs:
        raise StandinError("loading audit policy file: " + (errs[0] if len(errs) == 1 else
                                                            "[" + ", ".join(errs) + "]") + f": from file {path}")
    if not rules:
        fail("loaded illegal policy with 0 rules")
    return obj


def audit_level(policy, user, groups, verb, path):
    omit = set(policy.get("omitStages") or [])
    for rule in policy.get("rules") or []:
        if rule.get("users") and user not in rule["users"]:
            continue
        if rule.get("userGroups") and not set(rule["userGroups"]) & set(groups):
            continue
        if rule.get("verbs") and verb not in rule["verbs"]:
            continue
        if rule.get("resources") or rule.get("namespaces"):
            continue  # only non-resource requests reach the stand-in
        urls = rule.get("nonResourceURLs") or []
        if urls and not any(u == "*" or u == path or (u.endswith("*") and path.startswith(u[:-1])) for u in urls):
            continue
        return rule.get("level", "None"), omit | set(rule.get("omitStages") or [])
    return "None", omit


# EncryptionConfiguration ------------------------------------------------------------------------------------

def load_encryption_config(files, path, version):
    def fail(text):
        raise StandinError(f"error while parsing file: {text}")

    try:
        data = files.read(path)
    except StandinError as exc:
        fail(f"error reading encryption provider configuration file {go_quote(path)}: {exc.message}")
    if not data.strip():
        fail(f"encryption provider configuration file {go_quote(path)} is empty")
    try:
        obj = yaml_load(data, "encryption config")
        api_version, kind = type_meta(obj, path)
    except ValueError as exc:
        fail(f"error decoding encryption provider configuration file {go_quote(path)}: {exc}")
    if api_version != "apiserver.config.k8s.io/v1" or kind != "EncryptionConfiguration":
        fail(f"error decoding encryption provider configuration file {go_quote(path)}: "
             + not_registered(kind, api_version, "k8s.io/apiserver/pkg/server/options/encryptionconfig/config.go"))
    unknown = unknown_fields(obj, {"apiVersion", "kind", "resources"})
    errs = []
    resources = obj.get("resources")
    provider_names = {"aesgcm", "aescbc", "secretbox", "identity", "kms"}
    for i, res in enumerate(resources or []):
        if not isinstance(res, dict):
            continue
        unknown += unknown_fields(res, {"resources", "providers"}, "resources[].")
        for j, prov in enumerate(res.get("providers") or []):
            if isinstance(prov, dict):
                unknown += unknown_fields(prov, provider_names, "resources[].providers[].")
    if unknown:
        fail(f"error decoding encryption provider configuration file {go_quote(path)}: " + strict_error(unknown))
    if not resources:
        errs.append("resources: Required value: EncryptionConfiguration.Resources must contain at least one "
                    "resource")
    kms_names = set()
    for i, res in enumerate(resources or []):
        rpath = f"resources[{i}]"
        if not isinstance(res, dict):
            errs.append(f"{rpath}: Invalid value: {_short(res)}: must be an object")
            continue
        names = res.get("resources") or []
        if not names:
            errs.append(f"{rpath}.resources: Required value: EncryptionConfiguration.Resources[{i}].Resources "
                        "must contain at least one resource")
        for k, name in enumerate(names):
            if not isinstance(name, str) or name != name.lower():
                errs.append(f"{rpath}.resources[{k}]: Invalid value: {go_quote(str(name))}: resource name must be "
                            "lowercase")
        providers = res.get("providers") or []
        if not providers:
            errs.append(f"{rpath}.providers: Required value: EncryptionConfiguration.Resources[{i}].Providers "
                        "must contain at least one provider")
        for j, prov in enumerate(providers):
            ppath = f"{rpath}.providers[{j}]"
            present = [k for k in ("kms", "aesgcm", "aescbc", "secretbox", "identity") if k in (prov or {})]
            if len(present) > 1:
                errs.append(f"{ppath}: Invalid value: {_short(prov)}: more than one provider specified in a single "
                            "element, should split into different list elements")
                continue
            if not present:
                errs.append(f"{ppath}: Invalid value: {_short(prov)}: provider does not contain any of the "
                            "expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity")
                continue
            kind_name = present[0]
            body = prov.get(kind_name) or {}
            if kind_name in ("aesgcm", "aescbc", "secretbox"):
                sizes = [32] if kind_name == "secretbox" else [16, 24, 32]
                keys = body.get("keys") or []
                if not keys:
                    errs.append(f"{ppath}.{kind_name}.keys: Required value: keys (secret) must be specified")
                seen = set()
                for k, key in enumerate(keys):
                    kpath = f"{ppath}.{kind_name}.keys[{k}]"
                    key = key or {}
                    name = key.get("name")
                    if not name:
                        errs.append(f"{kpath}.name: Required value: key name is required")
                    elif ":" in str(name):
                        errs.append(f"{kpath}.name: Invalid value: {go_quote(name)}: should not contain ':'")
                    elif name in seen:
                        errs.append(f"{kpath}.name: Duplicate value: {go_quote(name)}")
                    seen.add(name)
                    secret = key.get("secret")
                    if not secret:
                        errs.append(f"{kpath}.secret: Required value: secret is required")
                        continue
                    try:
                        raw = base64.b64decode(str(secret), validate=True)
                    except (binascii.Error, ValueError):
                        errs.append(f"{kpath}.secret: Invalid value: \"REDACTED\": secrets must be base64 encoded")
                        continue
                    if len(raw) not in sizes:
                        errs.append(f"{kpath}.secret: Invalid value: \"REDACTED\": secret is not of the expected "
                                    f"length, got {len(raw)}, expected one of [{' '.join(map(str, sizes))}]")
            elif kind_name == "kms":
                api = body.get("apiVersion", "v1")
                name = body.get("name")
                if not name:
                    errs.append(f"{ppath}.kms.name: Required value: name is required")
                elif name in kms_names:
                    errs.append(f"{ppath}.kms.name: Duplicate value: {go_quote(name)}")
                kms_names.add(name)
                endpoint = body.get("endpoint", "")
                if not endpoint:
                    errs.append(f"{ppath}.kms.endpoint: Required value: endpoint is required")
                elif not str(endpoint).startswith("unix://"):
                    errs.append(f"{ppath}.kms.endpoint: Invalid value: {go_quote(endpoint)}: unsupported scheme "
                                f"{go_quote(urllib.parse.urlparse(str(endpoint)).scheme)} for KMS provider, "
                                "only unix is supported")
                if api not in ("v1", "v2"):
                    errs.append(f"{ppath}.kms.apiVersion: Invalid value: {go_quote(api)}: unsupported apiVersion "
                                f"{api} for KMS provider, only v1 and v2 are supported")
                elif api == "v1" and minor_of(version) >= (1, 29):
                    errs.append(f"{ppath}.kms.apiVersion: Invalid value: \"v1\": KMSv1 is deprecated and will only "
                                "receive security updates going forward. Use KMSv2 instead.  Set "
                                "--feature-gates=KMSv1=true to use the deprecated KMSv1 feature.")
    if errs:
        fail(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
    return obj


# AdmissionConfiguration and plugin configurations ---------------------------------------------------------

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")


def validate_pod_security_config(cfg, version):
    errs = []
    api_version, kind = cfg.get("apiVersion"), cfg.get("kind")
    allowed = ["pod-security.admission.config.k8s.io/v1", "pod-security.admission.config.k8s.io/v1beta1"]
    if kind != "PodSecurityConfiguration" or api_version not in allowed:
        return [not_registered(kind or "", api_version or "", "k8s.io/pod-security-admission/admission/api/"
                               "scheme/scheme.go:28")]
    defaults = cfg.get("defaults") or {}
    dummy, cur_minor = minor_of(version)
    for mode in ("enforce", "audit", "warn"):
        level = defaults.get(mode, "privileged")
        if level not in POD_SECURITY_LEVELS:
            errs.append(f"defaults.{mode}: Invalid value: {go_quote(level)}: must be one of privileged, baseline, "
                        "restricted")
        ver = defaults.get(f"{mode}-version", "latest")
        m = re.fullmatch(r"v1\.(\d+)", str(ver))
        if ver != "latest" and not m:
            errs.append(f"defaults.{mode}-version: Invalid value: {go_quote(ver)}: must be 'latest' or of the form "
                        "'v1.x'")
    exemptions = cfg.get("exemptions") or {}
    for i, ns in enumerate(exemptions.get("namespaces") or []):
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(ns)) or len(str(ns)) > 63:
            errs.append(f"exemptions.namespaces[{i}]: Invalid value: {go_quote(str(ns))}: a lowercase RFC 1123 label "
                        "must consist of lower case alphanumeric characters or '-', and must start and end with an "
                        "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    for field in ("usernames", "runtimeClasses"):
        for i, value in enumerate(exemptions.get(field) or []):
            if not value:
                errs.append(f"exemptions.{field}[{i}]: Invalid value: \"\": must be non-empty")
    return errs


def validate_event_rate_limit_config(cfg):
    if cfg is None:
        return ["limits: Invalid value: \"null\": must not be empty"]
    api_version, kind = cfg.get("apiVersion"), cfg.get("kind")
    if kind != "Configuration" or api_version != "eventratelimit.admission.k8s.io/v1alpha1":
        return [not_registered(kind or "", api_version or "",
                               "k8s.io/kubernetes/plugin/pkg/admission/eventratelimit/config.go:34")]
    errs = []
    limits = cfg.get("limits") or []
    if not limits:
        errs.append("limits: Invalid value: \"null\": must not be empty")
    for i, limit in enumerate(limits):
        limit = limit or {}
        if limit.get("type") not in ("Server", "Namespace", "User", "SourceAndObject"):
            errs.append(f"limits[{i}].type: Unsupported value: {go_quote(str(limit.get('type', '')))}: supported "
                        "values: \"Namespace\", \"Server\", \"SourceAndObject\", \"User\"")
        if not isinstance(limit.get("burst"), int) or limit.get("burst", 0) <= 0:
            errs.append(f"limits[{i}].burst: Invalid value: {limit.get('burst', 0)}: must be positive")
        if not isinstance(limit.get("qps"), (int, float)) or limit.get("qps", 0) <= 0:
            errs.append(f"limits[{i}].qps: Invalid value: {limit.get('qps', 0)}: must be positive")
        if limit.get("type") != "Server" and isinstance(limit.get("cacheSize"), int) and limit["cacheSize"] < 0:
            errs.append(f"limits[{i}].cacheSize: Invalid value: {limit['cacheSize']}: must not be negative")
    return errs


def load_admission_config(files, path):
    """Returns {plugin name: configuration object or None}."""
    try:
        data = files.read(path)
    except StandinError as exc:
        raise StandinError(f"failed to read plugin config: {exc.message}") from None
    try:
        obj = yaml_load(data, "admission config")
        api_version, kind = type_meta(obj, path)
    except ValueError as exc:
        raise StandinError(f"failed to read plugin config: {exc}") from None
    if kind != "AdmissionConfiguration" or api_version not in (
            "apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v1alpha1", "apiserver.k8s.io/v1alpha1"):
        raise StandinError("failed to read plugin config: "
                           + not_registered(kind, api_version, "pkg/runtime/scheme.go:100"))
    result = {}
    base = os.path.dirname(path)
    for plugin in obj.get("plugins") or []:
        plugin = plugin or {}
        name = plugin.get("name", "")
        if plugin.get("configuration") is not None:
            result[name] = ("inline", plugin["configuration"])
        elif plugin.get("path"):
            ppath = plugin["path"]
            if not os.path.isabs(ppath):
                ppath = os.path.normpath(os.path.join(base, ppath))
            result[name] = ("path", ppath)
        else:
            result[name] = ("none", None)
    return result


def resolve_plugin_config(files, entry):
    if entry is None or entry[0] == "none":
        return None
    kind, value = entry
    if kind == "inline":
        return value
    data = files.read(value)
    try:
        return yaml_load(data, "plugin config")
    except ValueError as exc:
        raise StandinError(f"couldn't read plugin config {value}: {exc}") from None


# --------------------------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------------------------

TLS_VERSIONS = {"VersionTLS10": ssl.TLSVersion.TLSv1, "VersionTLS11": ssl.TLSVersion.TLSv1_1,
                "VersionTLS12": ssl.TLSVersion.TLSv1_2, "VersionTLS13": ssl.TLSVersion.TLSv1_3}

# Go crypto/tls names -> OpenSSL names (TLS 1.2 and older; TLS 1.3 suites are not configurable in Go either).
SECURE_CIPHERS = {
    "TLS_AES_128_GCM_SHA256": None, "TLS_AES_256_GCM_SHA384": None, "TLS_CHACHA20_POLY1305_SHA256": None,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
INSECURE_CIPHERS = {
    "TLS_RSA_WITH_RC4_128_SHA": "RC4-SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA": "ECDHE-ECDSA-RC4-SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA": "ECDHE-RSA-RC4-SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
}


def check_tls_version(name):
    """cliflag.TLSVersion."""
    if name == "":
        return None
    if name not in TLS_VERSIONS:
        raise StandinError(f"unknown tls version {go_quote(name)}")
    return TLS_VERSIONS[name]


def check_cipher_suites(names, where, structured=False):
    """cliflag.TLSCipherSuites + the insecure-cipher warning; returns OpenSSL names."""
    out = []
    for name in names:
        if name in SECURE_CIPHERS:
            if SECURE_CIPHERS[name]:
                out.append(SECURE_CIPHERS[name])
        elif name in INSECURE_CIPHERS:
            if structured:
                klog("I", where, "Use of insecure cipher detected.", cipher=name)
            else:
                klogf("W", where, f"Use of insecure cipher '{name}' detected.")
            out.append(INSECURE_CIPHERS[name])
        else:
            raise StandinError(f"Cipher suite {name} not supported or doesn't exist")
    return out


def make_server_context(cert_host, key_host, min_version=None, ciphers=None, client_ca_hosts=()):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_host, key_host)
    if min_version is not None:
        try:
            ctx.minimum_version = min_version
        except ValueError:
            pass
    if ciphers:
        try:
            ctx.set_ciphers(":".join(dict.fromkeys(ciphers)))
        except ssl.SSLError:
            klogf("W", "secure_serving.go:70",
                  "testbed: none of the configured TLS 1.2 cipher suites is available in this OpenSSL; "
                  "the OpenSSL defaults are used for TLS 1.2")
    if client_ca_hosts:
        for ca in client_ca_hosts:
            ctx.load_verify_locations(cafile=ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def self_signed_pair(directory, host, pair_name):
    """certutil.GenerateSelfSignedCertKey equivalent, via the openssl CLI."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, pair_name + ".crt")
    key = os.path.join(directory, pair_name + ".key")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    subject = f"/CN={host}@{int(time.time())}"
    san = "subjectAltName=DNS:localhost,IP:127.0.0.1"
    if host != "localhost":
        san += f",DNS:{host}" if not _is_ip(host) else f",IP:{host}"
    proc = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "365",
                           "-keyout", key, "-out", cert, "-subj", subject, "-addext", san],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StandinError(f"unable to generate self signed cert: {proc.stderr.strip()}")
    os.chmod(key, 0o600)
    return cert, key


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def node_ip():
    path = _env("TESTBED_NODE_IP_FILE", "/etc/testbed/node-ip")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or "127.0.0.1"
    except OSError:
        return "127.0.0.1"


# --------------------------------------------------------------------------------------------------------------
# HTTP(S) serving
# --------------------------------------------------------------------------------------------------------------

class Request:
    def __init__(self, handler):
        parsed = urllib.parse.urlsplit(handler.path)
        self.method = handler.command
        self.path = parsed.path or "/"
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.raw_query = parsed.query
        self.headers = handler.headers
        self.client = handler.client_address
        self.peer_cert = None
        conn = handler.connection
        if isinstance(conn, ssl.SSLSocket):
            try:
                self.peer_cert = conn.getpeercert() or None
            except (ValueError, ssl.SSLError):
                self.peer_cert = None

    @property
    def verb(self):
        return self.method.lower()

    def cert_user(self):
        """(user, groups) from a verified client certificate, else None."""
        if not self.peer_cert:
            return None
        cn, orgs = None, []
        for rdn in self.peer_cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    cn = value
                elif key == "organizationName":
                    orgs.append(value)
        return (cn or "", orgs) if cn is not None else None

    def bearer_token(self):
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # noqa: D401 - quiet like the real servers
        return

    def send_response(self, code, message=None):
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def _dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        req = Request(self)
        try:
            status, ctype, body, extra = self.server.app.handle(req)
        except Exception as exc:  # pragma: no cover - defensive
            status, ctype, body, extra = 500, "text/plain; charset=utf-8", f"internal error: {exc}\n", {}
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, host, port, app, ssl_ctx=None, label=""):
        self.app = app
        self.ssl_ctx = ssl_ctx
        self.label = label
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
        except TypeError:
            family = socket.AF_INET
        self.address_family = family
        super().__init__((host, port), _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_ctx is not None:
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        if self.ssl_ctx is not None:
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or str(exc)
                klogf("I", "server.go:3286", f"http: TLS handshake error from {client_address[0]}:"
                                             f"{client_address[1]}: {reason}")
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):  # quiet on broken connections
        return


def listen(host, port, app, ssl_ctx=None, label=""):
    """Bind like net.Listen; errors are fatal like the real components."""
    bind_host = host or "0.0.0.0"
    try:
        server = Server(bind_host, int(port), app, ssl_ctx, label)
    except OSError as exc:
        proto = "tcp"
        reason = {98: "bind: address already in use", 99: "bind: cannot assign requested address",
                  13: "bind: permission denied"}.get(exc.errno, str(exc.strerror or exc))
        address = f"[{bind_host}]:{port}" if ":" in bind_host else f"{bind_host}:{port}"
        raise StandinError(f"failed to create listener: failed to listen on {address}: listen {proto} {address}: "
                           f"{reason}") from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
    thread.start()
    return server


def text(status, body, extra=None):
    return status, "text/plain; charset=utf-8", body, extra or {}


def as_json(status, obj, extra=None):
    return status, "application/json", json.dumps(obj, indent=2) + "\n", extra or {}


def status_json(code, reason, message):
    obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
           "reason": reason, "code": code}
    if reason == "Forbidden":
        obj["details"] = {}
    return as_json(code, obj)


NOT_FOUND = text(404, "404 page not found\n")


def health_response(kind, checks, req):
    """genericapiserver healthz/livez/readyz handler output. checks: list of (name, ok, reason)."""
    excluded = set()
    for value in req.query.get("exclude", []):
        excluded.update(v for v in value.split(",") if v)
    verbose = "verbose" in req.query
    lines, failed = [], False
    for name, ok, reason in checks:
        if name in excluded:
            lines.append(f"[+]{name} excluded: ok")
            continue
        if ok:
            lines.append(f"[+]{name} ok")
        else:
            failed = True
            lines.append(f"[-]{name} failed: reason withheld")
    if failed:
        klog("I", "healthz.go:261", f"{kind} check failed",
             checks=[c[0] for c in checks if not c[1] and c[0] not in excluded],
             statuses=[f"[-]{c[0]} failed: {c[2]}" for c in checks if not c[1] and c[0] not in excluded])
        return text(500, "\n".join(lines) + f"\n{kind} check failed\n")
    if verbose:
        return text(200, "\n".join(lines) + f"\n{kind} check passed\n")
    return text(200, "ok")


def single_check(kind, name, checks):
    for cname, ok, reason in checks:
        if cname == name:
            return text(200, "ok") if ok else text(500, f"internal server error: {reason}\n")
    return NOT_FOUND


def version_info(version):
    major, minor = minor_of(version)
    info = {"major": str(major), "minor": str(minor), "gitVersion": f"v{version}",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
            "platform": "linux/amd64"}
    if (major, minor) >= (1, 31):
        info = {"major": str(major), "minor": str(minor), "emulationMajor": str(major),
                "emulationMinor": str(minor), "minCompatibilityMajor": str(major),
                "minCompatibilityMinor": str(minor - 1),
                **{k: v for k, v in info.items() if k not in ("major", "minor")}}
    return info


PPROF_INDEX = ("<html><head><title>/debug/pprof/</title></head><body>/debug/pprof/<br><br>Types of profiles "
               "available:<table><tr><td>0</td><td><a href='allocs?debug=1'>allocs</a></td></tr><tr><td>0</td>"
               "<td><a href='goroutine?debug=1'>goroutine</a></td></tr><tr><td>0</td><td><a href='heap?debug=1'>"
               "heap</a></td></tr></table></body></html>\n")

METRICS_BODY = ("# HELP testbed_standin_up The stand-in is serving.\n# TYPE testbed_standin_up gauge\n"
                "testbed_standin_up 1\n")


# --------------------------------------------------------------------------------------------------------------
# components
# --------------------------------------------------------------------------------------------------------------

# Flags that name files, per component. Most are opened and parsed by the component's own checks (with the
# component's error wording); check_file_flags() is the safety net for the rest: every one of them that is set
# must be readable inside the pod's mounts, or the stand-in exits 1 like the real binary.
FILE_FLAGS = {
    "kube-apiserver": (
        "tls-cert-file", "tls-private-key-file", "client-ca-file", "requestheader-client-ca-file",
        "kubelet-client-certificate", "kubelet-client-key", "kubelet-certificate-authority", "etcd-cafile",
        "etcd-certfile", "etcd-keyfile", "proxy-client-cert-file", "proxy-client-key-file", "service-account-key-file",
        "service-account-signing-key-file", "audit-policy-file", "audit-webhook-config-file",
        "authentication-token-webhook-config-file", "authorization-webhook-config-file", "authorization-policy-file",
        "encryption-provider-config", "admission-control-config-file", "authentication-config",
        "authorization-config", "oidc-ca-file", "token-auth-file", "egress-selector-config-file",
        "tracing-config-file", "cloud-config", "service-account-jwks-uri-file"),
    "kube-controller-manager": (
        "kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "client-ca-file",
        "requestheader-client-ca-file", "tls-cert-file", "tls-private-key-file", "root-ca-file",
        "service-account-private-key-file", "cluster-signing-cert-file", "cluster-signing-key-file",
        "cluster-signing-kubelet-serving-cert-file", "cluster-signing-kubelet-serving-key-file",
        "cluster-signing-kubelet-client-cert-file", "cluster-signing-kubelet-client-key-file",
        "cluster-signing-kube-apiserver-client-cert-file", "cluster-signing-kube-apiserver-client-key-file",
        "cluster-signing-legacy-unknown-cert-file", "cluster-signing-legacy-unknown-key-file", "cloud-config"),
    "kube-scheduler": (
        "config", "kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "client-ca-file",
        "requestheader-client-ca-file", "tls-cert-file", "tls-private-key-file"),
    "kube-proxy": ("config", "kubeconfig"),
    "kubelet": ("config", "client-ca-file", "tls-cert-file", "tls-private-key-file",
                "image-credential-provider-config", "cloud-config"),
}

ADMIN_GROUPS = {"system:masters", "kubeadm:cluster-admins"}
PUBLIC_INFO_PATHS = {"/healthz", "/livez", "/readyz", "/version", "/version/"}
DISCOVERY_PATHS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                   "/readyz", "/version", "/version/")
MONITORING_PATHS = ("/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*",
                    "/healthz/*")


def path_matches(path, patterns):
    for pattern in patterns:
        if pattern == "*" or pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1])):
            return True
    return False


class Component:
    name = ""
    structured_cipher_warning = False

    def __init__(self, version, k8s_flags):
        self.version = version
        self.minor = minor_of(version)
        self.k8s_flags = k8s_flags
        self.mounts = Mounts()
        self.files = Files(self.mounts)
        self.servers = []
        self.stop_event = threading.Event()
        self.stopping = False
        self.tmpdirs = []
        self.flags = None

    # -- command line -----------------------------------------------------------------------------------------
    def flag_spec(self):
        try:
            spec = self.k8s_flags.flags_for(self.name, self.version)
        except Exception as exc:  # noqa: BLE001 - report any k8s_flags failure the same way
            raise StandinError(f"testbed: k8s_flags.flags_for({self.name!r}, {self.version!r}) failed: {exc}")
        return dict(spec)

    def usage(self):
        return f"Usage:\n  {self.name} [flags]\n"

    def flag_hint(self, message):
        match = re.match(r"unknown flag: --(\S+)", message)
        if match and hasattr(self.k8s_flags, "check_flag"):
            try:
                hint = self.k8s_flags.check_flag(self.name, self.version, match.group(1))
            except Exception:  # noqa: BLE001
                hint = None
            if hint:
                return f"testbed: {hint}\n"
        return ""

    def feature_gate_error(self, fs):
        """The --feature-gates value the real component refuses (unknown or locked gate), in pflag's words."""
        check = getattr(self.k8s_flags, "check_feature_gate", None)
        if check is None:
            return None
        for raw in fs.values.get("feature-gates", []):
            for item in go_csv_split(raw):
                key, dummy, value = item.partition("=")
                if not key.strip():
                    continue
                problem = check(self.name, self.version, key.strip(), value.strip())
                if problem:
                    # The binary's message ends where the data's "(component version; why)" note starts.
                    message = problem.split(" (", 1)[0]
                    return f"invalid argument {go_quote(raw)} for \"--feature-gates\" flag: {message}"
        return None

    def usage_error(self, message):
        sys.stderr.write(f"Error: {message}\n{self.usage()}\n{self.flag_hint(message)}")
        sys.stderr.flush()
        return 1

    def positional_error(self, args):
        listing = "[" + " ".join(go_quote(a) for a in args) + "]"
        return self.usage_error(f"{go_quote(self.name)} does not take any arguments, got {listing}")

    def print_version(self, value):
        if value == "raw":
            print(json.dumps(version_info(self.version), indent=2))
        elif go_parse_bool(value):
            print(f"Kubernetes v{self.version}")
        else:
            return None
        return 0

    # -- life cycle -------------------------------------------------------------------------------------------
    def run(self, argv):
        fs = FlagSet(self.name, self.flag_spec())
        try:
            fs.parse(argv)
        except UsageError as exc:
            return self.usage_error(str(exc))
        gate_error = self.feature_gate_error(fs)
        if gate_error:
            return self.usage_error(gate_error)
        if fs.get_bool("help"):
            sys.stdout.write(self.usage())
            return 0
        if fs.changed("version"):
            done = self.print_version(fs.raw("version"))
            if done is not None:
                return done
        if [a for a in fs.args if a]:
            return self.positional_error([a for a in fs.args if a])
        self.flags = fs
        # SIGTERM/SIGINT stay blocked in every thread and are collected with sigwait() once serving: no Python
        # signal handler can then run in the middle of a lock-holding call (a deadlock seen with handlers).
        signals = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        try:
            self.start()
        except StandinError as exc:
            self.report(exc)
            self.cleanup()
            return 1
        received = signal.sigwait(signals)
        klog("I", "signal.go:56", "Received signal, shutting down",
             signal="SIGTERM" if received == signal.SIGTERM else "SIGINT")
        self.stop_event.set()
        self.stopping = True
        self.on_shutdown()
        for server in self.servers:
            threading.Thread(target=server.shutdown, daemon=True).start()
        for server in self.servers:
            try:
                server.server_close()
            except OSError:
                pass
        self.cleanup()
        return 0

    def report(self, exc):
        klog("E", exc.where, exc.msg, err=exc.message)

    def on_shutdown(self):
        pass

    def cleanup(self):
        for directory in self.tmpdirs:
            shutil.rmtree(directory, ignore_errors=True)
        DATA_FILES.cleanup()

    def start(self):
        raise NotImplementedError

    # -- shared helpers ---------------------------------------------------------------------------------------
    def tmpdir(self):
        directory = tempfile.mkdtemp(prefix=f"{self.name}-")
        self.tmpdirs.append(directory)
        return directory

    def serving_pair(self, cert_flag="tls-cert-file", key_flag="tls-private-key-file", pair_name=None,
                     host="localhost"):
        f = self.flags
        cert, key = f.get_str(cert_flag), f.get_str(key_flag)
        if cert or key:
            return load_pair(self.files, cert, key, lambda e: f"unable to load server certificate: {e}")
        directory = self.tmpdir()
        klog("I", "serving.go:386", "Generated self-signed cert in-memory")
        return self_signed_pair(directory, host, pair_name or self.name)

    def tls_settings(self, min_flag="tls-min-version", cipher_flag="tls-cipher-suites", where="secure_serving.go:56"):
        f = self.flags
        min_version = check_tls_version(f.get_str(min_flag))
        ciphers = check_cipher_suites(f.get_list(cipher_flag), where, self.structured_cipher_warning)
        return min_version, ciphers

    def bind_host(self, flag, default):
        host = self.flags.get_str(flag, default) or default
        if not _is_ip(host):
            raise StandinError(f"invalid argument {go_quote(host)} for {go_quote('--' + flag)} flag: failed to parse "
                               f"IP: {go_quote(host)}")
        return host

    def check_file_flags(self):
        """Every file-valued flag that is set must be readable inside the mounts (see FILE_FLAGS)."""
        f = self.flags
        for flag in FILE_FLAGS.get(self.name, ()):
            if flag not in f.spec or not f.changed(flag):
                continue
            paths = f.get_list(flag) if f.spec[flag] in ("strings", "stringArray") else [f.get_str(flag)]
            for path in paths:
                if path:
                    self.files.read(path)

    def listen(self, host, port, app, ssl_ctx=None, label=""):
        if not self.servers:
            self.check_file_flags()
        server = listen(host, port, app, ssl_ctx, label)
        self.servers.append(server)
        return server


# kube-apiserver ------------------------------------------------------------------------------------------------

APISERVER_AUTHZ_MODES = ("AlwaysAllow", "AlwaysDeny", "ABAC", "Webhook", "RBAC", "Node")
DEFAULT_ADMISSION_PLUGINS = {
    "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "TaintNodesByCondition", "PodSecurity", "Priority",
    "DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection", "PersistentVolumeClaimResize",
    "RuntimeClass", "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction", "DefaultIngressClass", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook",
    "ValidatingAdmissionPolicy", "ResourceQuota"}
OIDC_FLAGS = ("oidc-issuer-url", "oidc-client-id", "oidc-ca-file", "oidc-username-claim", "oidc-username-prefix",
              "oidc-groups-claim", "oidc-groups-prefix", "oidc-required-claim", "oidc-signing-algs")


class EtcdHealth:
    """GET /health on each --etcd-servers endpoint with the apiserver's client certificate (cached ~1 s)."""

    def __init__(self, servers, ca_host, cert_host, key_host):
        self.servers = servers
        self.ca_host, self.cert_host, self.key_host = ca_host, cert_host, key_host
        self.ttl = float(_env("TESTBED_ETCD_HEALTH_CACHE", "1"))
        self.lock = threading.Lock()
        self.cached = None
        self.cached_at = 0.0
        self.ever_ok = False

    def _context(self):
        ctx = ssl.create_default_context(cafile=self.ca_host) if self.ca_host else ssl.create_default_context()
        if self.cert_host and self.key_host:
            ctx.load_cert_chain(self.cert_host, self.key_host)
        return ctx

    def _probe(self, url):
        import http.client
        parsed = urllib.parse.urlsplit(url)
        host = parsed.hostname or "127.0.0.1"
        port = parsed.port or (2379 if parsed.scheme == "https" else 2379)
        try:
            if parsed.scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=2, context=self._context())
            elif parsed.scheme in ("http", "unix", "unixs"):
                conn = http.client.HTTPConnection(host, port, timeout=2)
            else:
                return False, f"unsupported scheme {parsed.scheme!r}"
            conn.request("GET", "/health")
            resp = conn.getresponse()
            body = resp.read(4096)
            conn.close()
        except ssl.SSLError as exc:
            return False, f"error getting data from etcd: tls: {getattr(exc, 'reason', None) or exc}"
        except OSError as exc:
            why = (exc.strerror or str(exc)).lower()
            return False, f"error getting data from etcd: dial tcp {host}:{port}: connect: {why}"
        if resp.status != 200:
            return False, f"etcd /health returned {resp.status}"
        try:
            if json.loads(body).get("health") not in ("true", True):
                return False, f"etcd reports unhealthy: {body.decode(errors='replace')}"
        except ValueError:
            return False, "etcd /health returned no JSON"
        return True, ""

    def check(self):
        with self.lock:
            now = time.monotonic()
            if self.cached is not None and now - self.cached_at < self.ttl:
                return self.cached
            reasons = []
            result = (False, "no etcd servers")
            for url in self.servers:
                ok, reason = self._probe(url)
                if ok:
                    result = (True, "")
                    break
                reasons.append(f"{url}: {reason}")
                result = (False, "; ".join(reasons))
            if result[0]:
                self.ever_ok = True
            self.cached, self.cached_at = result, time.monotonic()
            return result


class AuditLog:
    def __init__(self, policy, host_path, to_stdout=False):
        self.policy = policy
        self.host_path = host_path
        self.to_stdout = to_stdout
        self.lock = threading.Lock()

    def record(self, req, user, groups, code):
        if not self.policy:
            return
        level, omit = audit_level(self.policy, user, groups, req.verb, req.path)
        if level == "None" or "ResponseComplete" in omit:
            return
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": str(uuid.uuid4()),
                 "stage": "ResponseComplete", "requestURI": req.path + ("?" + req.raw_query if req.raw_query else ""),
                 "verb": req.verb, "user": {"username": user, "groups": groups},
                 "sourceIPs": [req.client[0]], "userAgent": req.headers.get("User-Agent", ""),
                 "responseStatus": {"metadata": {}, "code": code},
                 "requestReceivedTimestamp": now, "stageTimestamp": now}
        line = json.dumps(event, separators=(",", ":")) + "\n"
        with self.lock:
            if self.to_stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                try:
                    with open(self.host_path, "a", encoding="utf-8") as handle:
                        handle.write(line)
                except OSError as exc:
                    klog("E", "log.go:50", "Unable to write audit event", err=str(exc))


class APIServer(Component):
    name = "kube-apiserver"

    def start(self):
        f = self.flags
        errs = []
        port = f.get_int("secure-port", 6443)
        if port < 1 or port > 65535:
            errs.append(f"--secure-port {port} must be between 1 and 65535, inclusive. It cannot be turned off "
                        "with 0")
        etcd_servers = f.get_list("etcd-servers")
        if not etcd_servers:
            errs.append("--etcd-servers must be specified")
        if not f.get_list("service-account-issuer"):
            errs.append("service-account-issuer is a required flag")
        if not f.get_str("service-account-signing-key-file"):
            errs.append("--service-account-signing-key-file and --service-account-issuer are required flags")
        errs += self.validate_authorization()
        errs += self.validate_admission()
        errs += self.validate_authentication_flags()
        errs += self.validate_audit_flags()
        if errs:
            raise StandinError(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")

        # Complete(): service account keys
        try:
            data = self.files.read(f.get_str("service-account-signing-key-file"))
            check_private_key(data)
        except StandinError as exc:
            raise StandinError(f"failed to parse service-account-issuer-key-file: {exc.message}") from None
        except ValueError as exc:
            raise StandinError(f"failed to parse service-account-issuer-key-file: {exc}") from None
        for path in f.get_list("service-account-key-file"):
            try:
                check_public_keys(self.files.read(path))
            except ValueError as exc:
                raise StandinError(f"error reading public key file {path}: {exc}") from None

        # secure serving
        min_version, ciphers = self.tls_settings()
        cert_host, key_host = self.serving_pair(pair_name="apiserver", host=node_ip())
        for item in f.get_list("tls-sni-cert-key"):
            pair = item.split(":")[0].split(",")
            if len(pair) != 2:
                raise StandinError(f"invalid argument {go_quote(item)} for \"--tls-sni-cert-key\" flag: expected "
                                   "comma separated certificate and key file paths")
            load_pair(self.files, pair[0], pair[1], lambda e: f"failed to load SNI cert and key: {e}")

        # authentication
        self.client_ca = None
        if f.get_str("client-ca-file"):
            self.client_ca = load_ca(self.files, f.get_str("client-ca-file"),
                                     lambda e: f"unable to load client CA provider: {e}")
        if f.get_str("requestheader-client-ca-file"):
            load_ca(self.files, f.get_str("requestheader-client-ca-file"),
                    lambda e: f"unable to load request-header client CA provider: {e}")
        if f.get_str("oidc-ca-file"):
            load_ca(self.files, f.get_str("oidc-ca-file"), lambda e: f"failed to read the CA file: {e}")
        self.tokens = self.load_token_file(f.get_str("token-auth-file"))
        for flag in ("authentication-token-webhook-config-file",):
            if f.get_str(flag):
                load_kubeconfig(self.files, f.get_str(flag))
        self.anonymous, self.anonymous_paths = self.anonymous_settings()

        # kubelet client, proxy client, etcd client
        if f.get_str("kubelet-client-certificate") or f.get_str("kubelet-client-key"):
            load_pair(self.files, f.get_str("kubelet-client-certificate"), f.get_str("kubelet-client-key"),
                      lambda e: e)
        if f.get_str("kubelet-certificate-authority"):
            load_ca(self.files, f.get_str("kubelet-certificate-authority"), lambda e: e)
        if f.get_str("proxy-client-cert-file") or f.get_str("proxy-client-key-file"):
            load_pair(self.files, f.get_str("proxy-client-cert-file"), f.get_str("proxy-client-key-file"),
                      lambda e: f"failed to load proxy client cert/key: {e}")
        etcd_ca = etcd_cert = etcd_key = None
        if f.get_str("etcd-cafile"):
            etcd_ca = load_ca(self.files, f.get_str("etcd-cafile"), lambda e: e)
        if f.get_str("etcd-certfile") or f.get_str("etcd-keyfile"):
            etcd_cert, etcd_key = load_pair(self.files, f.get_str("etcd-certfile"), f.get_str("etcd-keyfile"),
                                            lambda e: e)
        self.etcd = EtcdHealth(etcd_servers, etcd_ca, etcd_cert, etcd_key)

        # other files named by flags
        for flag in ("egress-selector-config-file", "tracing-config-file", "cloud-config",
                     "authorization-policy-file"):
            if f.get_str(flag):
                self.files.read(f.get_str(flag))
        if f.get_str("egress-selector-config-file"):
            try:
                yaml_load(self.files.read(f.get_str("egress-selector-config-file")), "egress")
            except ValueError as exc:
                raise StandinError(f"failed to read egress selector config: {exc}") from None

        # authorization
        self.modes = self.authorization_modes()
        if f.get_str("authorization-webhook-config-file"):
            load_kubeconfig(self.files, f.get_str("authorization-webhook-config-file"))
        if self.anonymous and "AlwaysAllow" in self.modes and not self.anonymous_from_config:
            klogf("W", "authentication.go:539",
                  "AnonymousAuth is not allowed with the AlwaysAllow authorizer. "
                  "Resetting AnonymousAuth to false. You should use a different authorizer")
            self.anonymous = False

        # audit, admission, encryption
        self.audit = self.setup_audit()
        self.setup_admission_config()
        self.kms = []
        if f.get_str("encryption-provider-config"):
            enc = load_encryption_config(self.files, f.get_str("encryption-provider-config"), self.version)
            for res in enc.get("resources") or []:
                for prov in res.get("providers") or []:
                    if "kms" in (prov or {}):
                        self.kms.append(prov["kms"])

        self.profiling = f.get_bool("profiling", True)
        ctx = make_server_context(cert_host, key_host, min_version, ciphers,
                                  [self.client_ca] if self.client_ca else [])
        host = self.bind_host("bind-address", "0.0.0.0")
        self.listen(host, port, self, ctx, "secure")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        klog("I", "secure_serving.go:213", "Serving securely on " + address)
        self.etcd.check()

    # -- validation ---------------------------------------------------------------------------------------------
    def validate_authorization(self):
        f = self.flags
        errs = []
        config = f.get_str("authorization-config")
        legacy = f.changed("authorization-mode") or any(
            f.changed(n) for n in f.spec if n.startswith("authorization-webhook-"))
        if config and legacy:
            return ["--authorization-config can not be specified when --authorization-mode or "
                    "--authorization-webhook-* flags are defined"]
        if config:
            return []
        modes = f.get_list("authorization-mode", ["AlwaysAllow"])
        if not modes:
            errs.append("at least one authorization-mode must be passed")
        for mode in modes:
            if mode not in APISERVER_AUTHZ_MODES:
                errs.append(f"authorization-mode {go_quote(mode)} is not a valid mode")
            if mode == "ABAC" and not f.get_str("authorization-policy-file"):
                errs.append("authorization-mode ABAC's authorization policy file not passed")
            if mode == "Webhook" and not f.get_str("authorization-webhook-config-file"):
                errs.append("authorization-mode Webhook's authorization config file not passed")
        if f.get_str("authorization-policy-file") and "ABAC" not in modes:
            errs.append("cannot specify --authorization-policy-file without mode ABAC")
        if f.get_str("authorization-webhook-config-file") and "Webhook" not in modes:
            errs.append("cannot specify --authorization-webhook-config-file without mode Webhook")
        if len(set(modes)) != len(modes):
            errs.append(f"authorization-mode [{' '.join(modes)}] has mode specified more than once")
        return errs

    def validate_admission(self):
        f = self.flags
        errs = []
        enable = [p for p in f.get_list("enable-admission-plugins") if p]
        disable = [p for p in f.get_list("disable-admission-plugins") if p]
        for flag, plugins in (("enable-admission-plugins", enable), ("disable-admission-plugins", disable)):
            for plugin in plugins:
                problem = self.k8s_flags.check_admission_plugin(self.version, plugin)
                if problem:
                    errs.append(f"{flag} plugin {go_quote(plugin)} is unknown")
                    klogf("I", "admission.go:126", f"testbed: {problem}")
        overlap = sorted(set(enable) & set(disable))
        if overlap:
            errs.append(f"[{' '.join(overlap)}] in enable-admission-plugins and disable-admission-plugins overlapped")
        self.enabled_plugins = (DEFAULT_ADMISSION_PLUGINS | set(enable)) - set(disable)
        return errs

    def validate_authentication_flags(self):
        f = self.flags
        errs = []
        if f.get_str("authentication-config") and any(f.changed(n) for n in OIDC_FLAGS):
            errs.append("authentication-config file and oidc-* flags are mutually exclusive")
        if f.get_str("oidc-issuer-url") and not f.get_str("oidc-client-id"):
            errs.append("oidc-issuer-url and oidc-client-id must be specified together")
        return errs

    def validate_audit_flags(self):
        f = self.flags
        errs = []
        for flag in ("audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize"):
            if f.changed(flag) and f.get_int(flag) < 0:
                errs.append(f"--{flag} {f.get_int(flag)} can't be a negative number")
        fmt = f.get_str("audit-log-format", "json")
        if fmt not in ("json", "legacy"):
            errs.append(f"invalid audit log format {fmt}, allowed formats are \"json,legacy\"")
        for flag in ("audit-log-mode", "audit-webhook-mode"):
            mode = f.get_str(flag, "blocking" if flag == "audit-log-mode" else "batch")
            if mode not in ("batch", "blocking", "blocking-strict"):
                errs.append(f"invalid audit {flag.split('-')[1]} mode {mode}, allowed modes are "
                            "\"batch,blocking,blocking-strict\"")
        return errs

    # -- authentication ------------------------------------------------------------------------------------------
    def load_token_file(self, path):
        tokens = {}
        if not path:
            return tokens
        data = self.files.read(path).decode(errors="replace")
        for lineno, record in enumerate(csv.reader(io.StringIO(data)), start=1):
            if not record:
                continue
            if len(record) < 3:
                raise StandinError(f"token file '{path}' must have at least 3 columns (token, user name, unique "
                                   f"user ID), found {len(record)}")
            groups = [g.strip() for g in record[3].split(",")] if len(record) > 3 and record[3] else []
            tokens[record[0].strip()] = (record[1].strip(), groups)
        return tokens

    def anonymous_settings(self):
        f = self.flags
        self.anonymous_from_config = False
        anonymous = f.get_bool("anonymous-auth", True)
        paths = None
        path = f.get_str("authentication-config")
        if path:
            try:
                obj = yaml_load(self.files.read(path), "authentication config")
                api_version, kind = type_meta(obj, path)
            except ValueError as exc:
                raise StandinError(f"failed to load authentication configuration from file {go_quote(path)}: "
                                   f"{exc}") from None
            if kind != "AuthenticationConfiguration" or api_version not in (
                    "apiserver.config.k8s.io/v1alpha1", "apiserver.config.k8s.io/v1beta1",
                    "apiserver.config.k8s.io/v1"):
                raise StandinError(f"failed to load authentication configuration from file {go_quote(path)}: "
                                   + not_registered(kind, api_version, "pkg/apis/apiserver"))
            for i, jwt in enumerate(obj.get("jwt") or []):
                issuer = ((jwt or {}).get("issuer") or {}).get("url", "")
                if not str(issuer).startswith("https://"):
                    raise StandinError(f"jwt[{i}].issuer.url: Invalid value: {go_quote(str(issuer))}: URL scheme "
                                       "must be https")
            if "anonymous" in obj:
                if f.changed("anonymous-auth"):
                    raise StandinError("anonymous is configured in the authentication configuration file and "
                                       "--anonymous-auth flag is set; only one of them may be used")
                anon = obj.get("anonymous") or {}
                anonymous = bool(anon.get("enabled", False))
                conditions = anon.get("conditions") or []
                paths = [c.get("path") for c in conditions if isinstance(c, dict) and c.get("path")] or None
                if anonymous and conditions and not paths:
                    raise StandinError("anonymous.conditions: each condition needs a path")
                self.anonymous_from_config = True
        return anonymous, paths

    def authenticate(self, req):
        user = req.cert_user() if self.client_ca else None
        if user is not None:
            return user[0], list(user[1]) + ["system:authenticated"]
        token = req.bearer_token()
        if token is not None:
            if token in self.tokens:
                name, groups = self.tokens[token]
                return name, groups + ["system:authenticated"]
            return None
        if self.anonymous and (self.anonymous_paths is None or req.path in self.anonymous_paths):
            return "system:anonymous", ["system:unauthenticated"]
        return None

    # -- authorization -------------------------------------------------------------------------------------------
    def authorization_modes(self):
        f = self.flags
        path = f.get_str("authorization-config")
        if not path:
            return f.get_list("authorization-mode", ["AlwaysAllow"])
        try:
            obj = yaml_load(self.files.read(path), "authorization config")
            api_version, kind = type_meta(obj, path)
        except ValueError as exc:
            raise StandinError(f"failed to load AuthorizationConfiguration from file {go_quote(path)}: {exc}") \
                from None
        if kind != "AuthorizationConfiguration" or api_version not in (
                "apiserver.config.k8s.io/v1alpha1", "apiserver.config.k8s.io/v1beta1", "apiserver.config.k8s.io/v1"):
            raise StandinError(f"failed to load AuthorizationConfiguration from file {go_quote(path)}: "
                               + not_registered(kind, api_version, "pkg/apis/apiserver"))
        modes, names, errs = [], set(), []
        valid = ("Webhook", "RBAC", "Node", "AlwaysAllow", "AlwaysDeny")
        authorizers = obj.get("authorizers") or []
        if not authorizers:
            errs.append("authorizers: Required value: at least one authorization mode must be defined")
        for i, authz in enumerate(authorizers):
            authz = authz or {}
            typ, name = authz.get("type", ""), authz.get("name", "")
            if typ not in valid:
                errs.append(f"authorizers[{i}].type: Unsupported value: {go_quote(typ)}: supported values: "
                            + ", ".join(go_quote(v) for v in ("AlwaysAllow", "AlwaysDeny", "Node", "RBAC", "Webhook")))
            elif typ in modes and typ != "Webhook":
                errs.append(f"authorizers[{i}].type: Duplicate value: {go_quote(typ)}")
            if not name:
                errs.append(f"authorizers[{i}].name: Required value")
            elif name in names:
                errs.append(f"authorizers[{i}].name: Duplicate value: {go_quote(name)}")
            names.add(name)
            if typ == "Webhook":
                info = ((authz.get("webhook") or {}).get("connectionInfo") or {})
                if info.get("type") == "KubeConfigFile":
                    load_kubeconfig(self.files, info.get("kubeConfigFile", ""))
            modes.append(typ)
        if errs:
            raise StandinError(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
        return modes

    def authorize(self, user, groups, verb, path):
        for mode in self.modes:
            if mode == "AlwaysAllow":
                return True
            if mode == "AlwaysDeny":
                return False
            if mode == "RBAC":
                if set(groups) & ADMIN_GROUPS:
                    return True
                if path in PUBLIC_INFO_PATHS and verb in ("get", "head"):
                    return True
                if ("system:authenticated" in groups and path_matches(path, DISCOVERY_PATHS)
                        and verb in ("get", "head")):
                    return True
                if "system:monitoring" in groups and path_matches(path, MONITORING_PATHS):
                    return True
        return False

    # -- audit / admission ---------------------------------------------------------------------------------------
    def setup_audit(self):
        f = self.flags
        policy = None
        if f.get_str("audit-policy-file"):
            policy = load_audit_policy(self.files, f.get_str("audit-policy-file"))
        for flag in ("audit-webhook-config-file",):
            if f.get_str(flag):
                load_kubeconfig(self.files, f.get_str(flag))
        path = f.get_str("audit-log-path")
        if not path:
            return AuditLog(None, None)
        if path == "-":
            return AuditLog(policy, None, to_stdout=True)
        directory = os.path.dirname(path) or "/"
        resolved = self.mounts.resolve(directory)
        if resolved is None:
            raise StandinError(
                f"ensureLogFile: testbed: the directory {directory} of --audit-log-path is not inside any hostPath "
                "mount of the pod. The real kube-apiserver would create it inside its container, where the audit "
                "log never reaches the host and is lost with the container; the testbed fails instead so that the "
                "missing volume/volumeMount is noticed (mounts: " + self.mounts.describe() + ")")
        host_dir, read_only = resolved
        if read_only:
            if os.path.isdir(host_dir):
                raise StandinError(f"ensureLogFile: open {path}: read-only file system")
            raise StandinError(f"ensureLogFile: mkdir {directory}: read-only file system")
        try:
            os.makedirs(host_dir, mode=0o700, exist_ok=True)
            host_file = os.path.join(host_dir, os.path.basename(path))
            fd = os.open(host_file, os.O_CREAT | os.O_APPEND | os.O_RDWR, 0o600)
            os.close(fd)
        except OSError as exc:
            raise StandinError(f"ensureLogFile: open {path}: {(exc.strerror or str(exc)).lower()}") from None
        if policy is None:
            klog("I", "audit.go:338", "No audit policy file provided, no events will be recorded for log backend")
        return AuditLog(policy, host_file)

    def setup_admission_config(self):
        f = self.flags
        configs = {}
        if f.get_str("admission-control-config-file"):
            configs = load_admission_config(self.files, f.get_str("admission-control-config-file"))

        def init_error(plugin, errs):
            return StandinError(f"failed to initialize admission: couldn't init admission plugin "
                                f"{go_quote(plugin)}: " + (errs[0] if len(errs) == 1 else
                                                           "[" + ", ".join(errs) + "]"))

        if "EventRateLimit" in self.enabled_plugins:
            cfg = resolve_plugin_config(self.files, configs.get("EventRateLimit"))
            errs = validate_event_rate_limit_config(cfg)
            if errs:
                raise init_error("EventRateLimit", errs)
        if "PodSecurity" in self.enabled_plugins and "PodSecurity" in configs:
            cfg = resolve_plugin_config(self.files, configs.get("PodSecurity"))
            if cfg is not None:
                errs = validate_pod_security_config(cfg, self.version)
                if errs:
                    raise init_error("PodSecurity", errs)
        if "ImagePolicyWebhook" in self.enabled_plugins:
            cfg = resolve_plugin_config(self.files, configs.get("ImagePolicyWebhook"))
            if cfg is None:
                raise init_error("ImagePolicyWebhook", ["no config specified"])
            webhook = (cfg.get("imagePolicy") or cfg.get("ImagePolicy") or {}) if isinstance(cfg, dict) else {}
            if webhook.get("kubeConfigFile"):
                load_kubeconfig(self.files, webhook["kubeConfigFile"])

    # -- serving -------------------------------------------------------------------------------------------------
    def checks(self, kind):
        etcd_ok, reason = self.etcd.check()
        checks = [("ping", True, ""), ("log", True, ""), ("etcd", etcd_ok, reason)]
        if kind == "readyz" and self.minor >= (1, 30):
            checks.append(("etcd-readiness", etcd_ok, reason))
        if self.kms:
            checks.append(("kms-providers", True, ""))
        checks += [("poststarthook/start-apiserver-admission-initializer", True, ""),
                   ("poststarthook/generic-apiserver-start-informers", True, ""),
                   ("poststarthook/rbac/bootstrap-roles", self.etcd.ever_ok, "not finished"),
                   ("poststarthook/bootstrap-controller", self.etcd.ever_ok, "not finished")]
        if kind == "readyz":
            checks.append(("informer-sync", True, ""))
            checks.append(("shutdown", not self.stopping, "process is shutting down"))
        return checks

    def handle(self, req):
        ident = self.authenticate(req)
        if ident is None:
            return status_json(401, "Unauthorized", "Unauthorized")
        user, groups = ident
        if not self.authorize(user, groups, req.verb, req.path):
            resp = status_json(403, "Forbidden", f"forbidden: User {go_quote(user)} cannot {req.verb} path "
                                                 f"{go_quote(req.path)}")
        else:
            resp = self.route(req)
        self.audit.record(req, user, groups, resp[0])
        return resp

    def route(self, req):
        path = req.path
        for kind in ("livez", "readyz", "healthz"):
            if path == f"/{kind}":
                return health_response(kind, self.checks(kind), req)
            if path.startswith(f"/{kind}/"):
                return single_check(kind, path[len(kind) + 2:], self.checks(kind))
        if path in ("/version", "/version/"):
            return as_json(200, version_info(self.version))
        if path.startswith("/debug/pprof"):
            return text(200, PPROF_INDEX) if self.profiling else NOT_FOUND
        if path == "/metrics":
            return text(200, METRICS_BODY)
        if path == "/api":
            return as_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        if path == "/apis":
            return as_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        if path.startswith("/api/") or path.startswith("/apis/"):
            return status_json(404, "NotFound", "the server could not find the requested resource")
        return NOT_FOUND


# kube-controller-manager / kube-scheduler ------------------------------------------------------------------------

class DelegatingComponent(Component):
    """Secure serving with delegated authentication/authorization (controller-manager, scheduler)."""

    default_port = 0
    pair_name = ""

    def kubeconfig_path(self):
        return self.flags.get_str("kubeconfig")

    def start(self):
        f = self.flags
        port = f.get_int("secure-port", self.default_port)
        if port < 0 or port > 65535:
            raise StandinError(f"--secure-port {port} must be between 0 and 65535, inclusive. 0 for turning off "
                               "secure port")
        min_version, ciphers = self.tls_settings()
        self.component_checks()
        kubeconfig = self.kubeconfig_path()
        if not kubeconfig:
            raise StandinError("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                               "KUBERNETES_SERVICE_PORT must be defined")
        load_kubeconfig(self.files, kubeconfig)
        self.authn_kubeconfig = f.get_str("authentication-kubeconfig")
        if self.authn_kubeconfig:
            load_kubeconfig(self.files, self.authn_kubeconfig)
        else:
            klog("W", "authentication.go:340", "No authentication-kubeconfig provided in order to lookup "
                 "client-ca-file in configmap/extension-apiserver-authentication in kube-system, so client "
                 "certificate authentication won't work.")
        self.authz_kubeconfig = f.get_str("authorization-kubeconfig")
        if self.authz_kubeconfig:
            load_kubeconfig(self.files, self.authz_kubeconfig)
        else:
            klog("W", "authorization.go:193", "No authorization-kubeconfig provided, so SubjectAccessReview of "
                 "authorization tokens won't work.")
        self.client_ca = None
        if f.get_str("client-ca-file"):
            self.client_ca = load_ca(self.files, f.get_str("client-ca-file"),
                                     lambda e: f"unable to load client CA provider: {e}")
        if f.get_str("requestheader-client-ca-file"):
            load_ca(self.files, f.get_str("requestheader-client-ca-file"),
                    lambda e: f"unable to load request-header client CA provider: {e}")
        self.always_allow = f.get_list("authorization-always-allow-paths", ["/healthz", "/readyz", "/livez"])
        self.profiling = f.get_bool("profiling", True) if "profiling" in f.spec else True
        self.post_checks()
        if port == 0:
            self.check_file_flags()
            klog("I", "serving.go:380", "secure serving is disabled (--secure-port=0)")
            return
        cert_host, key_host = self.serving_pair(pair_name=self.pair_name)
        ctx = make_server_context(cert_host, key_host, min_version, ciphers,
                                  [self.client_ca] if self.client_ca else [])
        host = self.bind_host("bind-address", "0.0.0.0")
        self.listen(host, port, self, ctx, "secure")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        klog("I", "secure_serving.go:213", "Serving securely on " + address)

    def component_checks(self):
        pass

    def post_checks(self):
        pass

    def handle(self, req):
        user = req.cert_user() if self.client_ca else None
        if user is None and req.bearer_token() is not None:
            return status_json(401, "Unauthorized", "Unauthorized")  # no TokenReview against a real apiserver
        name = user[0] if user else "system:anonymous"
        allowed = path_matches(req.path, self.always_allow) or (user is not None and bool(self.authz_kubeconfig))
        if not allowed:
            return status_json(403, "Forbidden", f"forbidden: User {go_quote(name)} cannot {req.verb} path "
                                                 f"{go_quote(req.path)}")
        path = req.path
        for kind in ("livez", "readyz", "healthz"):
            checks = [("ping", True, ""), ("leaderElection", True, "")]
            if path == f"/{kind}":
                return health_response(kind, checks, req)
            if path.startswith(f"/{kind}/"):
                return single_check(kind, path[len(kind) + 2:], checks)
        if path.startswith("/debug/pprof"):
            return text(200, PPROF_INDEX) if self.profiling else NOT_FOUND
        if path == "/metrics":
            return text(200, METRICS_BODY)
        if path == "/configz":
            return as_json(200, {})
        return NOT_FOUND


class ControllerManager(DelegatingComponent):
    name = "kube-controller-manager"
    default_port = 10257
    pair_name = "kube-controller-manager"

    SIGNERS = ("cluster-signing", "cluster-signing-kubelet-serving", "cluster-signing-kubelet-client",
               "cluster-signing-kube-apiserver-client", "cluster-signing-legacy-unknown")

    def post_checks(self):
        f = self.flags
        if f.get_str("root-ca-file"):
            try:
                check_ca_bundle(self.files.read(f.get_str("root-ca-file")))
            except StandinError as exc:
                raise StandinError(f"error reading root-ca-file at {f.get_str('root-ca-file')}: {exc.message}") \
                    from None
            except ValueError as exc:
                raise StandinError(f"error parsing root-ca-file at {f.get_str('root-ca-file')}: {exc}") from None
        if f.get_str("service-account-private-key-file"):
            try:
                check_private_key(self.files.read(f.get_str("service-account-private-key-file")))
            except StandinError as exc:
                raise StandinError(f"error reading key for service account token controller: {exc.message}") \
                    from None
            except ValueError as exc:
                raise StandinError(f"error reading key for service account token controller: {exc}") from None
        for signer in self.SIGNERS:
            cert, key = f.get_str(f"{signer}-cert-file"), f.get_str(f"{signer}-key-file")
            if not (cert or key):
                continue
            if signer != "cluster-signing" and (f.get_str("cluster-signing-cert-file") or
                                                f.get_str("cluster-signing-key-file")):
                raise StandinError("cannot specify default and per controller certs at the same time")
            if bool(cert) != bool(key):
                raise StandinError(f"cannot specify --{signer}-cert-file without --{signer}-key-file" if cert else
                                   f"cannot specify --{signer}-key-file without --{signer}-cert-file")
            try:
                load_pair(self.files, cert, key, lambda e: e)
            except StandinError as exc:
                raise StandinError(f"failed to start kubernetes.io/{signer.replace('cluster-signing-', '') or 'all'}"
                                   f" certificate controller: error reading CA cert file {go_quote(cert)}: "
                                   f"{exc.message}") from None


SCHEDULER_CONFIG_FIELDS = {"apiVersion", "kind", "parallelism", "leaderElection", "clientConnection",
                           "enableProfiling", "enableContentionProfiling", "percentageOfNodesToScore",
                           "podInitialBackoffSeconds", "podMaxBackoffSeconds", "profiles", "extenders",
                           "delayCacheUntilActive"}


class Scheduler(DelegatingComponent):
    name = "kube-scheduler"
    default_port = 10259
    pair_name = "kube-scheduler"

    def component_checks(self):
        self.config_kubeconfig = ""
        path = self.flags.get_str("config")
        if not path:
            return
        data = self.files.read(path)
        try:
            obj = yaml_load(data, "scheduler config")
            api_version, kind = type_meta(obj, path)
        except ValueError as exc:
            raise StandinError(str(exc)) from None
        versions = ["kubescheduler.config.k8s.io/v1"]
        if self.minor < (1, 29):
            versions.append("kubescheduler.config.k8s.io/v1beta3")
        if kind != "KubeSchedulerConfiguration" or api_version not in versions:
            raise StandinError(not_registered(kind, api_version, "k8s.io/kubernetes/pkg/scheduler/apis/config/"
                                                                 "scheme/scheme.go:30"))
        unknown = unknown_fields(obj, SCHEDULER_CONFIG_FIELDS)
        if unknown:
            raise StandinError(strict_error(unknown))
        try:
            check_field_types(obj, {"parallelism": "int32", "enableProfiling": "bool",
                                    "enableContentionProfiling": "bool", "percentageOfNodesToScore": "int32",
                                    "podInitialBackoffSeconds": "int64", "podMaxBackoffSeconds": "int64",
                                    "profiles": "list", "extenders": "list", "leaderElection": "map",
                                    "clientConnection": "map"}, "KubeSchedulerConfiguration")
        except ValueError as exc:
            raise StandinError(str(exc)) from None
        self.config_kubeconfig = (obj.get("clientConnection") or {}).get("kubeconfig", "")
        if "enableProfiling" in obj and not self.flags.changed("profiling"):
            self.flags.values["profiling"] = ["true" if obj["enableProfiling"] else "false"]

    def kubeconfig_path(self):
        return self.flags.get_str("kubeconfig") or getattr(self, "config_kubeconfig", "")


# kube-proxy ---------------------------------------------------------------------------------------------------

KUBE_PROXY_FIELDS = {"apiVersion", "kind", "bindAddress", "bindAddressHardFail", "clientConnection", "clusterCIDR",
                     "configSyncPeriod", "conntrack", "detectLocal", "detectLocalMode", "enableProfiling",
                     "featureGates", "healthzBindAddress", "hostnameOverride", "iptables", "ipvs", "nftables",
                     "linux", "windows", "logging", "metricsBindAddress", "mode", "nodePortAddresses",
                     "oomScoreAdj", "portRange", "showHiddenMetricsForVersion", "udpIdleTimeout", "winkernel",
                     "syncPeriod", "minSyncPeriod", "windowsRunAsService", "ipFamilyPolicy"}


class KubeProxy(Component):
    name = "kube-proxy"

    def report(self, exc):
        klog("E", "server.go:558", "Error running ProxyServer", err=exc.message)
        klog("E", exc.where, exc.msg, err=exc.message)

    def start(self):
        f = self.flags
        cfg = {}
        if f.get_str("config"):
            path = f.get_str("config")
            data = self.files.read(path)
            try:
                cfg = yaml_load(data, "kube-proxy config")
                api_version, kind = type_meta(cfg, path)
            except ValueError as exc:
                raise StandinError(f"failed to decode: {exc}") from None
            if kind != "KubeProxyConfiguration" or api_version != "kubeproxy.config.k8s.io/v1alpha1":
                raise StandinError("failed to decode: " + not_registered(kind, api_version, "k8s.io/kubernetes/pkg/"
                                                                         "proxy/apis/config/scheme/scheme.go:29"))
            unknown = unknown_fields(cfg, KUBE_PROXY_FIELDS)
            if unknown:
                klog("I", "server.go:509", "Using lenient decoding as strict decoding failed",
                     err=strict_error(unknown))
            try:
                check_field_types(cfg, {"bindAddress": "string", "healthzBindAddress": "string",
                                        "metricsBindAddress": "string", "mode": "string", "enableProfiling": "bool",
                                        "clusterCIDR": "string", "hostnameOverride": "string",
                                        "clientConnection": "map", "configSyncPeriod": "duration"},
                                  "KubeProxyConfiguration")
            except ValueError as exc:
                raise StandinError(f"failed to decode: {exc}") from None
        else:
            cfg = {"healthzBindAddress": f.get_str("healthz-bind-address", "0.0.0.0:10256"),
                   "metricsBindAddress": f.get_str("metrics-bind-address", "127.0.0.1:10249"),
                   "mode": f.get_str("proxy-mode", ""),
                   "clientConnection": {"kubeconfig": f.get_str("kubeconfig")}}
        mode = cfg.get("mode") or ""
        modes = ["iptables", "ipvs"] + (["nftables"] if self.minor >= (1, 29) else [])
        if mode and mode not in modes:
            raise StandinError(f"KubeProxyConfiguration.Mode: Invalid value: {go_quote(mode)}: must be "
                               + " or ".join([", ".join(modes), "blank (blank means the best-available proxy "
                                              "[currently iptables])"]))
        kubeconfig = (cfg.get("clientConnection") or {}).get("kubeconfig") or f.get_str("kubeconfig")
        if not kubeconfig:
            raise StandinError("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                               "KUBERNETES_SERVICE_PORT must be defined")
        load_kubeconfig(self.files, kubeconfig)
        self.started = datetime.datetime.now(datetime.timezone.utc)
        # v1alpha1 defaulting: empty addresses get the default ports (kubeadm writes them empty)
        healthz = cfg.get("healthzBindAddress") or "0.0.0.0:10256"
        metrics = cfg.get("metricsBindAddress") or "127.0.0.1:10249"
        for label, value in (("HealthzBindAddress", healthz), ("MetricsBindAddress", metrics)):
            if value and not re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[0-9.]+|):\d+", value):
                raise StandinError(f"KubeProxyConfiguration.{label}: Invalid value: {go_quote(value)}: must be "
                                   "IP:port")
        self.profiling = bool(cfg.get("enableProfiling", False))
        if healthz:
            host, port = healthz.rsplit(":", 1)
            self.listen(host.strip("[]") or "0.0.0.0", int(port), self, None, "healthz")
        if metrics:
            host, port = metrics.rsplit(":", 1)
            self.listen(host.strip("[]") or "0.0.0.0", int(port), self, None, "metrics")
        klog("I", "server.go:483", "Version info", version=f"v{self.version}")

    def handle(self, req):
        if req.path in ("/healthz", "/livez"):
            now = datetime.datetime.now(datetime.timezone.utc)
            return as_json(200, {"lastUpdated": now.isoformat(), "currentTime": now.isoformat(),
                                 "nodeEligible": True})
        if req.path == "/metrics":
            return text(200, METRICS_BODY)
        if req.path == "/proxyMode":
            return text(200, "iptables")
        if req.path.startswith("/debug/pprof"):
            return text(200, PPROF_INDEX) if self.profiling else NOT_FOUND
        return NOT_FOUND


# kubelet ------------------------------------------------------------------------------------------------------

KUBELET_CONFIG_TYPES = {
    "enableServer": "bool", "staticPodPath": "string", "podLogsDir": "string", "syncFrequency": "duration",
    "fileCheckFrequency": "duration", "httpCheckFrequency": "duration", "staticPodURL": "string",
    "staticPodURLHeader": "map", "address": "string", "port": "int32", "readOnlyPort": "int32",
    "tlsCertFile": "string", "tlsPrivateKeyFile": "string", "tlsCipherSuites": "list", "tlsMinVersion": "string",
    "rotateCertificates": "bool", "serverTLSBootstrap": "bool", "authentication": "map", "authorization": "map",
    "registryPullQPS": "int32", "registryBurst": "int32", "imagePullCredentialsVerificationPolicy": "string",
    "preloadedImagesVerificationAllowlist": "list", "eventRecordQPS": "int32", "eventBurst": "int32",
    "enableDebuggingHandlers": "bool", "enableContentionProfiling": "bool", "healthzPort": "int32",
    "healthzBindAddress": "string", "oomScoreAdj": "int32", "clusterDomain": "string", "clusterDNS": "list",
    "streamingConnectionIdleTimeout": "duration", "nodeStatusUpdateFrequency": "duration",
    "nodeStatusReportFrequency": "duration", "nodeLeaseDurationSeconds": "int32", "imageMinimumGCAge": "duration",
    "imageMaximumGCAge": "duration", "imageGCHighThresholdPercent": "int32", "imageGCLowThresholdPercent": "int32",
    "volumeStatsAggPeriod": "duration", "kubeletCgroups": "string", "systemCgroups": "string",
    "cgroupRoot": "string", "cgroupsPerQOS": "bool", "cgroupDriver": "string", "cpuManagerPolicy": "string",
    "singleProcessOOMKill": "bool", "cpuManagerPolicyOptions": "map", "cpuManagerReconcilePeriod": "duration",
    "memoryManagerPolicy": "string", "topologyManagerPolicy": "string", "topologyManagerScope": "string",
    "topologyManagerPolicyOptions": "map", "qosReserved": "map", "runtimeRequestTimeout": "duration",
    "hairpinMode": "string", "maxPods": "int32", "podCIDR": "string", "podPidsLimit": "int64",
    "resolvConf": "string", "runOnce": "bool", "cpuCFSQuota": "bool", "cpuCFSQuotaPeriod": "duration",
    "nodeStatusMaxImages": "int32", "maxOpenFiles": "int64", "contentType": "string", "kubeAPIQPS": "int32",
    "kubeAPIBurst": "int32", "serializeImagePulls": "bool", "maxParallelImagePulls": "int32",
    "evictionHard": "map", "evictionSoft": "map", "evictionSoftGracePeriod": "map",
    "evictionPressureTransitionPeriod": "duration", "evictionMaxPodGracePeriod": "int32",
    "evictionMinimumReclaim": "map", "mergeDefaultEvictionSettings": "bool", "podsPerCore": "int32",
    "enableControllerAttachDetach": "bool", "protectKernelDefaults": "bool", "makeIPTablesUtilChains": "bool",
    "iptablesMasqueradeBit": "int32", "iptablesDropBit": "int32", "featureGates": "map", "failSwapOn": "bool",
    "memorySwap": "map", "containerLogMaxSize": "string", "containerLogMaxFiles": "int32",
    "containerLogMaxWorkers": "int32", "containerLogMonitorInterval": "duration",
    "configMapAndSecretChangeDetectionStrategy": "string", "systemReserved": "map", "kubeReserved": "map",
    "reservedSystemCPUs": "string", "showHiddenMetricsForVersion": "string", "systemReservedCgroup": "string",
    "kubeReservedCgroup": "string", "enforceNodeAllocatable": "list", "allowedUnsafeSysctls": "list",
    "volumePluginDir": "string", "providerID": "string", "kernelMemcgNotification": "bool", "logging": "map",
    "enableSystemLogHandler": "bool", "enableSystemLogQuery": "bool", "shutdownGracePeriod": "duration",
    "shutdownGracePeriodCriticalPods": "duration", "shutdownGracePeriodByPodPriority": "list",
    "crashLoopBackOff": "map", "reservedMemory": "list", "enableProfilingHandler": "bool",
    "enableDebugFlagsHandler": "bool", "seccompDefault": "bool", "memoryThrottlingFactor": "float",
    "registerWithTaints": "list", "registerNode": "bool", "tracing": "map", "localStorageCapacityIsolation": "bool",
    "containerRuntimeEndpoint": "string", "imageServiceEndpoint": "string", "failCgroupV1": "bool",
    "userNamespaces": "map",
}

# flag -> dotted KubeletConfiguration path (flags take precedence over the config file)
KUBELET_FLAG_FIELDS = {
    "address": ("address", "string"), "port": ("port", "int"), "read-only-port": ("readOnlyPort", "int"),
    "healthz-port": ("healthzPort", "int"), "healthz-bind-address": ("healthzBindAddress", "string"),
    "anonymous-auth": ("authentication.anonymous.enabled", "bool"),
    "client-ca-file": ("authentication.x509.clientCAFile", "string"),
    "authentication-token-webhook": ("authentication.webhook.enabled", "bool"),
    "authorization-mode": ("authorization.mode", "string"), "tls-cert-file": ("tlsCertFile", "string"),
    "tls-private-key-file": ("tlsPrivateKeyFile", "string"), "tls-min-version": ("tlsMinVersion", "string"),
    "tls-cipher-suites": ("tlsCipherSuites", "list"), "protect-kernel-defaults": ("protectKernelDefaults", "bool"),
    "pod-manifest-path": ("staticPodPath", "string"),
    "container-runtime-endpoint": ("containerRuntimeEndpoint", "string"),
    "rotate-certificates": ("rotateCertificates", "bool"), "event-qps": ("eventRecordQPS", "int"),
    "make-iptables-util-chains": ("makeIPTablesUtilChains", "bool"),
    "streaming-connection-idle-timeout": ("streamingConnectionIdleTimeout", "string"),
    "fail-swap-on": ("failSwapOn", "bool"), "cgroup-driver": ("cgroupDriver", "string"),
    "enable-server": ("enableServer", "bool"), "feature-gates": ("featureGates", "map"),
    "enable-debugging-handlers": ("enableDebuggingHandlers", "bool"),
}

KERNEL_TUNABLES = (("vm/overcommit_memory", 1), ("vm/panic_on_oom", 0), ("kernel/panic", 10),
                   ("kernel/panic_on_oops", 1), ("kernel/keys/root_maxkeys", 1000000),
                   ("kernel/keys/root_maxbytes", 25000000))


def _dget(obj, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def _dset(obj, dotted, value):
    parts = dotted.split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


def sysctl_conf_values(spec):
    """Values of sysctl.d-style files (systemd-sysctl order: files sorted by name, /etc overrides)."""
    by_name = {}
    for entry in spec.split():
        if os.path.isdir(entry):
            for name in sorted(os.listdir(entry)):
                if name.endswith(".conf"):
                    by_name[name] = os.path.join(entry, name)
        elif os.path.isfile(entry):
            by_name["~" + os.path.basename(entry)] = entry
    values = {}
    for name in sorted(by_name):
        try:
            with open(by_name[name], encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    line = line.strip()
                    if not line or line[0] in "#;" or "=" not in line:
                        continue
                    key, dummy, value = line.partition("=")
                    key = key.strip().lstrip("-").replace(".", "/")
                    values[key] = value.strip()
        except OSError:
            continue
    return values


class Kubelet(Component):
    name = "kubelet"
    structured_cipher_warning = True

    def usage_error(self, message):
        klog("E", "run.go:72", "command failed", err=f"failed to parse kubelet flag: {message}")
        hint = self.flag_hint(message)
        if hint:
            sys.stderr.write(hint)
        return 1

    def positional_error(self, args):
        klog("E", "run.go:72", "command failed", err=f"unknown command {args[0]}")
        return 1

    # -- configuration -----------------------------------------------------------------------------------------
    def defaults(self, from_file):
        if from_file:  # kubelet.config.k8s.io/v1beta1 defaults
            return {"address": "0.0.0.0", "port": 10250, "readOnlyPort": 0, "healthzPort": 10248,
                    "healthzBindAddress": "127.0.0.1", "enableServer": True, "rotateCertificates": False,
                    "serverTLSBootstrap": False, "protectKernelDefaults": False, "failSwapOn": True,
                    "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                                       "x509": {}},
                    "authorization": {"mode": "Webhook"}, "staticPodPath": "",
                    "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock", "tlsMinVersion": "",
                    "tlsCipherSuites": [], "cgroupDriver": "cgroupfs", "eventRecordQPS": 50,
                    "enableDebuggingHandlers": True, "enableProfilingHandler": True}
        return {"address": "0.0.0.0", "port": 10250, "readOnlyPort": 10255, "healthzPort": 10248,
                "healthzBindAddress": "127.0.0.1", "enableServer": True, "rotateCertificates": False,
                "serverTLSBootstrap": False, "protectKernelDefaults": False, "failSwapOn": True,
                "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}, "x509": {}},
                "authorization": {"mode": "AlwaysAllow"}, "staticPodPath": "",
                "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock", "tlsMinVersion": "",
                "tlsCipherSuites": [], "cgroupDriver": "cgroupfs", "eventRecordQPS": 50,
                "enableDebuggingHandlers": True, "enableProfilingHandler": True}

    def load_config_file(self, path):
        prefix = f"failed to load kubelet config file, path: {path}, error: failed to load Kubelet config file {path}"

        try:
            data = self.files.read(path)
        except StandinError as exc:
            raise StandinError(f"{prefix}, error failed to read kubelet config file {go_quote(path)}, error: "
                               f"{exc.message}") from None
        try:
            obj = yaml_load(data, "kubelet config")
            api_version, kind = type_meta(obj, path)
        except ValueError as exc:
            raise StandinError(f"{prefix}, error failed to decode: {exc}") from None
        if kind != "KubeletConfiguration" or api_version != "kubelet.config.k8s.io/v1beta1":
            raise StandinError(f"{prefix}, error failed to decode: " + not_registered(
                kind, api_version, "k8s.io/kubernetes/pkg/kubelet/apis/config/scheme/scheme.go:33"))
        unknown = [k for k in obj if k not in KUBELET_CONFIG_TYPES and k not in ("apiVersion", "kind")]
        try:
            check_field_types(obj, KUBELET_CONFIG_TYPES, "KubeletConfiguration")
            auth = obj.get("authentication") or {}
            check_field_types(auth.get("anonymous") or {}, {"enabled": "bool"}, "KubeletConfiguration",
                              "authentication.anonymous.")
            check_field_types(auth.get("webhook") or {}, {"enabled": "bool", "cacheTTL": "duration"},
                              "KubeletConfiguration", "authentication.webhook.")
            check_field_types(auth.get("x509") or {}, {"clientCAFile": "string"}, "KubeletConfiguration",
                              "authentication.x509.")
            check_field_types(obj.get("authorization") or {}, {"mode": "string"}, "KubeletConfiguration",
                              "authorization.")
            for key, value in (obj.get("featureGates") or {}).items():
                if not isinstance(value, bool):
                    raise ValueError(f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                                     f"KubeletConfiguration.featureGates of type bool")
        except ValueError as exc:
            raise StandinError(f"{prefix}, error failed to decode: {exc}") from None
        if unknown:
            if os.environ.get("TESTBED_KUBELET_STRICT_CONFIG") == "1":
                raise StandinError(f"{prefix}, error failed to decode: {strict_error(unknown)}")
            klog("I", "codec.go:98", "Using lenient decoding as strict decoding failed", err=strict_error(unknown))
        return obj

    def merged_config(self):
        f = self.flags
        path = f.get_str("config")
        cfg = self.defaults(bool(path))
        if path:
            file_cfg = self.load_config_file(path)
            for key, default in (("address", "0.0.0.0"), ("port", 10250), ("healthzBindAddress", "127.0.0.1"),
                                 ("cgroupDriver", "cgroupfs"),
                                 ("containerRuntimeEndpoint", "unix:///run/containerd/containerd.sock")):
                if file_cfg.get(key) in ("", 0, None):  # SetDefaults_KubeletConfiguration: zero values
                    file_cfg[key] = default
            for key, value in file_cfg.items():
                if key in ("authentication", "authorization") and isinstance(value, dict):
                    for sub, subval in value.items():
                        if isinstance(subval, dict) and isinstance(cfg[key].get(sub), dict):
                            cfg[key][sub].update(subval)
                        else:
                            cfg[key][sub] = subval
                else:
                    cfg[key] = value
        for flag, (field, typ) in KUBELET_FLAG_FIELDS.items():
            if not f.changed(flag) or flag not in f.spec:
                continue
            if typ == "bool":
                value = f.get_bool(flag)
            elif typ == "int":
                value = f.get_int(flag)
            elif typ == "list":
                value = f.get_list(flag)
            elif typ == "map":
                value = {k: go_parse_bool(v) for k, v in f.get_map(flag).items()}
            else:
                value = f.get_str(flag)
            _dset(cfg, field, value)
        return cfg

    def validate(self, cfg):
        errs = []

        def port_ok(value, low):
            return isinstance(value, int) and low <= value <= 65535

        if cfg.get("healthzPort", 0) != 0 and not port_ok(cfg.get("healthzPort"), 1):
            errs.append(f"invalid configuration: healthzPort (--healthz-port) {cfg.get('healthzPort')} must be between "
                        "1 and 65535, inclusive")
        if not port_ok(cfg.get("readOnlyPort", 0), 0):
            errs.append(f"invalid configuration: readOnlyPort (--read-only-port) {cfg.get('readOnlyPort')} must be "
                        "between 0 and 65535, inclusive")
        if not port_ok(cfg.get("port", 10250), 1):
            errs.append(f"invalid configuration: port (--port) {cfg.get('port')} must be between 1 and 65535, "
                        "inclusive")
        if isinstance(cfg.get("eventRecordQPS"), int) and cfg["eventRecordQPS"] < 0:
            errs.append(f"invalid configuration: eventRecordQPS (--event-qps) {cfg['eventRecordQPS']} must not be a "
                        "negative number")
        if cfg.get("cgroupDriver") not in ("cgroupfs", "systemd"):
            errs.append(f"invalid configuration: cgroupDriver (--cgroup-driver) {go_quote(cfg.get('cgroupDriver'))} "
                        "must be one of cgroupfs or systemd")
        return errs

    # -- start -------------------------------------------------------------------------------------------------
    def start(self):
        f = self.flags
        cfg = self.merged_config()
        self.cfg = cfg
        errs = self.validate(cfg)
        if errs:
            agg = errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
            raise StandinError(f"failed to validate kubelet configuration, error: {agg}, path: "
                               f"{f.get_str('config') or '<flags>'}")
        klog("I", "server.go:484", "Kubelet version", kubeletVersion=f"v{self.version}")

        # InitializeTLS
        cert_dir = f.get_str("cert-dir", "/var/lib/kubelet/pki")
        tls_cert, tls_key = cfg.get("tlsCertFile") or "", cfg.get("tlsPrivateKeyFile") or ""
        self.serving = None
        self.no_serving_cert = False
        try:
            min_version = check_tls_version(cfg.get("tlsMinVersion") or "")
            ciphers = check_cipher_suites(cfg.get("tlsCipherSuites") or [], "server.go:1290", True)
        except StandinError as exc:
            raise StandinError(f"failed to construct kubelet dependencies: {exc.message}") from None
        if min_version == ssl.TLSVersion.TLSv1_3 and cfg.get("tlsCipherSuites"):
            klog("I", "server.go:1296", "Warning: TLS 1.3 cipher suites are not configurable, ignoring "
                                        "--tls-cipher-suites")
        if not tls_cert and not tls_key:
            if cfg.get("serverTLSBootstrap"):
                current = os.path.join(cert_dir, "kubelet-server-current.pem")
                if os.path.exists(current):
                    tls_cert = tls_key = current
                else:
                    self.no_serving_cert = True
            else:
                try:
                    self.serving = self_signed_pair(cert_dir, socket.gethostname(), "kubelet")
                except (OSError, StandinError) as exc:
                    msg = exc.message if isinstance(exc, StandinError) else str(exc)
                    raise StandinError(f"failed to construct kubelet dependencies: {msg}") from None
        client_ca = _dget(cfg, "authentication.x509.clientCAFile") or ""
        self.client_ca = None
        if client_ca:
            try:
                self.client_ca = load_ca(self.files, client_ca, lambda e: e)
            except StandinError as exc:
                raise StandinError(f"failed to construct kubelet dependencies: unable to load client CA file "
                                   f"{client_ca}: {exc.message}") from None

        # client config (kubeconfig / bootstrap)
        kubeconfig = f.get_str("kubeconfig")
        bootstrap = f.get_str("bootstrap-kubeconfig")
        standalone = not kubeconfig
        if standalone:
            klog("I", "server.go:676", "Standalone mode, no API client")
        else:
            self.check_client_config(kubeconfig, bootstrap, cfg.get("rotateCertificates"))
        webhook_authn = bool(_dget(cfg, "authentication.webhook.enabled"))
        mode = _dget(cfg, "authorization.mode", "AlwaysAllow")
        if mode not in ("AlwaysAllow", "Webhook"):
            raise StandinError(f"failed to run Kubelet: unknown authorization mode {mode}")
        if standalone and webhook_authn:
            raise StandinError("failed to run Kubelet: no client provided, cannot use webhook authentication")
        if standalone and mode == "Webhook":
            raise StandinError("failed to run Kubelet: no client provided, cannot use webhook authorization")

        # CRI
        self.check_runtime(cfg.get("containerRuntimeEndpoint") or "")

        # kernel tunables (ContainerManager.Start -> setupNode)
        if cfg.get("protectKernelDefaults"):
            problems = self.kernel_tunable_errors()
            if problems:
                raise StandinError(problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]",
                                   where="kubelet.go:1649", msg="Failed to start ContainerManager")

        # serving
        self.anonymous = bool(_dget(cfg, "authentication.anonymous.enabled"))
        self.authz_mode = mode
        if cfg.get("enableServer", True):
            host = cfg.get("address") or "0.0.0.0"
            if self.no_serving_cert:
                self.listen_no_cert(host, int(cfg.get("port", 10250)))
            else:
                if tls_cert or tls_key:
                    try:
                        cert_host, key_host = load_pair(self.files, tls_cert, tls_key, lambda e: e)
                    except StandinError as exc:
                        raise StandinError(exc.message, where="server.go:197",
                                           msg="Failed to listen and serve") from None
                else:
                    cert_host, key_host = self.serving
                ctx = make_server_context(cert_host, key_host, min_version, ciphers,
                                          [self.client_ca] if self.client_ca else [])
                self.listen(host, int(cfg.get("port", 10250)), KubeletAPI(self, secure=True), ctx, "kubelet")
                klog("I", "server.go:163", "Starting to listen", address=host, port=int(cfg.get("port", 10250)))
        if int(cfg.get("readOnlyPort") or 0) > 0:
            host = cfg.get("address") or "0.0.0.0"
            self.listen(host, int(cfg["readOnlyPort"]), KubeletAPI(self, secure=False), None, "read-only")
            klog("I", "server.go:219", "Starting to listen read-only", address=host, port=int(cfg["readOnlyPort"]))
        if int(cfg.get("healthzPort") or 0) > 0:
            self.listen(cfg.get("healthzBindAddress") or "127.0.0.1", int(cfg["healthzPort"]), KubeletHealthz(),
                        None, "healthz")
        klog("I", "kubelet.go:2423", "Started kubelet")

    def check_client_config(self, kubeconfig, bootstrap, rotate):
        try:
            load_kubeconfig(self.files, kubeconfig)
            return
        except StandinError as exc:
            kubeconfig_error = exc.message
        if bootstrap:
            if not self.files.exists(bootstrap):
                raise StandinError(f"failed to run Kubelet: unable to load bootstrap kubeconfig: "
                                   f"{enoent('stat', bootstrap)}")
            try:
                load_kubeconfig(self.files, bootstrap)
            except StandinError as exc:
                raise StandinError(f"failed to run Kubelet: unable to load bootstrap kubeconfig: {exc.message}") \
                    from None
            klog("I", "bootstrap.go:101", "testbed: the kubelet would now request a client certificate with the "
                                          "bootstrap kubeconfig (TLS bootstrap is not emulated)",
                 kubeconfig=kubeconfig)
            return
        if rotate:
            raise StandinError(f"failed to run Kubelet: unable to load kubeconfig: {kubeconfig_error}")
        raise StandinError(f"failed to run Kubelet: invalid kubeconfig: {kubeconfig_error}")

    def check_runtime(self, endpoint):
        if not endpoint:
            raise StandinError("failed to run Kubelet: validate service connection: a container runtime endpoint "
                               "is required (containerRuntimeEndpoint / --container-runtime-endpoint)")
        parsed = urllib.parse.urlsplit(endpoint)
        path = parsed.path if parsed.scheme == "unix" else (endpoint if parsed.scheme == "" else None)
        prefix = (f"failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "
                  f"{go_quote(endpoint)}: rpc error: code = Unavailable desc = connection error: desc = "
                  "\"transport: Error while dialing: ")
        if path is None:
            raise StandinError(f"failed to run Kubelet: validate service connection: protocol {go_quote(parsed.scheme)}"
                               " not supported")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(path)
        except FileNotFoundError:
            raise StandinError(prefix + f"dial unix {path}: connect: no such file or directory\"") from None
        except ConnectionRefusedError:
            raise StandinError(prefix + f"dial unix {path}: connect: connection refused\"") from None
        except OSError as exc:
            raise StandinError(prefix + f"dial unix {path}: connect: {(exc.strerror or str(exc)).lower()}\"") \
                from None
        finally:
            sock.close()

    def kernel_tunable_errors(self):
        root = _env("TESTBED_SYSCTL_ROOT", "/proc/sys")
        overrides = sysctl_conf_values(os.environ["TESTBED_SYSCTL_CONF_DIRS"]) \
            if os.environ.get("TESTBED_SYSCTL_CONF_DIRS") else {}
        errs = []
        for flag, expected in KERNEL_TUNABLES:
            raw = overrides.get(flag)
            if raw is None:
                path = os.path.join(root, flag)
                try:
                    with open(path, encoding="utf-8") as handle:
                        raw = handle.read().strip()
                except OSError as exc:
                    errs.append(f"open {os.path.join('/proc/sys', flag)}: "
                                f"{(exc.strerror or str(exc)).lower()}")
                    continue
            try:
                value = int(raw.split()[0])
            except (ValueError, IndexError):
                errs.append(f"strconv.Atoi: parsing {go_quote(raw)}: invalid syntax")
                continue
            if value != expected:
                errs.append(f"invalid kernel flag: {flag}, expected value: {expected}, actual value: {value}")
        return errs

    def listen_no_cert(self, host, port):
        """serverTLSBootstrap without an approved serving certificate: handshakes fail."""
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StandinError(f"listen tcp {host}:{port}: bind: {(exc.strerror or str(exc)).lower()}",
                               where="server.go:197", msg="Failed to listen and serve") from None
        sock.listen(16)

        def loop():
            while True:
                try:
                    conn, addr = sock.accept()
                except OSError:
                    return
                klogf("I", "server.go:3286", f"http: TLS handshake error from {addr[0]}:{addr[1]}: no serving "
                                             "certificate available for the kubelet")
                conn.close()

        threading.Thread(target=loop, daemon=True).start()
        klog("I", "server.go:163", "Starting to listen", address=host, port=port)
        klog("I", "certificate_manager.go:356", "testbed: serverTLSBootstrap is on and no serving certificate has "
                                                "been issued (no CSR approval in the testbed)")


class KubeletHealthz:
    def handle(self, req):
        if req.path in ("/healthz", "/healthz/ping", "/healthz/syncloop"):
            return text(200, "ok")
        return NOT_FOUND


class KubeletAPI:
    SUBRESOURCES = (("/stats", "stats"), ("/metrics", "metrics"), ("/logs", "log"), ("/checkpoint", "checkpoint"))

    def __init__(self, kubelet, secure):
        self.kubelet = kubelet
        self.secure = secure

    def handle(self, req):
        k = self.kubelet
        if self.secure:
            user = req.cert_user() if k.client_ca else None
            if user is None:
                if req.bearer_token() is not None or not k.anonymous:
                    return text(401, "Unauthorized")
                if k.authz_mode != "AlwaysAllow":
                    sub = "proxy"
                    for prefix, name in self.SUBRESOURCES:
                        if req.path.startswith(prefix):
                            sub = name
                    return text(403, f"Forbidden (user=system:anonymous, verb={req.verb}, resource=nodes, "
                                     f"subresource={sub})")
        path = req.path
        if path in ("/healthz", "/healthz/ping", "/healthz/syncloop"):
            return text(200, "ok")
        if path in ("/pods", "/pods/"):
            return as_json(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []})
        if path.startswith("/spec"):
            return as_json(200, {"num_cores": os.cpu_count() or 1})
        if path.startswith("/stats"):
            return as_json(200, {"node": {"nodeName": socket.gethostname()}, "pods": []})
        if path.startswith("/metrics"):
            return text(200, METRICS_BODY)
        if not self.secure:
            return NOT_FOUND
        if path == "/configz":
            return as_json(200, {"kubeletconfig": k.cfg})
        if path.startswith("/debug/pprof"):
            return text(200, PPROF_INDEX) if k.cfg.get("enableProfilingHandler", True) and \
                k.cfg.get("enableDebuggingHandlers", True) else NOT_FOUND
        if path.startswith(("/logs", "/run", "/exec", "/attach", "/portForward", "/containerLogs", "/runningpods")):
            if not k.cfg.get("enableDebuggingHandlers", True):
                return NOT_FOUND
            return text(200, "")
        return NOT_FOUND


# --------------------------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------------------------

CLASSES = {"kube-apiserver": APIServer, "kube-controller-manager": ControllerManager, "kube-scheduler": Scheduler,
           "kube-proxy": KubeProxy, "kubelet": Kubelet}


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    component = os.path.basename(argv[0])
    args = argv[1:]
    if component not in COMPONENTS:
        if args and args[0] in COMPONENTS:
            component, args = args[0], args[1:]
        else:
            sys.stderr.write("usage: standin.py {" + ",".join(COMPONENTS) + "} [flags...]\n")
            return 2
    _set_process_name(component)
    try:
        version = read_version()
        k8s_flags = load_k8s_flags()
        instance = CLASSES[component](version, k8s_flags)
    except StandinError as exc:
        klog("E", exc.where, exc.msg, err=exc.message)
        return 1
    return instance.run(args)


def _process_argv0():
    """argv[0] as the kernel recorded it: the launcher re-executes us with the binary's path there."""
    try:
        with open("/proc/self/cmdline", "rb") as handle:
            return handle.read().split(b"\0", 1)[0].decode()
    except OSError:
        return sys.argv[0]


def _set_process_name(component):
    """Name the process like the real binary (comm is what `ps -C`/`pgrep` match; 15 characters at most)."""
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, component.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main([_process_argv0()] + sys.argv[1:]))
