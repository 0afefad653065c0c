# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse Kubernetes component command lines the way pflag (and Go's flag package) do.

Standard library only: this file runs on target nodes (inside node_facts) and on the controller.

The input is an argv list as found in ``/proc/PID/cmdline`` (NUL separated) or in a static pod manifest's
``command`` + ``args``. The result is a :class:`ParsedArgs`:

* ``--name=value`` and ``-name=value`` set ``name`` to ``value``;
* ``--name value`` consumes the next token as the value unless ``name`` is a boolean flag (pflag needs
  ``--bool=false``; a bare ``--bool`` means ``true``) or the next token looks like a flag;
* a repeated flag keeps every value in order; :meth:`ParsedArgs.get` returns the last one (pflag semantics for
  scalar flags), :meth:`ParsedArgs.get_list` concatenates all occurrences (pflag ``StringSlice`` semantics:
  ``--enable-admission-plugins=A --enable-admission-plugins=B`` enables A and B), :meth:`ParsedArgs.get_map`
  merges all occurrences of ``K=V,K2=V2`` flags such as ``--feature-gates``;
* ``--`` ends flag parsing; other tokens are positional arguments.

Which flags are boolean is known from a type table (``flag_types``, e.g. from ``k8s_flags.flags_for``) when
one is given, else from :data:`KNOWN_BOOL_FLAGS`, the boolean flags of the components this collection audits.
"""

from __future__ import annotations

import re
import shlex

__all__ = [
    "KNOWN_BOOL_FLAGS",
    "ParsedArgs",
    "normalizes_names",
    "parse_argv",
    "tokenize",
    "parse_cmdline_bytes",
    "split_list",
    "parse_map",
    "to_bool",
    "parse_duration",
    "parse_env_file",
    "systemd_exec_argv",
]

TRUE_STRINGS = frozenset(("1", "t", "T", "TRUE", "true", "True"))
FALSE_STRINGS = frozenset(("0", "f", "F", "FALSE", "false", "False"))

# Boolean flags of kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, etcd and
# containerd that matter for parsing ``--flag value`` correctly when no type table is available. A bool flag
# given as a bare ``--flag`` never consumes the following token.
KNOWN_BOOL_FLAGS = frozenset((
    # shared by several components
    "profiling", "contention-profiling", "help", "version", "logtostderr", "alsologtostderr",
    "add-dir-header", "skip-headers", "skip-log-headers", "one-output", "permit-port-sharing",
    "permit-address-sharing", "authentication-tolerate-lookup-failure", "authentication-skip-lookup",
    "leader-elect", "enable-garbage-collector", "anonymous-auth", "authentication-token-webhook",
    # kube-apiserver
    "allow-privileged", "enable-bootstrap-token-auth", "service-account-lookup", "enable-aggregator-routing",
    "enable-priority-and-fairness", "enable-logs-handler", "audit-log-compress", "audit-log-truncate-enabled",
    "audit-webhook-truncate-enabled", "audit-log-batch-throttle-enable", "audit-webhook-batch-throttle-enable",
    "service-account-extend-token-expiration", "encryption-provider-config-automatic-reload", "watch-cache",
    "disable-http2-serving", "kubelet-https",
    # kube-controller-manager
    "use-service-account-credentials", "allocate-node-cidrs", "configure-cloud-routes",
    "enable-hostpath-provisioner", "enable-dynamic-provisioning", "enable-taint-manager",
    "enable-leader-migration",
    # kubelet
    "fail-swap-on", "fail-cgroupv1", "make-iptables-util-chains", "protect-kernel-defaults",
    "rotate-certificates", "rotate-server-certificates", "serialize-image-pulls", "seccomp-default",
    "register-node", "register-schedulable", "enable-server", "enable-debugging-handlers",
    "enable-controller-attach-detach", "cgroups-per-qos", "exit-on-lock-contention",
    "keep-terminated-pod-volumes", "local-storage-capacity-isolation", "kernel-memcg-notification",
    "enable-load-reader", "containerized",
    # kube-proxy
    "masquerade-all", "bind-address-hard-fail", "init-only", "cleanup",
    # etcd
    "client-cert-auth", "peer-client-cert-auth", "auto-tls", "peer-auto-tls", "enable-v2", "enable-pprof",
    "strict-reconfig-check", "force-new-cluster", "debug", "enable-grpc-gateway",
    "experimental-initial-corrupt-check", "experimental-enable-lease-checkpoint", "pre-vote",
    "experimental-enable-distributed-tracing", "socket-reuse-port", "socket-reuse-address",
    "experimental-peer-skip-client-san-verification", "unsafe-no-fsync",
    "experimental-compact-hash-check-enabled", "experimental-stop-grpc-service-on-defrag",
    "enable-log-rotation",
))

_DURATION_RE = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}


def to_bool(value, default=None):
    """pflag's ``strconv.ParseBool``: ``true``/``false``/``1``/``0``/``t``/``f`` (and case variants).

    Python ``bool`` values are returned as they are; anything unparsable returns ``default``.
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    text = str(value).strip()
    if text in TRUE_STRINGS:
        return True
    if text in FALSE_STRINGS:
        return False
    return default


