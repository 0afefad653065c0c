# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd's own flag set per minor (3.4, 3.5, 3.6, 3.7) and structured edits of an etcd environment file.

Standard library only (runs on target nodes). etcd exits at start-up on a flag it does not know
(``flag provided but not defined``), so every flag is checked against the detected version before anything is
written.

Public API::

    SUPPORTED_MINORS = ("3.4", "3.5", "3.6", "3.7")
    minor(version) -> "3.4"                  # "3.4.23", "v3.5.21-0", "3.6" ; ValueError if unsupported
    parse_version_output(text) -> "3.4.23" | None      # the output of `etcd --version`
    flags_for(version) -> {name: type}
    check_flag(version, name) -> str | None  # None when accepted, else a sentence naming flag and version
    check_value(version, name, value) -> str | None
    env_name(flag) -> "ETCD_CLIENT_CERT_AUTH";  flag_of_env(var) -> "client-cert-auth" | None
    public_env(env) -> {ETCD_*: value | "<redacted>"}  # what may leave the node of an environment
    parse_environ_bytes(data) -> {NAME: value}          # /proc/PID/environ
    apply_env(argv_flags, env) -> ({flag: (var, value)}, [conflicting vars])
    edit_env(text, flags, remove_flags, version) -> EnvEdit

The 3.4 list is the ``etcd --help`` of Debian's etcd 3.4.23; 3.5 follows etcd's CHANGELOG-3.5. 3.6 and 3.7 are
checked against the etcd binaries that kubeadm 1.34-1.37 run (tests/testbed/flags/<minor>.json, asked flag by
flag of the binary; tests/unit/testbed/test_real_flags.py): flags renamed out of ``experimental-`` in 3.6 keep
their experimental name until 3.7, which drops them and v2 discovery. Flags whose history is unsure are listed
only for the versions known to accept them: refusing a valid flag is safe, writing an unknown one is not.
"""

from __future__ import annotations

import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args import parse_argv, split_command_line
from ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_version import minor as _minor, minor_key as _key

SUPPORTED_MINORS = ("3.4", "3.5", "3.6", "3.7")

_B, _S, _I, _U, _D, _URLS = "bool", "string", "int", "uint", "duration", "urls"

# name -> (type, first minor, minor it was removed in or None)
_FLAGS = {}


def _add(names, kind, since="3.4", removed=None):
    for name in names.split():
        _FLAGS[name] = (kind, since, removed)


_add("name data-dir wal-dir initial-cluster initial-cluster-state initial-cluster-token discovery discovery-fallback "
     "discovery-proxy discovery-srv discovery-srv-name auto-compaction-retention auto-compaction-mode "
     "cert-file key-file client-crl-file client-cert-allowed-hostname trusted-ca-file peer-cert-file peer-key-file "
     "peer-trusted-ca-file peer-cert-allowed-cn peer-cert-allowed-hostname peer-crl-file cipher-suites cors "
     "host-whitelist auth-token metrics logger log-outputs log-level config-file "
     "experimental-backend-bbolt-freelist-type", _S)
_add("snapshot-count heartbeat-interval election-timeout max-snapshots max-wals max-txn-ops max-request-bytes "
     "max-concurrent-streams bcrypt-cost auth-token-ttl", _U)
_add("quota-backend-bytes backend-batch-limit experimental-compaction-batch-limit", _I)
_add("backend-batch-interval grpc-keepalive-min-time grpc-keepalive-interval grpc-keepalive-timeout "
     "experimental-corrupt-check-time experimental-watch-progress-notify-interval "
     "experimental-warning-apply-duration", _D)
_add("listen-peer-urls listen-client-urls initial-advertise-peer-urls advertise-client-urls listen-metrics-urls",
     _URLS)
_add("initial-election-tick-advance strict-reconfig-check pre-vote client-cert-auth auto-tls peer-client-cert-auth "
     "peer-auto-tls enable-pprof force-new-cluster version experimental-initial-corrupt-check "
     "experimental-enable-lease-checkpoint experimental-peer-skip-client-san-verification", _B)
_add("enable-v2", _B, removed="3.6")
_add("experimental-enable-v2v3", _S, removed="3.6")
_add("debug", _B, removed="3.5")
_add("log-package-levels", _S, removed="3.5")
_add("proxy", _S, removed="3.5")
_add("proxy-failure-wait proxy-refresh-interval proxy-dial-timeout proxy-write-timeout proxy-read-timeout", _U,
     removed="3.5")
# 3.5
_add("tls-min-version tls-max-version client-cert-file client-key-file backend-bbolt-freelist-type v2-deprecation "
     "log-rotation-config-json experimental-distributed-tracing-address "
     "experimental-distributed-tracing-service-name experimental-distributed-tracing-instance-id", _S, "3.5")
_add("self-signed-cert-validity", _U, "3.5")
_add("listen-client-http-urls", _URLS, "3.5")
_add("socket-reuse-port socket-reuse-address unsafe-no-fsync enable-log-rotation "
     "experimental-enable-distributed-tracing experimental-txn-mode-write-with-shared-buffer "
     "experimental-memory-mlock experimental-compact-hash-check-enabled "
     "experimental-enable-lease-checkpoint-persist experimental-stop-grpc-service-on-defrag", _B, "3.5")
_add("experimental-downgrade-check-time experimental-compaction-sleep-interval experimental-compact-hash-check-time "
     "experimental-wait-cluster-ready-timeout experimental-warning-unary-request-duration", _D, "3.5")
_add("experimental-snapshot-catchup-entries experimental-max-learners "
     "experimental-bootstrap-defrag-threshold-megabytes", _U, "3.5")
# 3.6: feature gates, and the experimental flags under their final names
_add("feature-gates", _S, "3.6")
_add("watch-progress-notify-interval corrupt-check-time compact-hash-check-time warning-apply-duration "
     "warning-unary-request-duration downgrade-check-time compaction-sleep-interval", _D, "3.6")
_add("snapshot-catchup-entries bootstrap-defrag-threshold-megabytes", _U, "3.6")
_add("max-learners", _I, "3.6")
_add("compaction-batch-limit", _I, "3.6")
_add("memory-mlock peer-skip-client-san-verification enable-distributed-tracing discovery-insecure-transport "
     "discovery-insecure-skip-tls-verify enable-grpc-gateway", _B, "3.6")
# The v3 discovery client, tracing and logging flags etcd 3.6 has (found on the binaries; whether 3.5 had them is
# not checked, so they are refused there).
_add("discovery-endpoints discovery-token discovery-user discovery-password discovery-key discovery-cert "
     "discovery-cacert distributed-tracing-address distributed-tracing-instance-id distributed-tracing-service-name "
     "log-format peer-client-cert-file peer-client-key-file", _S, "3.6")
_add("discovery-dial-timeout discovery-request-timeout discovery-keepalive-time discovery-keepalive-timeout "
     "raft-read-timeout raft-write-timeout", _D, "3.6")
_add("distributed-tracing-sampling-rate experimental-distributed-tracing-sampling-rate", _I, "3.6")


def _removed(names, removed):
    for name in names.split():
        kind, since, dummy = _FLAGS[name]
        _FLAGS[name] = (kind, since, removed)


# 3.6 turned these into feature gates or dropped them.
_removed("experimental-backend-bbolt-freelist-type experimental-max-learners experimental-wait-cluster-ready-timeout",
         "3.6")
# 3.7 drops every experimental- name (their final names exist since 3.6) and the v2 discovery service.
_removed(" ".join(name for name in _FLAGS if name.startswith("experimental-") and _FLAGS[name][2] is None), "3.7")
_removed("discovery discovery-proxy", "3.7")

# Flags naming a file etcd reads at start-up.
FILE_FLAGS = frozenset(("cert-file", "key-file", "trusted-ca-file", "client-crl-file", "peer-cert-file",
                        "peer-key-file", "peer-trusted-ca-file", "peer-crl-file", "client-cert-file",
                        "client-key-file", "peer-client-cert-file", "peer-client-key-file", "config-file"))
# Allowed values of the enumerated string flags, per minor where they differ.
# every name etcd has had -> its type, for reading a command line
_FLAG_TYPES = dict((name, entry[0]) for name, entry in _FLAGS.items())

_CHOICES = {
    "initial-cluster-state": {"3.4": ("new", "existing")},
    "auto-compaction-mode": {"3.4": ("periodic", "revision")},
    "metrics": {"3.4": ("basic", "extensive")},
    "logger": {"3.4": ("zap", "capnslog"), "3.5": ("zap",)},
    "log-level": {"3.4": ("debug", "info", "warn", "error", "panic", "fatal")},
    "tls-min-version": {"3.5": ("TLS1.2", "TLS1.3")},
    "tls-max-version": {"3.5": ("", "TLS1.2", "TLS1.3")},
}

_DURATION_RE = re.compile(r"^[-+]?(0|(\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h))+$")
_BOOL_VALUES = ("1", "0", "t", "f", "T", "F", "true", "false", "TRUE", "FALSE", "True", "False")
_URL_RE = re.compile(r"^(https?|unixs?)://[^\s,/]+(/[^\s,]*)?$")


def minor(version):
    """``3.4.23`` / ``v3.5.21-0`` / ``3.6`` -> ``3.4`` ...; ValueError when not an etcd minor this module knows."""
    return _minor(version, SUPPORTED_MINORS, product="etcd")


def parse_version_output(text):
    """The version in the output of ``etcd --version`` (``etcd Version: 3.4.23``), or None."""
    match = re.search(r"etcd Version:\s*v?(\d+\.\d+\.\d+)", text or "")
    return match.group(1) if match else None


def _accepted(entry, minor_text):
    dummy, since, removed = entry
    return _key(since) <= _key(minor_text) and (removed is None or _key(minor_text) < _key(removed))


def flags_for(version):
    """{flag name: type} etcd of that version accepts."""
    mnr = minor(version)
    return dict((name, entry[0]) for name, entry in _FLAGS.items() if _accepted(entry, mnr))


def normalize_flag(name):
    """``--peer_auto_tls=x`` -> ``peer-auto-tls``."""
    return str(name).strip().lstrip("-").partition("=")[0].replace("_", "-")


def check_flag(version, name):
    """None when etcd of ``version`` accepts ``--name``; otherwise why not, in one sentence."""
    mnr = minor(version)
    name = normalize_flag(name)
    entry = _FLAGS.get(name)
    if entry is None:
        return "--%s is not an etcd flag (etcd %s would exit: flag provided but not defined)" % (name, mnr)
    if _accepted(entry, mnr):
        return None
    if _key(mnr) < _key(entry[1]):
        return "--%s is not accepted by etcd %s: it was added in etcd %s" % (name, mnr, entry[1])
    return "--%s is not accepted by etcd %s: it was removed in etcd %s" % (name, mnr, entry[2])


def _choices(name, mnr):
    table = _CHOICES.get(name)
    if not table:
        return None
    known = [m for m in table if _key(m) <= _key(mnr)]
    return table[max(known, key=_key)] if known else None


def check_value(version, name, value):
    """None when ``value`` parses as etcd of ``version`` parses ``--name``; otherwise why not."""
    name = normalize_flag(name)
    problem = check_flag(version, name)
    if problem:
        return problem
    mnr = minor(version)
    kind = _FLAGS[name][0]
    text = format_value(value)
    if kind == _B and text not in _BOOL_VALUES:
        return "--%s=%s: etcd expects a boolean (true or false)" % (name, text)
    if kind in (_I, _U) and not re.match(r"^%s\d+$" % ("-?" if kind == _I else ""), text):
        return "--%s=%s: etcd expects %s integer" % (name, text, "an" if kind == _I else "a non-negative")
    if kind == _D and not _DURATION_RE.match(text):
        return "--%s=%s: etcd expects a Go duration such as 5s or 1m30s" % (name, text)
    if kind == _URLS:
        bad = [u for u in text.split(",") if not _URL_RE.match(u.strip())]
        if not text or bad:
            return "--%s=%s: etcd expects a comma list of URLs (scheme://host:port), not %s" % (
                name, text, ", ".join(repr(b) for b in bad) or "an empty value")
    choices = _choices(name, mnr)
    if choices is not None and text not in choices:
        return "--%s=%s: etcd %s accepts %s" % (name, text, mnr, ", ".join(c or "''" for c in choices))
    return None


def format_value(value):
    """A requested value as etcd reads it (bools lower case, lists comma-joined)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    return str(value)


