#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command-line flags, admission plugins and feature gates the real Kubernetes binaries print, and what the real
kubeadm writes into the control plane's static pods, as JSON.

    flag_data.py write [MINOR ...]   run the binaries' --help, write tests/testbed/flags/<minor>.json
    flag_data.py check [MINOR ...]   regenerate in memory; exit 1 with a diff when a committed file differs
    flag_data.py show MINOR          print the regenerated JSON (nothing written)
    flag_data.py render              render plugins/module_utils/data/k8s_release_flags.json from the committed JSON
    flag_data.py probe MINOR COMPONENT --flag=value ...
                                     does the binary accept these flags? (for flags hidden from --help)
    flag_data.py probe-gates MINOR NAME=VALUE ...
                                     does kube-scheduler accept these feature gate settings? (GA/deprecated gates)

`write` also renders plugins/module_utils/data/k8s_release_flags.json, the product's data, from every committed
JSON file (flags with the releases they are in, hidden flags, admission plugins, kubeadm's static pods as
kubeadm_manifests; see release_data), in the canonical form of k8s_flag_data.dumps (sorted keys, one entry a line,
so a new release shows as a reviewable diff); `check` also fails when that file is not what the committed JSON
renders to.

MINOR defaults to every minor whose binaries are built (<cache>/release-<minor>.json, written by k8s_bins.py;
cache SCK8S_K8S_BIN_CACHE, default /var/tmp/sck8s-k8s-bins); for `check`, to the committed files whose minor is
built (the others are named and skipped). Exit 2 when a named minor is not built or nothing is left to check.
Standard library only (kubeadm's YAML manifests are turned into JSON by the release's own kubectl).

What is read, per component (kubelet, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy):
* flags: the pflag usage lines of `<binary> --help` ("      --name type   usage", "  -v, --v Level   usage"),
  as {name: type}. The type is the word pflag prints (pflag.UnquoteUsage: Value.Type() with float64/int64/
  uint64/stringSlice/intSlice/uintSlice/boolSlice shortened to float/int/uint/strings/ints/uints/bools), "bool"
  where none is printed; that is the convention of plugins/module_utils/k8s_flags.py. One mapping is needed:
  pflag prints a word quoted with backquotes in the usage text instead of the type, and for a bool flag that
  word is not a type. PLACEHOLDER_TYPES lists those flags with the type they really have; `write` and `check`
  confirm each by running `<binary> --<flag>=notabool --help` (a bool flag fails with strconv.ParseBool) and
  record the printed word under "placeholders". Flags hidden from --help (MarkDeprecated, MarkHidden) are not
  printed and therefore not under "flags": HIDDEN_FLAGS lists those, and each is confirmed on the binary and
  recorded under "hidden_flags" ({name: type}).
* feature_gates: the "Name=true|false (STAGE - default=x)" lines of the --feature-gates help, as
  {name: {"stage": "ALPHA"|"BETA", "default": bool}} ("kube:" prefix of the emulation-aware components dropped).
  component-base prints only alpha and beta gates (FeatureSpec.HelpString skips GA, Deprecated, PRE-ALPHA).
* admission_plugins (kube-apiserver): the list after "Comma-delimited list of admission plugins:" in the
  --enable-admission-plugins help, and the default-enabled list in its parentheses.
* version (`--version`).
* etcd: the flags of the etcd that this release's kubeadm runs (its etcd_version in the build record), as
  {name: type}. etcd's --help is hand-written text that lists some flags it no longer has and misses some it has,
  so each name of the help and of plugins/module_utils/etcd_flags.py (any minor) is asked of the binary itself:
  `etcd --<name>=<value> --version` parses the command line with Go's flag package and exits 0 before starting.
  "flag provided but not defined" means etcd does not have it; otherwise the type is the first probe it accepts or
  the parse error it gives: any text, or an error other than strconv's "parse error" (string), "invalid boolean
  value" (bool), "URL scheme must be" (urls), then
  "1s" (duration), "-1" (int), "1" (uint); strconv.ParseUint in the error is uint.
* kubelet_config: the top-level fields of the v1beta1 KubeletConfiguration that this kubelet decodes, read from
  the source it was built from (k8s.io/kubelet@v0.<minor>.<patch>, config/v1beta1/types.go, fetched with
  `go mod download`): the kubelet cannot list them itself. {json name: {"go": Go type, "type": the word of
  plugins/module_utils/kubelet_config.py (bool, string, duration, int32, int64, float, list, map)}}.

What kubeadm writes, under "kubeadm": {component: {"args", "volumes"}} for etcd, kube-apiserver,
kube-controller-manager and kube-scheduler: the defaults that `kubeadm upgrade` writes again from the cluster's
ClusterConfiguration (extraArgs/extraVolumes override and extend them). Each run is `kubeadm init phase control-plane
all --dry-run` and `kubeadm init phase etcd local --dry-run` with a v1beta4 InitConfiguration and ClusterConfiguration
(KUBEADM_RUNS), certificatesDir and etcd's dataDir in a temporary directory and KUBEADM_INIT_DRYRUN_DIR there too,
which is where a dry run writes the manifests (without it: a new directory under /etc/kubernetes/tmp; the run fails
when anything under /etc/kubernetes changed). The manifests are read with `kubectl patch --local -o json`.
A manifest alone cannot tell which values kubeadm fixes and which it takes from the configuration, so kubeadm runs
twice, with two configurations that differ in every value a node or cluster configures: advertiseAddress (IPv4 in
one, IPv6 in the other), bindPort, node name, certificatesDir, clusterName, controlPlaneEndpoint (set in one only),
serviceSubnet, dnsDomain, podSubnet (set in one only), etcd dataDir, imageRepository.
* args: {flag: value} of the container's command ("--name=value" after the binary; a flag given twice fails).
  A flag with the same value in both runs is that literal ("authorization-mode": "Node,RBAC"); one whose value
  differs, or that only one run has (kube-controller-manager's allocate-node-cidrs, cluster-cidr and
  service-cluster-ip-range come with podSubnet only), is null: kubeadm derives it from the configuration (addresses
  and ports, certificate paths under certificatesDir, etcd-servers and listen-metrics-urls from the address
  family).