def split_list(value, sep=","):
    """Split a comma list (``Node,RBAC``) into stripped, non-empty items; lists are flattened the same way."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(split_list(item, sep))
        return out
    return [part.strip() for part in str(value).split(sep) if part.strip()]


def parse_map(value):
    """Parse ``K=V,K2=V2`` (``--feature-gates``) into an ordered dict; a ``dict`` is returned as a copy.

    Items without ``=`` map to ``None``. Values are kept as strings (use :func:`to_bool` for gates).
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    out = {}
    for item in split_list(value):
        key, sep, val = item.partition("=")
        out[key.strip()] = val.strip() if sep else None
    return out


def parse_duration(value):
    """Go ``time.ParseDuration`` (``4h0m0s``, ``5m``, ``300ms``) -> seconds as float; plain numbers are
    taken as seconds. Returns ``None`` when the value does not parse."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    sign = 1.0
    if text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    try:
        return sign * float(text)
    except ValueError:
        pass
    pos = 0
    total = 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos or match.group(1) in ("", "."):
            return None
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        return None
    return sign * total


class ParsedArgs(object):
    """An ordered view of a parsed command line.

    ``program``: argv[0]; ``occurrences``: ``[(name, value), ...]`` in command-line order (``value`` is
    ``None`` for a bare flag); ``positional``: non-flag tokens; ``bare``: names given without a value.
    """

    def __init__(self, program=None, occurrences=None, positional=None, bare=None):
        self.program = program
        self.occurrences = list(occurrences or [])
        self.positional = list(positional or [])
        self.bare = set(bare or ())

    # -- lookups ------------------------------------------------------------------------------------------
    def __contains__(self, name):
        return self.has(name)

    def has(self, name):
        name = _strip_dashes(name)
        return any(n == name for n, dummy in self.occurrences)

    def values(self, name):
        """Every value given for ``name``, in order (a bare bool flag counts as ``"true"``)."""
        name = _strip_dashes(name)
        return [("true" if v is None else v) for n, v in self.occurrences if n == name]

    def get(self, name, default=None):
        """The effective value of a scalar flag: the last occurrence wins."""
        vals = self.values(name)
        return vals[-1] if vals else default

    def get_bool(self, name, default=None):
        value = self.get(name)
        if value is None:
            return default
        return to_bool(value, default)

    def get_list(self, name, default=None):
        """A ``StringSlice`` flag: all occurrences' comma lists concatenated (pflag appends on repeat)."""
        vals = self.values(name)
        if not vals:
            return default
        return split_list(vals)

    def get_map(self, name, default=None):
        """A ``mapStringBool``/``mapStringString`` flag (``--feature-gates``): repeats merge, later keys win."""
        vals = self.values(name)
        if not vals:
            return default
        out = {}
        for val in vals:
            out.update(parse_map(val))
        return out

    # -- views --------------------------------------------------------------------------------------------
    def names(self):
        """Flag names in order of first appearance."""
        return list(dict.fromkeys(name for name, dummy in self.occurrences))

    @property
    def flags(self):
        """``{name: last value}`` in order of first appearance."""
        return {name: self.get(name) for name in self.names()}

    @property
    def multi(self):
        """``{name: [values...]}`` for every flag."""
        return {name: self.values(name) for name in self.names()}

    def repeated(self):
        """Names given more than once."""
        return [name for name, vals in self.multi.items() if len(vals) > 1]

    def to_dict(self):
        return {
            "program": self.program,
            "flags": self.flags,
            "multi": self.multi,
            "positional": list(self.positional),
            "repeated": self.repeated(),
        }

    def __repr__(self):
        return "ParsedArgs(program=%r, flags=%r)" % (self.program, self.flags)


def _strip_dashes(name):
    return str(name).lstrip("-")