def env_name(flag):
    return "ETCD_" + normalize_flag(flag).upper().replace("-", "_")


def flag_of_env(var):
    """``ETCD_CLIENT_CERT_AUTH`` -> ``client-cert-auth`` (None for anything else)."""
    if not var.startswith("ETCD_") or len(var) <= 5:
        return None
    return var[5:].lower().replace("_", "-")


# Flags whose value can carry a credential (3.6 v3 discovery user/password/token, a v2 discovery URL with its
# token, a proxy URL with user:password) or a cluster-joining token: their values never leave the node.
_SECRET_FLAG_RE = re.compile(r"password|secret|discovery|(?<!auth-)token")
_URL_USERINFO_RE = re.compile(r"://[^/@\s]+@")
REDACTED = "<redacted>"


def public_env(env):
    """The ``ETCD_*`` part of an environment, safe to report: ``{var: value}``.

    Any other variable is dropped (``ETCDCTL_PASSWORD`` included). A value is kept only when the variable is an
    etcd flag that cannot hold a credential; otherwise (unknown variable, secret-bearing flag, URL with user
    info) the variable is reported with the value ``<redacted>``.
    """
    out = {}
    for var, value in (env or {}).items():
        flag = flag_of_env(str(var))
        if flag is None:
            continue
        value = "" if value is None else str(value)
        if flag not in _FLAGS or _SECRET_FLAG_RE.search(flag) or _URL_USERINFO_RE.search(value):
            value = REDACTED
        out[var] = value
    return out