* volumes: {name: {"host_path", "mount_path", "read_only"}} of the pod's hostPath volumes and the container's
  mounts of them, a path null when it differs between the runs (certificatesDir, dataDir). Both runs must have the
  same volumes, each read-only or not in both. The CA certificate directories of KUBEADM_CA_CERTS_EXTRA_PATHS that
  kubeadm mounts only when the node has them depend on the host kubeadm runs on, not on the configuration: those
  present here must be in the manifests and the others not, and all of them are recorded as (null, null, true).

`probe` shows that a flag hidden from --help is still accepted: it runs `<binary> --flag=value --help` once per
flag. pflag (cobra, or the kubelet's own parse) reads the whole command line before it looks at --help, so an
unknown flag exits 1 with "unknown flag: --flag" and a malformed value exits 1 with "invalid argument"; an
accepted one prints the help and exits 0, and a MarkDeprecated flag also prints "Flag --flag has been deprecated,
<reason>". The value must be given with "=" (a value-taking flag would otherwise swallow --help and the component
would start). Each probe also runs a made-up flag as a control, which must be refused.

`probe-gates` does the same for feature gates, which no component checks while parsing flags (--feature-gates
with a made-up gate and --help exits 0). kube-scheduler checks them first thing after parsing: it runs with
`--feature-gates=<all of them> --write-config-to=<tmp> --kubeconfig=<missing file>`, so it exits 1 either with
"unrecognized feature gate: X" / "cannot set feature gate X to ..., feature is locked to ..." or, when every
gate is accepted, with the error about the missing kubeconfig that follows. A refused gate is taken out and the
rest run again.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "flags"
CACHE = Path(os.environ.get("SCK8S_K8S_BIN_CACHE", "/var/tmp/sck8s-k8s-bins"))
COMPONENTS = ("kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")

# component -> flag -> (word pflag prints, the flag's real type): backquoted usage words printed in place of a type.
PLACEHOLDER_TYPES = {
    "kubelet": {"seccomp-default": ("RuntimeDefault", "bool")},  # "Enable the use of `RuntimeDefault` as ..."
}

# Flags the binaries accept but do not print in --help: pflag's MarkDeprecated sets Hidden and prints
# "Flag --x has been deprecated, <reason>" when the flag is used. Each one was found with
#   grep -rn 'MarkDeprecated("' in the release source (k8s.io/kubernetes and the staging modules);
# `write` and `check` confirm each on the binary (not printed; `--flag=value --help` accepted with the deprecation
# warning; a bool exactly when "--flag=notabool" fails with strconv.ParseBool) and record it under "hidden_flags".
# The type is the one of the registration in the source. component -> flag -> (first minor, last minor or None
# for "still there", value probed, type, reason).
HIDDEN_FLAGS = {
    "kube-apiserver": {
        "apiserver-count": ("1.34", None, "1", "int", "MarkDeprecated: \"apiserver-count is deprecated and will be "
                            "removed in a future version.\" (the lease endpoint reconciler counts the servers)"),
        "audit-webhook-batch-initial-backoff": ("1.34", None, "1s", "duration", "MarkDeprecated: \"Deprecated, use "
                                                "--audit-webhook-initial-backoff instead.\""),
        "default-watch-cache-size": ("1.34", None, "1", "int", "MarkDeprecated: \"watch caches are sized automatically "
                                     "and this flag will be removed in a future version\" (no-op from 1.37 on)"),
        "kubelet-port": ("1.34", None, "1", "uint",
                         "MarkDeprecated: \"kubelet-port is deprecated and will be removed.\""),
        "kubelet-read-only-port": ("1.34", None, "1", "uint",
                                   "MarkDeprecated: \"kubelet-read-only-port is deprecated and will be removed.\""),
    },
    "kube-controller-manager": {
        "allow-untagged-cloud": ("1.34", None, "true", "bool", "MarkDeprecated: \"This flag is deprecated and will be "
                                 "removed in a future release. A cluster-id will be required on cloud instances.\""),
        "node-sync-period": ("1.34", None, "1s", "duration",
                             "MarkDeprecated: \"This flag is currently no-op and will be deleted.\""),
    },
    "kube-proxy": {
        "healthz-port": ("1.34", None, "1", "int32",
                         "MarkDeprecated: \"... Please use --healthz-bind-address instead.\""),
        "metrics-port": ("1.34", None, "1", "int32",
                         "MarkDeprecated: \"... Please use --metrics-bind-address instead.\""),
    },
}

# "      --name type   usage" or "  -v, --v Level   usage"; the type is followed by two spaces or the line end.
_FLAG_RE = re.compile(r"^(?:  -(?P<short>\S), |      )--(?P<name>[A-Za-z0-9][^\s=]*)(?: (?P<type>\S+))?(?:\s{2,}|\s*$)")
_GATE_RE = re.compile(r"^\s+(?:(?P<prefix>[a-z0-9-]+):)?(?P<name>[A-Za-z0-9]+)=true\|false "
                      r"\((?P<stage>[A-Z-]+) - default=(?P<default>true|false)\)")
_PLUGINS_RE = re.compile(r"Comma-delimited list of admission plugins: ([A-Za-z0-9, ]+)\.")
_DEFAULT_PLUGINS_RE = re.compile(r"in addition to default enabled ones \(([A-Za-z0-9, ]+)\)")
_VERSION_RE = re.compile(r"Kubernetes (v\d+\.\d+\.\d+\S*)")
_TIMEOUT = 120


class FlagDataError(RuntimeError):
    pass