def _is_bool(name, flag_types, bool_flags):
    """Whether a bare ``--name`` stands alone: pflag's bool flags and the flags with an optional value
    (``NoOptDefVal``, typed ``version[=true]`` in ``--help``) never take the next token as their value."""
    if flag_types and name in flag_types:
        kind = str(flag_types[name]).lower()
        return kind in ("bool", "boolean") or kind.endswith("[=true]")
    if bool_flags is not None and name in bool_flags:
        return True
    return name in KNOWN_BOOL_FLAGS


_NUMBER_RE = re.compile(r"^-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")


def _looks_like_flag(token):
    # A negative number is a value (``--v -1`` is not a flag), as the components' users write it.
    return token.startswith("-") and len(token) > 1 and token != "--" and not _NUMBER_RE.match(token)


def normalizes_names(program):
    """Whether a program folds ``_`` into ``-`` in flag names: the Kubernetes components register
    ``cliflag.WordSepNormalizeFunc`` (``--audit_log_path`` is ``--audit-log-path``); etcd uses Go's flag package,
    which does not."""
    return str(program or "").rsplit("/", 1)[-1] != "etcd"


def tokenize(tokens, flag_types=None, bool_flags=None, normalize=True):
    """The one reading of command-line tokens (without the program), shared by the audit, the manifest editor and
    the node facts: ``[[name|None, value|None, [raw tokens]], ...]`` in order; ``name`` is None for a positional
    token. ``value`` is None for a bare flag. The raw tokens let an editor rewrite one item and keep the rest.

    ``--name=value``/``-name=value`` and ``--name value`` (the next token, unless the flag is boolean or the
    next token looks like a flag); ``--`` ends the flags; ``normalize`` folds ``_`` into ``-`` in names.
    """
    items = []
    tokens = [t if isinstance(t, str) else str(t) for t in tokens or []]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok == "--":
            items.extend([None, None, [t]] for t in tokens[i - 1:])
            break
        body = tok[2:] if tok.startswith("--") else tok[1:]
        if not _looks_like_flag(tok) or not body or body.startswith("-"):
            items.append([None, None, [tok]])
            continue
        name, eq, value = body.partition("=")
        if normalize:
            name = name.replace("_", "-")
        if eq:
            items.append([name, value, [tok]])
        elif (_is_bool(name, flag_types, bool_flags) or i >= len(tokens) or _looks_like_flag(tokens[i])
              or tokens[i] == "--"):
            # A non-bool flag at the end or before another flag: pflag would refuse it; kept bare.
            items.append([name, None, [tok]])
        else:
            items.append([name, tokens[i], [tok, tokens[i]]])
            i += 1
    return items


def parse_argv(argv, flag_types=None, bool_flags=None, has_program=True, normalize=None):
    """Parse ``argv`` (a list of strings; ``argv[0]`` is the program unless ``has_program`` is false).

    ``flag_types``: optional ``{name: pflag type}`` (``"bool"`` marks booleans), e.g. from
    ``k8s_flags.flags_for(component, version)``; ``bool_flags``: optional extra boolean flag names.
    ``normalize``: fold ``_`` into ``-`` in flag names; by default as the program does (:func:`normalizes_names`).
    Never raises on odd input: a non-list or ``None`` gives an empty result.
    """
    if argv is None:
        return ParsedArgs()
    if isinstance(argv, (str, bytes)):
        argv = split_command_line(argv)
    tokens = [t if isinstance(t, str) else str(t) for t in argv]
    program = None
    if has_program and tokens:
        program = tokens[0]
        tokens = tokens[1:]
    if normalize is None:
        normalize = normalizes_names(program)
    occurrences = []
    positional = []
    bare = set()
    ended = False
    for name, value, raw in tokenize(tokens, flag_types, bool_flags, normalize):
        if name is None:
            if raw == ["--"] and not ended:
                ended = True  # the end-of-flags marker itself is not an argument
            else:
                positional.extend(raw)
            continue
        occurrences.append((name, value))
        if value is None:
            bare.add(name)
    return ParsedArgs(program, occurrences, positional, bare)


def parse_cmdline_bytes(data):
    """``/proc/PID/cmdline`` content (NUL separated bytes) -> list of str (undecodable bytes replaced)."""
    if not data:
        return []
    if isinstance(data, bytes):
        text = data.decode("utf-8", "replace")
    else:
        text = data
    parts = text.split("\0")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if len(parts) == 1 and " " in parts[0]:
        # A process that rewrote its argv into one space-separated string (setproctitle style).
        return parts[0].split()
    return parts


