"""What every stand-in shares: klog-style logging, the start-up and usage errors, the node's version, the
k8s_flags module, and Go's value parsers (strconv, time.ParseDuration) with Go's error messages.
"""

from __future__ import annotations

import csv
import datetime
import importlib.util
import io
import json
import os
import re
import sys
import threading


COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
# /usr/local/lib/testbed on the node: standin.py, this package and k8s_flags.py sit there side by side.
LIB_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def env_value(name, default):
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
    path = env_value("TESTBED_VERSION_FILE", "/etc/testbed/version")
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
    """Import k8s_flags: $TESTBED_K8S_FLAGS, else next to standin.py (test node), else the repository copy.

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