def _run(binary, *args, **extra_env):
    env = dict(os.environ, LC_ALL="C", COLUMNS="80", **extra_env)
    proc = subprocess.run([str(binary), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=_TIMEOUT, env=env, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def release(minor):
    """The k8s_bins.py record of `minor` ({"kubernetes_dir", "kubernetes_version", ...}) or None when not built."""
    path = CACHE / ("release-%s.json" % minor)
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if not (Path(record["kubernetes_dir"]) / "bin").is_dir():
        return None
    return record


def built_minors():
    found = []
    for path in CACHE.glob("release-*.json"):
        minor = path.name[len("release-"):-len(".json")]
        if re.fullmatch(r"\d+\.\d+", minor) and release(minor):
            found.append(minor)
    return sorted(found, key=lambda m: tuple(int(p) for p in m.split(".")))


def committed_minors():
    return sorted((p.stem for p in OUT_DIR.glob("*.json")), key=lambda m: tuple(int(p) for p in m.split(".")))


def parse_flags(text):
    """{name: printed type word ("bool" when none)} and {shorthand: name} of pflag usage output."""
    flags, shorthands = {}, {}
    for line in text.splitlines():
        match = _FLAG_RE.match(line)
        if not match:
            continue
        name = match.group("name")
        if name in flags:
            raise FlagDataError("flag --%s printed twice" % name)
        flags[name] = match.group("type") or "bool"
        if match.group("short"):
            shorthands[match.group("short")] = name
    return flags, shorthands


def parse_feature_gates(text):
    """{gate: {"stage", "default"}} of the --feature-gates help (the first spec when ", or" gives two)."""
    gates = {}
    for line in text.splitlines():
        match = _GATE_RE.match(line)
        if not match or match.group("prefix") not in (None, "kube"):
            continue
        gates.setdefault(match.group("name"), {"stage": match.group("stage"),
                                               "default": match.group("default") == "true"})
    return gates


def _flag_usage(text, name):
    """The usage text of --name (its line and the continuation lines joined with spaces)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _FLAG_RE.match(line)
        if match and match.group("name") == name:
            parts = [line[match.end():]]
            for follow in lines[index + 1:]:
                if _FLAG_RE.match(follow) or not follow.strip():
                    break
                parts.append(follow.strip())
            return " ".join(parts)
    return ""


def parse_admission_plugins(text):
    usage = _flag_usage(text, "enable-admission-plugins")
    plugins = _PLUGINS_RE.search(usage)
    defaults = _DEFAULT_PLUGINS_RE.search(usage)
    if not plugins or not defaults:
        raise FlagDataError("kube-apiserver --enable-admission-plugins help: plugin list not found")
    return _split_names(plugins.group(1)), _split_names(defaults.group(1))


def _split_names(text):
    return sorted(name.strip() for name in text.split(",") if name.strip())


def is_bool_flag(binary, name):
    """True when pflag parses --name as a bool: "--name=notabool" fails with strconv.ParseBool."""
    rc, out, err = _run(binary, "--%s=notabool" % name, "--help")
    return rc != 0 and "strconv.ParseBool" in (out + err)


def _minor_key(minor):
    return tuple(int(part) for part in minor.split("."))


def hidden_flags(component, minor):
    """{name: (value probed, type)} of the HIDDEN_FLAGS that `component` of `minor` should accept."""
    result = {}
    for name, (first, last, value, kind, dummy) in HIDDEN_FLAGS.get(component, {}).items():
        if _minor_key(first) <= _minor_key(minor) and (last is None or _minor_key(minor) <= _minor_key(last)):
            result[name] = (value, kind)
    return result


def confirm_hidden_flags(binary, component, minor, printed):
    """{name: type} of the hidden flags of `component`, each confirmed on the binary (FlagDataError otherwise)."""
    confirmed = {}
    for name, (value, kind) in sorted(hidden_flags(component, minor).items()):
        if name in printed:
            raise FlagDataError("%s %s prints --%s: take it off HIDDEN_FLAGS" % (component, minor, name))
        rc, out, err = _run(binary, "--%s=%s" % (name, value), "--help")
        if rc != 0 or "--help" not in out or "Flag --%s has been deprecated" % name not in err + out:
            raise FlagDataError("%s %s: --%s=%s is not accepted as a deprecated flag (exit %d: %s)"
                                % (component, minor, name, value, rc, (err or out).strip()[-200:]))
        if (kind == "bool") != is_bool_flag(binary, name):
            raise FlagDataError("%s %s: --%s is%s a bool, HIDDEN_FLAGS says %s"
                                % (component, minor, name, "" if kind != "bool" else " not", kind))
        confirmed[name] = kind
    return confirmed


def component_data(binary, component, minor):
    rc, out, err = _run(binary, "--help")
    if rc != 0 or "--help" not in out:
        raise FlagDataError("%s --help exited %d: %s" % (binary, rc, (err or out)[-400:]))
    flags, shorthands = parse_flags(out)
    if len(flags) < 30 or "feature-gates" not in flags:
        raise FlagDataError("%s --help: only %d flags parsed" % (binary, len(flags)))
    placeholders = {}
    for name, (printed, real) in PLACEHOLDER_TYPES.get(component, {}).items():
        if flags.get(name) != printed:
            raise FlagDataError("%s --%s: PLACEHOLDER_TYPES expects %r, --help prints %r"
                                % (component, name, printed, flags.get(name)))
        if real == "bool" and not is_bool_flag(binary, name):
            raise FlagDataError("%s --%s does not parse as a bool" % (component, name))
        flags[name] = real
        placeholders[name] = printed
    rc, vout, verr = _run(binary, "--version")
    version = _VERSION_RE.search(vout + verr)
    if rc != 0 or not version:
        raise FlagDataError("%s --version exited %d: %s" % (binary, rc, (vout + verr)[-200:]))
    data = {
        "feature_gates": parse_feature_gates(_gate_block(out)),
        "flags": flags,
        "hidden_flags": confirm_hidden_flags(binary, component, minor, flags),
        "placeholders": placeholders,
        "shorthands": shorthands,
        "version": version.group(1),
    }
    if component == "kube-apiserver":
        data["admission_plugins"], data["admission_plugins_default_enabled"] = parse_admission_plugins(out)
    return data


def _gate_block(text):
    """The --feature-gates line and its continuation lines."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _FLAG_RE.match(line)
        if match and match.group("name") == "feature-gates":
            block = [line]
            for follow in lines[index + 1:]:
                if _FLAG_RE.match(follow) or not follow.strip():
                    break
                block.append(follow)
            return "\n".join(block)
    raise FlagDataError("--feature-gates not in the help")


_STRUCT_RE = re.compile(r"^type KubeletConfiguration struct \{(.*?)^\}", re.S | re.M)
_FIELD_RE = re.compile(r'^\t[A-Z]\w*\s+(?P<go>\S+)\s+`json:"(?P<name>[^,"]+)', re.M)
_STRING_TYPE_RE = re.compile(r"^type (\w+) string$", re.M)


def go_type_word(go_type, string_types):
    """The kubelet_config.py type word of a Go field type of KubeletConfiguration."""
    base = go_type.lstrip("*")
    if base.startswith("[]"):
        return "list"
    if base.startswith("map["):
        return "map"
    if base == "metav1.Duration":
        return "duration"
    if base == "float64":
        return "float"
    if base in ("bool", "string", "int32", "int64"):
        return base
    if base in string_types:
        return "string"
    return "map"  # a struct (KubeletAuthentication, logsapi.LoggingConfiguration, ...)


def parse_kubelet_config_types(source):
    """{json name: {"go", "type"}} of the KubeletConfiguration struct in config/v1beta1/types.go."""
    match = _STRUCT_RE.search(source)
    if not match:
        raise FlagDataError("type KubeletConfiguration struct not found in types.go")
    string_types = set(_STRING_TYPE_RE.findall(source))
    fields = {}
    for field in _FIELD_RE.finditer(match.group(1)):
        fields[field.group("name")] = {"go": field.group("go"),
                                       "type": go_type_word(field.group("go"), string_types)}
    if len(fields) < 100:
        raise FlagDataError("KubeletConfiguration: only %d fields parsed" % len(fields))
    return fields


def kubelet_config_data(kubernetes_version):
    module = "k8s.io/kubelet@v0.%s" % kubernetes_version.split(".", 1)[1]
    proc = subprocess.run(["go", "mod", "download", "-json", module], capture_output=True, text=True,
                          timeout=600, check=False, env=dict(os.environ, GOFLAGS="-mod=mod"))
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        info = {}
    if proc.returncode != 0 or not info.get("Dir"):
        raise FlagDataError("go mod download %s: %s" % (module, (info.get("Error") or proc.stderr).strip()[-300:]))
    source = (Path(info["Dir"]) / "config" / "v1beta1" / "types.go").read_text(encoding="utf-8")
    return {"source": module + " config/v1beta1/types.go", "fields": parse_kubelet_config_types(source)}


_ETCD_HELP_FLAG_RE = re.compile(r"^\s+--(?P<name>[a-z0-9][a-z0-9-]*)", re.M)
_ETCD_TABLE = HERE.parent.parent / "plugins" / "module_utils" / "etcd_flags.py"
MODULE_UTILS = HERE.parent.parent / "plugins" / "module_utils"


_COLLECTION = "ansible_collections.secure_cluster.k8s.plugins.module_utils."


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _preload_collection_module(name):
    """plugins/module_utils/<name>.py, loaded by path and registered under its collection name, so that the
    modules loaded after it import it the way they do in the collection (this script runs from a checkout with the
    standard library only; the module_utils it loads are standard library only too)."""
    full = _COLLECTION + name
    if full not in sys.modules:
        try:  # the collection itself when it is importable (pytest, an installed collection)
            importlib.import_module(full)
        except ImportError:
            sys.modules[full] = _load(full, MODULE_UTILS / ("%s.py" % name))
    return sys.modules[full]


def _etcd_table_names():
    # etcd_flags reads command lines with k8s_args and minors with k8s_version, both by their collection names
    for name in ("k8s_version", "k8s_args"):
        _preload_collection_module(name)
    return set(_load("sck8s_etcd_flags", _ETCD_TABLE)._FLAGS)  # pylint: disable=protected-access


def etcd_flag_type(binary, name):
    """The type of --name as this etcd parses it, or None when it does not have the flag."""
    rc, out, err = _run(binary, "--%s=sck8s-probe" % name, "--version")
    text = out + err
    if "flag provided but not defined" in text:
        return None
    if rc == 0:
        return "string"
    if "invalid boolean value" in text:
        return "bool"
    if "URL scheme must be" in text:
        return "urls"
    if "strconv.ParseUint" in text:
        return "uint"
    if not re.search(r"for flag -%s: parse error$" % re.escape(name), text, re.M):
        return "string"  # a text with its own syntax: one of a fixed set of words, gate=bool pairs
    for value, kind in (("1s", "duration"), ("-1", "int"), ("1", "uint")):
        if _run(binary, "--%s=%s" % (name, value), "--version")[0] == 0:
            return kind
    raise FlagDataError("etcd --%s: no probe value accepted: %s" % (name, text.strip().splitlines()[0]))


def etcd_data(etcd_dir, etcd_version):
    binary = Path(etcd_dir) / "bin" / "etcd"
    rc, out, err = _run(binary, "--version")
    if rc != 0 or ("etcd Version: %s" % etcd_version) not in out:
        raise FlagDataError("%s --version exited %d: %s" % (binary, rc, (out + err)[-200:]))
    if "flag provided but not defined" not in "".join(_run(binary, "--sck8s-made-up-flag=1", "--version")[1:]):
        raise FlagDataError("%s accepted a made-up flag: probing does not work" % binary)
    help_text = "".join(_run(binary, "--help")[1:])
    names = (set(_ETCD_HELP_FLAG_RE.findall(help_text)) | _etcd_table_names()) - {"help", "h"}
    flags = {}
    for name in sorted(names):
        kind = etcd_flag_type(binary, name)
        if kind is not None:
            flags[name] = kind
    if len(flags) < 80:
        raise FlagDataError("%s: only %d flags found" % (binary, len(flags)))
    return {"version": etcd_version, "flags": flags}


# --- what kubeadm writes into the control plane's static pods ---------------------------------------------------

KUBEADM_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
KUBERNETES_DIR = Path("/etc/kubernetes")

# The two configurations kubeadm writes the manifests from. They differ in every value a node or a cluster
# configures (the second one also in the address family), and each of controlPlaneEndpoint and podSubnet is set in
# one of them only; the first keeps kubeadm's default where there is one. "{tmp}": the run's temporary directory.
KUBEADM_RUNS = (
    {"advertiseAddress": "10.1.2.3", "bindPort": 6443, "name": "sck8s-node-a", "clusterName": "kubernetes",
     "controlPlaneEndpoint": None, "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local", "podSubnet": None,
     "imageRepository": "registry.k8s.io", "certificatesDir": "{tmp}/pki", "dataDir": "{tmp}/etcd"},
    {"advertiseAddress": "fd00:10::b", "bindPort": 7443, "name": "sck8s-node-b", "clusterName": "sck8s-b",
     "controlPlaneEndpoint": "cp-b.sck8s.test:8443", "serviceSubnet": "fd00:96::/108", "dnsDomain": "sck8s-b.test",
     "podSubnet": "fd00:244::/56", "imageRepository": "registry.sck8s.test/b", "certificatesDir": "{tmp}/certs-b",
     "dataDir": "{tmp}/etcd-data-b"},
)

# kubeadm mounts these into kube-apiserver and kube-controller-manager only when they exist on the node, since
# /etc/ssl/certs may link into them (caCertsExtraVolumePaths in cmd/kubeadm/app/phases/controlplane/volumes.go, the
# same in v1.34.4-v1.37.2; volume name: the path with "/" as "-" and the first one dropped, mounted read-only at the
# same path). They are recorded as (None, None, True): whether kubeadm writes them is the node's. Those that exist
# here are confirmed on the binary, and the others must be absent.
KUBEADM_CA_CERTS_EXTRA_PATHS = ("/etc/pki/ca-trust", "/etc/pki/tls/certs", "/etc/ca-certificates",
                                "/usr/share/ca-certificates", "/usr/local/share/ca-certificates")
_KUBEADM_CA_CERTS_COMPONENTS = ("kube-apiserver", "kube-controller-manager")
_ARG_RE = re.compile(r"--(?P<name>[A-Za-z0-9][^=\s]*)=(?P<value>.*)", re.S)


def kubeadm_config(version, run, tmp):
    """The v1beta4 InitConfiguration and ClusterConfiguration of `run` (JSON documents, which are YAML)."""
    def path(value):
        return value.format(tmp=tmp)
    init = {
        "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": run["advertiseAddress"], "bindPort": run["bindPort"]},
        # set, so that kubeadm does not look for a container runtime's socket on this host
        "nodeRegistration": {"name": run["name"], "criSocket": "unix:///var/run/containerd/containerd.sock"},
    }
    networking = {"serviceSubnet": run["serviceSubnet"], "dnsDomain": run["dnsDomain"]}
    if run["podSubnet"]:
        networking["podSubnet"] = run["podSubnet"]
    cluster = {
        "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
        "kubernetesVersion": "v" + version, "clusterName": run["clusterName"],
        "certificatesDir": path(run["certificatesDir"]), "imageRepository": run["imageRepository"],
        "networking": networking, "etcd": {"local": {"dataDir": path(run["dataDir"])}},
    }
    if run["controlPlaneEndpoint"]:
        cluster["controlPlaneEndpoint"] = run["controlPlaneEndpoint"]
    return "\n---\n".join(json.dumps(doc, indent=1, sort_keys=True) for doc in (init, cluster)) + "\n"


def _tree(path):
    """{relative path: (mode, size, mtime)} of everything under `path` (empty when it does not exist)."""
    found = {}
    for root, dirs, files in os.walk(str(path)):
        for name in dirs + files:
            full = os.path.join(root, name)
            info = os.lstat(full)
            found[os.path.relpath(full, str(path))] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def kubeadm_pods(bindir, version, run, tmp):
    """{component: the Pod (parsed)} kubeadm writes with `run`'s configuration, in a dry run inside `tmp`.

    KUBEADM_INIT_DRYRUN_DIR is where a dry run writes its manifests (without it, a new directory under
    /etc/kubernetes/tmp). kubectl of the same release turns them into JSON (`patch --local` reads the file with
    the apimachinery YAML decoder and contacts no server), so this needs no YAML library.
    """
    config = Path(tmp) / "kubeadm.yaml"
    config.write_text(kubeadm_config(version, run, tmp), encoding="utf-8")
    out = Path(tmp) / "manifests"
    for phase in (("control-plane", "all"), ("etcd", "local")):
        rc, stdout, err = _run(bindir / "kubeadm", "init", "phase", *phase, "--dry-run", "--config", str(config),
                               KUBEADM_INIT_DRYRUN_DIR=str(out))
        if rc != 0:
            raise FlagDataError("kubeadm init phase %s --dry-run exited %d: %s"
                                % (" ".join(phase), rc, (err or stdout).strip()[-400:]))
    written = sorted(path.name for path in out.iterdir()) if out.is_dir() else []
    if written != sorted("%s.yaml" % component for component in KUBEADM_COMPONENTS):
        raise FlagDataError("kubeadm dry run wrote %s into %s" % (written, out))
    pods = {}
    for component in KUBEADM_COMPONENTS:
        rc, stdout, err = _run(bindir / "kubectl", "patch", "--local", "-f", str(out / ("%s.yaml" % component)),
                               "--type=merge", "-p", "{}", "-o", "json", KUBECONFIG=str(Path(tmp) / "no-kubeconfig"))
        if rc != 0:
            raise FlagDataError("kubectl patch --local %s.yaml exited %d: %s" % (component, rc, err.strip()[-300:]))
        pods[component] = json.loads(stdout)
    return pods


def pod_command_and_volumes(pod, component):
    """({flag: value}, {volume: (hostPath, mountPath, readOnly)}) of kubeadm's static pod `component`."""
    containers = pod.get("spec", {}).get("containers") or []
    if pod.get("kind") != "Pod" or len(containers) != 1 or containers[0].get("name") != component:
        raise FlagDataError("%s: not a Pod with the one container %s" % (component, component))
    container = containers[0]
    command = container.get("command") or []
    if command[:1] != [component] or container.get("args"):
        raise FlagDataError("%s: the command is not %s followed by its flags: %s" % (component, component, command))
    return _command_args(component, command[1:]), _host_path_mounts(component, pod, container)


def _command_args(component, items):
    args = {}
    for item in items:
        match = _ARG_RE.fullmatch(item)
        if not match:
            raise FlagDataError("%s: %r is not --name=value" % (component, item))
        if match.group("name") in args:
            raise FlagDataError("%s: --%s is given twice" % (component, match.group("name")))
        args[match.group("name")] = match.group("value")
    return args


def _host_path_mounts(component, pod, container):
    host_paths = {}
    for volume in pod["spec"].get("volumes") or []:
        if set(volume) != {"name", "hostPath"} or volume["name"] in host_paths:
            raise FlagDataError("%s: volume %s is not one hostPath volume" % (component, volume))
        host_paths[volume["name"]] = volume["hostPath"]["path"]
    volumes = {}
    for mount in container.get("volumeMounts") or []:
        name = mount["name"]
        if not set(mount) <= {"name", "mountPath", "readOnly"}:
            raise FlagDataError("%s: mount %s is more than a path: %s" % (component, name, mount))
        if name not in host_paths or name in volumes:
            raise FlagDataError("%s: mount %s has no volume or is mounted twice" % (component, name))
        volumes[name] = (host_paths[name], mount["mountPath"], bool(mount.get("readOnly", False)))
    if set(host_paths) != set(volumes):
        raise FlagDataError("%s: volumes not mounted: %s" % (component, sorted(set(host_paths) - set(volumes))))
    return volumes


def take_ca_certs_volumes(component, volumes, exists=os.path.exists):
    """`volumes` without kubeadm's KUBEADM_CA_CERTS_EXTRA_PATHS ones, which are checked against this host."""
    expected = {}
    if component in _KUBEADM_CA_CERTS_COMPONENTS:
        expected = {path.replace("/", "-")[1:]: (path, path, True) for path in KUBEADM_CA_CERTS_EXTRA_PATHS
                    if exists(path)}
    found = {name: volume for name, volume in volumes.items() if volume[0] in KUBEADM_CA_CERTS_EXTRA_PATHS}
    if found != expected:
        raise FlagDataError("%s: kubeadm's CA certificate volumes %s, expected from this host's directories %s"
                            % (component, found, expected))
    return {name: volume for name, volume in volumes.items() if name not in found}


def merge_runs(component, first, second):
    """{"args", "volumes"} of `component` from the (args, volumes) of two runs: a value the same in both is
    kubeadm's literal; one that differs, or a flag given in one run only, is None (derived from the configuration)."""
    (args_a, volumes_a), (args_b, volumes_b) = first, second
    args = {name: args_a[name] if args_a.get(name) == args_b.get(name) else None
            for name in sorted(set(args_a) | set(args_b))}
    if set(volumes_a) != set(volumes_b):
        raise FlagDataError("%s: the runs have other volumes: %s, %s"
                            % (component, sorted(volumes_a), sorted(volumes_b)))
    volumes = {}
    for name in sorted(volumes_a):
        (host_a, mount_a, read_only), (host_b, mount_b, read_only_b) = volumes_a[name], volumes_b[name]
        if read_only != read_only_b:
            raise FlagDataError("%s: volume %s is read-only in one run only" % (component, name))
        volumes[name] = {"host_path": host_a if host_a == host_b else None,
                         "mount_path": mount_a if mount_a == mount_b else None, "read_only": read_only}
    if component in _KUBEADM_CA_CERTS_COMPONENTS:
        for path in KUBEADM_CA_CERTS_EXTRA_PATHS:
            volumes[path.replace("/", "-")[1:]] = {"host_path": None, "mount_path": None, "read_only": True}
    return {"args": args, "volumes": dict(sorted(volumes.items()))}


def kubeadm_data(bindir, version):
    """{component: {"args": {flag: value or None}, "volumes": {name: {"host_path", "mount_path", "read_only"}}}}
    of what this kubeadm writes into the static pods, from a dry run of each of KUBEADM_RUNS."""
    before = _tree(KUBERNETES_DIR)
    runs = []
    try:
        for run in KUBEADM_RUNS:
            with tempfile.TemporaryDirectory(prefix="sck8s-kubeadm-") as tmp:
                pods = kubeadm_pods(bindir, version, run, tmp)
                parsed = {}
                for component, pod in pods.items():
                    args, volumes = pod_command_and_volumes(pod, component)
                    parsed[component] = (args, take_ca_certs_volumes(component, volumes))
                runs.append(parsed)
    finally:
        after = _tree(KUBERNETES_DIR)
        if after != before:
            changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
            raise FlagDataError("kubeadm changed %s: %s" % (KUBERNETES_DIR, changed))
    return {component: merge_runs(component, runs[0][component], runs[1][component])
            for component in KUBEADM_COMPONENTS}


def generate(minor):
    record = release(minor)
    if record is None:
        raise FlagDataError("Kubernetes %s is not built (%s)" % (minor, CACHE / ("release-%s.json" % minor)))
    bindir = Path(record["kubernetes_dir"]) / "bin"
    result = {
        "generated_by": "tests/testbed/flag_data.py",
        "kubernetes_version": record["kubernetes_version"],
        "minor": minor,
        "components": {},
    }
    for component in COMPONENTS:
        data = component_data(bindir / component, component, minor)
        if data["version"] != "v" + record["kubernetes_version"]:
            raise FlagDataError("%s prints %s, the build record says %s"
                                % (component, data["version"], record["kubernetes_version"]))
        result["components"][component] = data
    result["kubelet_config"] = kubelet_config_data(record["kubernetes_version"])
    result["etcd"] = etcd_data(record["etcd_dir"], record["etcd_version"])
    result["kubeadm"] = kubeadm_data(bindir, record["kubernetes_version"])
    return result


def probe(minor, component, args):
    """[(argument, accepted, note)] for each "--flag=value" of `args` run against `component` of `minor`."""
    record = release(minor)
    if record is None:
        raise FlagDataError("Kubernetes %s is not built" % minor)
    binary = Path(record["kubernetes_dir"]) / "bin" / component
    results = []
    for arg in ["--sck8s-made-up-flag=1"] + list(args):
        if not arg.startswith("--") or "=" not in arg:
            raise FlagDataError("probe arguments are --flag=value, got %r" % arg)
        rc, out, err = _run(binary, arg, "--help")
        helped = rc == 0 and "--help" in out
        notes = [line.strip() for line in (err + "\n" + out[:2000]).splitlines()
                 if "deprecated" in line.lower() and arg.split("=")[0] in line or "unknown flag" in line
                 or "invalid argument" in line]
        note = notes[0] if notes else ("" if helped else "exit %d: %s" % (rc, err.strip()[-200:]))
        results.append((arg, helped, note))
    if results[0][1]:
        raise FlagDataError("%s accepted the made-up control flag: probing does not work" % binary)
    return results[1:]


def probe_gates(minor, settings):
    """{gate: None | refusal sentence} for "Name=value" `settings`, checked by kube-scheduler of `minor`."""
    record = release(minor)
    if record is None:
        raise FlagDataError("Kubernetes %s is not built" % minor)
    binary = Path(record["kubernetes_dir"]) / "bin" / "kube-scheduler"
    pending = dict(item.split("=", 1) for item in ["SCK8sMadeUpGate=true"] + list(settings))
    results = {}
    refusal = re.compile(r"(unrecognized feature gate: (\w+)"
                         r"|cannot set feature gate (\w+) to \w+, feature is locked to \w+)")
    with tempfile.TemporaryDirectory() as tmp:
        while pending:
            arg = "--feature-gates=" + ",".join("%s=%s" % item for item in sorted(pending.items()))
            rc, out, err = _run(binary, arg, "--write-config-to=%s/config.yaml" % tmp, "--kubeconfig=%s/none" % tmp)
            match = refusal.search(err)
            if match is None:
                if rc == 0 or "%s/none" % tmp not in err:  # it got as far as reading the kubeconfig
                    raise FlagDataError("kube-scheduler %s: unexpected result %d: %s" % (minor, rc, err[-300:]))
                results.update((name, None) for name in pending)
                break
            name = match.group(2) or match.group(3)
            results[name] = match.group(1)
            del pending[name]
    if results.pop("SCK8sMadeUpGate", None) is None:
        raise FlagDataError("kube-scheduler %s accepted the made-up control gate: probing does not work" % minor)
    return results


def dumps(data):
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


RELEASE_DATA = MODULE_UTILS / "data" / "k8s_release_flags.json"


def _ranges(present, minors):
    """(added, removed) of the minors in `present`, which must be a run of consecutive `minors`."""
    index = [minors.index(minor) for minor in present]
    if index != list(range(index[0], index[-1] + 1)):
        raise FlagDataError("present in %s, not in consecutive releases" % ", ".join(present))
    added = None if index[0] == 0 else minors[index[0]]
    removed = None if index[-1] == len(minors) - 1 else minors[index[-1] + 1]
    return added, removed


def release_data(datas):
    """The content of plugins/module_utils/data/k8s_release_flags.json from {minor: flag data} (the shape
    k8s_flag_data.FILES["k8s_release_flags"] checks, documented in k8s_flags.py and kubeadm_config.py):

        releases            minor -> the patch release the data was read from
        flags               component -> flag -> [type, added, removed]: accepted for added <= minor < removed;
                            added null: since the first minor of releases, removed null: still in the last
        hidden              component -> the flags names the binaries accept without printing them (MarkDeprecated)
        admission_plugins   plugin -> [added, removed], the same way
        kubeadm_manifests   minor -> component -> what kubeadm writes by default: args (flag -> literal value, or
                            null when derived from the node's or cluster's configuration) and hostPath volumes
                            (name -> [host path, mount path, read-only], a path null when derived from the
                            configuration; the CA certificate directories kubeadm mounts only when the node has
                            them are [null, null, true])
    """
    minors = sorted(datas, key=_minor_key)
    flags, hidden = {}, {}
    for component in sorted(datas[minors[0]]["components"]):
        types = {}
        for minor in minors:
            info = datas[minor]["components"][component]
            for name, kind in list(info["flags"].items()) + list(info.get("hidden_flags", {}).items()):
                types.setdefault(name, {})[minor] = kind
                if name in info.get("hidden_flags", {}):
                    hidden.setdefault(component, set()).add(name)
        flags[component] = {}
        for name in sorted(types):
            kinds = set(types[name].values())
            if len(kinds) != 1:
                raise FlagDataError("%s --%s changes type across releases: %s" % (component, name, types[name]))
            try:
                added, removed = _ranges(sorted(types[name], key=_minor_key), minors)
            except FlagDataError as exc:
                raise FlagDataError("%s --%s: %s" % (component, name, exc)) from None
            flags[component][name] = [kinds.pop(), added, removed]
    plugins = {}
    for minor in minors:
        for name in datas[minor]["components"]["kube-apiserver"]["admission_plugins"]:
            plugins.setdefault(name, []).append(minor)
    return {
        "releases": {minor: datas[minor]["kubernetes_version"] for minor in minors},
        "flags": flags,
        "hidden": {component: sorted(names) for component, names in hidden.items()},
        "admission_plugins": {name: list(_ranges(present, minors)) for name, present in plugins.items()},
        "kubeadm_manifests": {minor: {component: {
            "args": info["args"],
            "volumes": {name: [volume["host_path"], volume["mount_path"], bool(volume["read_only"])]
                        for name, volume in info["volumes"].items()},
        } for component, info in datas[minor]["kubeadm"].items()} for minor in minors},
    }


def _flag_data_module():
    """plugins/module_utils/k8s_flag_data.py (its dumps() is the canonical text of the data files), loaded by path:
    this script runs from a checkout with the standard library only."""
    _preload_collection_module("k8s_version")
    return _preload_collection_module("k8s_flag_data")


def render_release_data(datas):
    """The text of plugins/module_utils/data/k8s_release_flags.json from {minor: flag data}; checked against the
    product's own validation (k8s_flag_data.FILES) before it is written."""
    module = _flag_data_module()
    data = release_data(datas)
    try:
        module.validate("k8s_release_flags", json.loads(json.dumps(data)), RELEASE_DATA.name)
    except module.DataFileError as exc:
        raise FlagDataError("the rendered release data does not pass k8s_flag_data's check: %s" % exc) from None
    return module.dumps(data)


def committed_data():
    return {minor: json.loads((OUT_DIR / ("%s.json" % minor)).read_text(encoding="utf-8"))
            for minor in committed_minors()}


def check_release_data():
    """0 when plugins/module_utils/data/k8s_release_flags.json is what the committed JSON renders to, else 1 with a
    diff."""
    text = render_release_data(committed_data())
    old = RELEASE_DATA.read_text(encoding="utf-8") if RELEASE_DATA.is_file() else ""
    if old == text:
        print("%s: up to date" % RELEASE_DATA.relative_to(HERE.parent.parent))
        return 0
    name = RELEASE_DATA.name
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                               "committed/%s" % name, "rendered/%s" % name))
    sys.stderr.write("flag_data.py: %s differs from the committed flag data; run tests/testbed/flag_data.py render\n"
                     % RELEASE_DATA.relative_to(HERE.parent.parent))
    return 1