def split_command_line(text):
    """Split a shell-like command line (systemd ExecStart, env file values) into tokens."""
    if text is None:
        return []
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return str(text).split()


def parse_env_file(text):
    """Parse a systemd ``EnvironmentFile`` / ``/etc/default/*`` file into ``{NAME: value}``.

    Handles ``NAME=value``, ``NAME="quoted value"``, ``export NAME=...``, comments and blank lines.
    """
    out = {}
    if not text:
        return out
    for raw in str(text).splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(";"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].strip()
        name, eq, value = line.partition("=")
        if not eq:
            continue
        name = name.strip()
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            continue
        value = value.strip()
        try:
            parts = shlex.split(value, posix=True) if value else []
            value = " ".join(parts) if len(parts) != 1 else parts[0]
        except ValueError:
            value = value.strip("\"'")
        out[name] = value
    return out


def _parse_unit_environment(value):
    """``Environment="A=1" "B=2 3"`` -> dict."""
    out = {}
    for item in split_command_line(value):
        name, eq, val = item.partition("=")
        if eq:
            out[name] = val
    return out


_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _expand_specifiers(value, specifiers):
    """systemd unit specifiers (``%p``, ``%H``, ``%%``...); unknown ones are left as they are."""
    if not specifiers or "%" not in value:
        return value
    return re.sub(r"%(.)", lambda m: "%" if m.group(1) == "%" else specifiers.get(m.group(1), m.group(0)), value)


def systemd_exec_argv(unit_texts, env_file_texts=None, specifiers=None):
    """Rebuild the argv systemd would start from a unit and its drop-ins (as text, in load order).

    ``unit_texts``: list of unit/drop-in file contents, base unit first, drop-ins in systemd order.
    ``env_file_texts``: ``{path: text}`` of files named by ``EnvironmentFile=`` (missing ones are skipped,
    as ``EnvironmentFile=-path`` allows). An empty ``ExecStart=`` resets earlier ones (drop-in override).
    ``$VAR`` as a whole word splits into several arguments, ``${VAR}`` inside a word is substituted, as
    systemd does. ``specifiers``: ``{"p": "etcd", "H": "node1", ...}`` expanded in ``Environment=``,
    ``EnvironmentFile=`` and ``ExecStart=`` (Debian's etcd.service uses ``%p`` and ``%H``).
    Returns ``{"argv": [...], "exec_start": "raw", "environment": {...},
    "environment_files": [paths], "missing_environment_files": [paths]}``.
    """
    env_file_texts = env_file_texts or {}
    exec_start = None
    env = {}
    env_files = []
    in_service = False
    for text in unit_texts or []:
        if not text:
            continue
        logical_lines = []
        buf = ""
        for raw in str(text).splitlines():
            line = raw.rstrip()
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            logical_lines.append(buf + line)
            buf = ""
        if buf:
            logical_lines.append(buf)
        in_service = False
        for line in logical_lines:
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            if stripped.startswith("[") and stripped.endswith("]"):
                in_service = stripped == "[Service]"
                continue
            if not in_service:
                continue
            key, eq, value = stripped.partition("=")
            if not eq:
                continue
            key = key.strip()
            value = _expand_specifiers(value.strip(), specifiers)
            if key == "ExecStart":
                exec_start = value if value else None
            elif key == "Environment":
                env.update(_parse_unit_environment(value))
            elif key == "EnvironmentFile":
                env_files.append(value)
    missing = []
    for spec in env_files:
        path = spec[1:] if spec.startswith("-") else spec
        text = env_file_texts.get(path)
        if text is None:
            missing.append(path)
            continue
        env.update(parse_env_file(text))
    result = {
        "argv": [],
        "exec_start": exec_start,
        "environment": env,
        "environment_files": [s.lstrip("-") for s in env_files],
        "missing_environment_files": missing,
    }
    if not exec_start:
        return result
    cmd = exec_start
    # ExecStart prefixes: @ - : + ! !!
    while cmd and cmd[0] in "@-:+!":
        cmd = cmd[1:]
    argv = []
    for word in split_command_line(cmd):
        whole = re.match(r"^\$([A-Za-z_][A-Za-z0-9_]*)$", word)
        if whole:
            argv.extend(split_command_line(env.get(whole.group(1), "")))
            continue
        argv.append(_VAR_RE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), word))
    result["argv"] = argv
    return result