def parse_environ_bytes(data):
    """``/proc/PID/environ`` content (NUL separated ``NAME=value``) -> ``{NAME: value}``."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    out = {}
    for entry in (data or "").split("\0"):
        name, eq, value = entry.partition("=")
        if eq and name:
            out[name] = value
    return out


def apply_env(argv_flags, env):
    """What etcd takes from its environment next to a command line, as ``pkg/flags.SetFlagsFromEnv`` does.

    ``argv_flags``: the flag names given on the command line; ``env``: ``{var: value}``. An ``ETCD_<FLAG>``
    applies when ``<flag>`` is an etcd flag not given on the command line; when it is given there too, etcd
    3.4/3.5 refuse to start ("conflicting environment variable ... is shadowed by corresponding command-line
    flag"). Returns ``(applied, conflicts)``: ``{flag: (var, value)}`` in variable order and the conflicting
    variable names, sorted; the command line wins for those.
    """
    given = set(normalize_flag(f) for f in argv_flags or ())
    applied, conflicts = {}, []
    for var in sorted(env or {}):
        flag = flag_of_env(var)
        if flag is None or flag not in _FLAGS:
            continue
        if flag in given:
            conflicts.append(var)
        else:
            applied[flag] = (var, env[var])
    return applied, conflicts


# ------------------------------------------------------------------------------------------------------------
# environment file (systemd EnvironmentFile=, e.g. Debian's /etc/default/etcd)
# ------------------------------------------------------------------------------------------------------------

_ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
ARGS_VARIABLES = ("DAEMON_ARGS", "ETCD_OPTS", "ETCD_ARGS")


def _unquote(raw):
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


def _quote(value):
    if value == "" or re.search(r"[\s\"'\\$`#]", value):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    return value


def parse_env(text):
    """{variable: value} of an environment file (the last assignment wins, as systemd reads it)."""
    values = {}
    for line in (text or "").splitlines():
        match = _ASSIGN_RE.match(line)
        if match and not line.lstrip().startswith("#"):
            values[match.group(1)] = _unquote(match.group(2))
    return values


def _args_flags(args_text):
    """{flag: value} of a command-line string such as DAEMON_ARGS, read as etcd reads its argv (Go's flag package:
    no ``_`` folding; a bare bool is ``true``)."""
    args = parse_argv(split_command_line(args_text or ""), flag_types=_FLAG_TYPES, has_program=False,
                      normalize=False)
    return dict((name, args.get(name)) for name in args.flags)


def effective_flags(text):
    """{flag: value} an etcd started with this environment file gets from it (ETCD_* and DAEMON_ARGS-style)."""
    env = parse_env(text)
    flags = {}
    for var, value in env.items():
        flag = flag_of_env(var)
        if flag:
            flags[flag] = value
    for var in ARGS_VARIABLES:
        flags.update(_args_flags(env.get(var)))
    return flags


class EnvEdit(object):
    def __init__(self):
        self.text = None
        self.changed = False
        self.flags_changed = {"added": {}, "changed": {}, "removed": {}}
        self.errors = []
        self.before = {}
        self.after = {}


def edit_env(text, flags=None, remove_flags=None, version=None):
    """Set ``flags`` ({name: value}) and remove ``remove_flags`` in an environment file's text, one ``ETCD_*``
    line per flag (replaced in place, appended otherwise; comments and other lines kept).

    A flag also given in DAEMON_ARGS (or ETCD_OPTS/ETCD_ARGS) is refused: etcd 3.4+ exits when an ETCD_* variable
    and a command-line flag name the same setting, and editing a command string is not structural."""
    result = EnvEdit()
    text = text or ""
    result.before = effective_flags(text)
    env = parse_env(text)
    on_command_line = {}
    for var in ARGS_VARIABLES:
        for name in _args_flags(env.get(var)):
            on_command_line[name] = var
    for var, value in env.items():
        flag = flag_of_env(var)
        if flag and var not in ARGS_VARIABLES:
            problem = check_flag(version, flag)
            if problem:
                result.errors.append("%s (set by %s in the file)" % (problem, var))
    wanted = {}
    for name, value in (flags or {}).items():
        name = normalize_flag(name)
        problem = check_value(version, name, value)
        if problem:
            result.errors.append(problem)
            continue
        wanted[name] = format_value(value)
    for name in remove_flags or []:
        wanted[normalize_flag(name)] = None
    for name in sorted(wanted):
        if name in on_command_line:
            result.errors.append("--%s is set in %s of the environment file; move it to %s (etcd exits when a flag "
                                 "and its ETCD_* variable are both set)"
                                 % (name, on_command_line[name], env_name(name)))
    if result.errors:
        return result

    lines = text.splitlines()
    done = set()
    out = []
    for line in lines:
        match = _ASSIGN_RE.match(line)
        flag = flag_of_env(match.group(1)) if match and not line.lstrip().startswith("#") else None
        if flag in wanted:
            if flag in done or wanted[flag] is None:
                continue
            done.add(flag)
            current = _unquote(match.group(2))
            out.append(line if current == wanted[flag] else "%s=%s" % (env_name(flag), _quote(wanted[flag])))
            continue
        out.append(line)
    for name in sorted(wanted):
        if wanted[name] is not None and name not in done:
            out.append("%s=%s" % (env_name(name), _quote(wanted[name])))
    new_text = "\n".join(out) + ("\n" if out else "")
    result.text = new_text
    result.after = effective_flags(new_text)
    for name in sorted(set(result.before) | set(result.after)):
        if name not in result.after:
            result.flags_changed["removed"][name] = result.before[name]
        elif name not in result.before:
            result.flags_changed["added"][name] = result.after[name]
        elif result.before[name] != result.after[name]:
            result.flags_changed["changed"][name] = {"before": result.before[name], "after": result.after[name]}
    result.changed = new_text != text
    return result


def file_paths(flags):
    """[(flag, path)] of the flags naming files etcd reads, for the pre-write existence checks."""
    return [(name, flags[name]) for name in sorted(flags) if name in FILE_FLAGS and flags[name]]