def write_release_data():
    RELEASE_DATA.write_text(render_release_data(committed_data()), encoding="utf-8")
    print("wrote %s" % RELEASE_DATA.relative_to(HERE.parent.parent))


def main(argv):
    if len(argv) < 2 or argv[1] not in ("write", "check", "show", "probe", "probe-gates", "render"):
        sys.stderr.write(__doc__)
        return 2
    command, minors = argv[1], argv[2:]
    if command == "render":
        write_release_data()
        return 0
    if command == "probe-gates":
        if len(minors) < 2:
            sys.stderr.write("probe-gates takes MINOR NAME=VALUE ...\n")
            return 2
        results = probe_gates(minors[0], minors[1:])
        for name in sorted(results):
            verdict = "accepts" if results[name] is None else "REFUSES"
            print("kube-scheduler %s %s%s" % (verdict, name, " (%s)" % results[name] if results[name] else ""))
        return 0 if all(r is None for r in results.values()) else 1
    if command == "probe":
        if len(minors) < 3:
            sys.stderr.write("probe takes MINOR COMPONENT --flag=value ...\n")
            return 2
        results = probe(minors[0], minors[1], minors[2:])
        for arg, accepted, note in results:
            print("%s %s %s%s" % (minors[1], "accepts" if accepted else "REFUSES", arg, " (%s)" % note if note else ""))
        return 0 if all(accepted for dummy, accepted, dummy2 in results) else 1
    if command == "show":
        if len(minors) != 1:
            sys.stderr.write("show takes one minor\n")
            return 2
        sys.stdout.write(dumps(generate(minors[0])))
        return 0
    if not minors and command == "check":
        built = set(built_minors())
        for minor in committed_minors():
            if minor not in built:
                print("tests/testbed/flags/%s.json: not checked, Kubernetes %s is not built" % (minor, minor))
        minors = [minor for minor in committed_minors() if minor in built]
    elif not minors:
        minors = built_minors()
    if not minors:
        sys.stderr.write("flag_data.py: no minors (nothing built in %s, nothing committed in %s)\n" % (CACHE, OUT_DIR))
        return 2
    failed = 0
    for minor in minors:
        try:
            text = dumps(generate(minor))
        except (FlagDataError, OSError, subprocess.SubprocessError) as exc:
            sys.stderr.write("flag_data.py: %s: %s\n" % (minor, exc))
            return 2
        path = OUT_DIR / ("%s.json" % minor)
        if command == "write":
            OUT_DIR.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print("wrote %s" % path.relative_to(HERE.parent.parent))
            continue
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        if old != text:
            failed = 1
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                       "committed/%s" % path.name, "binaries/%s" % path.name))
        else:
            print("%s: up to date" % path.relative_to(HERE.parent.parent))
    if failed:
        sys.stderr.write("flag_data.py: committed flag data differs from the binaries; run "
                         "tests/testbed/flag_data.py write and review the change\n")
    if command == "write":
        write_release_data()
        return 0
    return check_release_data() or failed


if __name__ == "__main__":
    sys.exit(main(sys.argv))
