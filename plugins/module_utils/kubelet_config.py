# -*- coding: utf-8 -*-
# Copyright: secure_cluster.k8s maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge requested settings into a kubelet ``KubeletConfiguration`` (kubelet.config.k8s.io/v1beta1) and validate
the result before it is written.

Used on the controller by the ``kubelet_config`` action plugin; pure logic on dicts plus YAML parsing/rendering
(PyYAML, which ships with ansible-core; the import is guarded so the file also imports without it).

Public API::

    KERNEL_DEFAULTS                           sysctls kubelet's protectKernelDefaults checks, with expected values
    fields_for(version) -> {field: type}      top-level v1beta1 fields the kubelet of that minor knows
    check_field(version, name) -> None | sentence
    deep_merge(base, settings, keep_none=False) -> dict
                                              new dict; a None value in settings removes the key (keep_none:
                                              is kept, for settings merged before they meet the file)
    changed_keys(before, after) -> [dotted paths]
    named_files(config) -> {dotted field: path}
    validate(config, version, settings=None, sysctls=None, file_exists=None) -> (problems, warnings)
    parse_config(text) -> dict                ValueError when not a v1beta1 KubeletConfiguration
    render(config) -> str                     YAML as kubeadm writes it (keys sorted, block style)
    plan(current_text, settings, version, sysctls=None, file_exists=None) -> dict

Where the field list comes from: the v1beta1 ``KubeletConfiguration`` struct (k8s.io/kubelet/config/v1beta1,
types.go). For 1.34-1.37 it is checked against the source each real kubelet of the test bed was built from
(tests/testbed/flags/<minor>.json, tests/unit/testbed/test_real_flags.py); 1.36 added memoryReservationPolicy
and tlsCurvePreferences, 1.37 defaultPodSysctls. The attributions before 1.34 come from the v1.29-v1.34 release
notes (podLogsDir, imageMaximumGCAge 1.29; containerLogMaxWorkers, containerLogMonitorInterval 1.30;
failCgroupV1 1.31; crashLoopBackOff, singleProcessOOMKill 1.32; imagePullCredentialsVerificationPolicy,
preloadedImagesVerificationAllowlist, userNamespaces 1.33; mergeDefaultEvictionSettings 1.34) and are not checked
against a binary.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.secure_cluster.k8s.plugins.module_utils import k8s_args, k8s_flags, k8s_version

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None
    HAS_YAML = False

if HAS_YAML:
    class _KubeDumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
        """sigs.k8s.io/yaml style, as kubeadm writes the file: double quotes where quoting is needed, no anchors."""

        def choose_scalar_style(self):
            style = super(_KubeDumper, self).choose_scalar_style()
            return '"' if style == "'" else style

        def ignore_aliases(self, data):
            return True

API_VERSION = "kubelet.config.k8s.io/v1beta1"
KIND = "KubeletConfiguration"
SUPPORTED_MINORS = k8s_version.SUPPORTED_MINORS

# What the kubelet checks at start when protectKernelDefaults is true (pkg/kubelet/cm, setupKernelTunables).
KERNEL_DEFAULTS = (
    ("vm.overcommit_memory", 1),
    ("vm.panic_on_oom", 0),
    ("kernel.panic", 10),
    ("kernel.panic_on_oops", 1),
    ("kernel.keys.root_maxkeys", 1000000),
    ("kernel.keys.root_maxbytes", 25000000),
)

# field -> (type, first minor that knows it); fields older than 1.28 carry "1.28".
_FIELDS = {
    "enableServer": ("bool", "1.28"), "staticPodPath": ("string", "1.28"), "syncFrequency": ("duration", "1.28"),
    "fileCheckFrequency": ("duration", "1.28"), "httpCheckFrequency": ("duration", "1.28"),
    "staticPodURL": ("string", "1.28"), "staticPodURLHeader": ("map", "1.28"), "address": ("string", "1.28"),
    "port": ("int32", "1.28"), "readOnlyPort": ("int32", "1.28"), "tlsCertFile": ("string", "1.28"),
    "tlsPrivateKeyFile": ("string", "1.28"), "tlsCipherSuites": ("list", "1.28"),
    "tlsMinVersion": ("string", "1.28"), "rotateCertificates": ("bool", "1.28"),
    "serverTLSBootstrap": ("bool", "1.28"), "authentication": ("map", "1.28"), "authorization": ("map", "1.28"),
    "registryPullQPS": ("int32", "1.28"), "registryBurst": ("int32", "1.28"), "eventRecordQPS": ("int32", "1.28"),
    "eventBurst": ("int32", "1.28"), "enableDebuggingHandlers": ("bool", "1.28"),
    "enableContentionProfiling": ("bool", "1.28"), "healthzPort": ("int32", "1.28"),
    "healthzBindAddress": ("string", "1.28"), "oomScoreAdj": ("int32", "1.28"),
    "clusterDomain": ("string", "1.28"), "clusterDNS": ("list", "1.28"),
    "streamingConnectionIdleTimeout": ("duration", "1.28"), "nodeStatusUpdateFrequency": ("duration", "1.28"),
    "nodeStatusReportFrequency": ("duration", "1.28"), "nodeLeaseDurationSeconds": ("int32", "1.28"),
    "imageMinimumGCAge": ("duration", "1.28"), "imageGCHighThresholdPercent": ("int32", "1.28"),
    "imageGCLowThresholdPercent": ("int32", "1.28"), "volumeStatsAggPeriod": ("duration", "1.28"),
    "kubeletCgroups": ("string", "1.28"), "systemCgroups": ("string", "1.28"), "cgroupRoot": ("string", "1.28"),
    "cgroupsPerQOS": ("bool", "1.28"), "cgroupDriver": ("string", "1.28"), "cpuManagerPolicy": ("string", "1.28"),
    "cpuManagerPolicyOptions": ("map", "1.28"), "cpuManagerReconcilePeriod": ("duration", "1.28"),
    "memoryManagerPolicy": ("string", "1.28"), "topologyManagerPolicy": ("string", "1.28"),
    "topologyManagerScope": ("string", "1.28"), "topologyManagerPolicyOptions": ("map", "1.28"),
    "qosReserved": ("map", "1.28"), "runtimeRequestTimeout": ("duration", "1.28"), "hairpinMode": ("string", "1.28"),
    "maxPods": ("int32", "1.28"), "podCIDR": ("string", "1.28"), "podPidsLimit": ("int64", "1.28"),
    "resolvConf": ("string", "1.28"), "runOnce": ("bool", "1.28"), "cpuCFSQuota": ("bool", "1.28"),
    "cpuCFSQuotaPeriod": ("duration", "1.28"), "nodeStatusMaxImages": ("int32", "1.28"),
    "maxOpenFiles": ("int64", "1.28"), "contentType": ("string", "1.28"), "kubeAPIQPS": ("int32", "1.28"),
    "kubeAPIBurst": ("int32", "1.28"), "serializeImagePulls": ("bool", "1.28"),
    "maxParallelImagePulls": ("int32", "1.28"), "evictionHard": ("map", "1.28"), "evictionSoft": ("map", "1.28"),
    "evictionSoftGracePeriod": ("map", "1.28"), "evictionPressureTransitionPeriod": ("duration", "1.28"),
    "evictionMaxPodGracePeriod": ("int32", "1.28"), "evictionMinimumReclaim": ("map", "1.28"),
    "podsPerCore": ("int32", "1.28"), "enableControllerAttachDetach": ("bool", "1.28"),
    "protectKernelDefaults": ("bool", "1.28"), "makeIPTablesUtilChains": ("bool", "1.28"),
    "iptablesMasqueradeBit": ("int32", "1.28"), "iptablesDropBit": ("int32", "1.28"),
    "featureGates": ("map", "1.28"), "failSwapOn": ("bool", "1.28"), "memorySwap": ("map", "1.28"),
    "containerLogMaxSize": ("string", "1.28"), "containerLogMaxFiles": ("int32", "1.28"),
    "configMapAndSecretChangeDetectionStrategy": ("string", "1.28"), "systemReserved": ("map", "1.28"),
    "kubeReserved": ("map", "1.28"), "reservedSystemCPUs": ("string", "1.28"),
    "showHiddenMetricsForVersion": ("string", "1.28"), "systemReservedCgroup": ("string", "1.28"),
    "kubeReservedCgroup": ("string", "1.28"), "enforceNodeAllocatable": ("list", "1.28"),
    "allowedUnsafeSysctls": ("list", "1.28"), "volumePluginDir": ("string", "1.28"),
    "providerID": ("string", "1.28"), "kernelMemcgNotification": ("bool", "1.28"), "logging": ("map", "1.28"),
    "enableSystemLogHandler": ("bool", "1.28"), "enableSystemLogQuery": ("bool", "1.28"),
    "shutdownGracePeriod": ("duration", "1.28"), "shutdownGracePeriodCriticalPods": ("duration", "1.28"),
    "shutdownGracePeriodByPodPriority": ("list", "1.28"), "reservedMemory": ("list", "1.28"),
    "enableProfilingHandler": ("bool", "1.28"), "enableDebugFlagsHandler": ("bool", "1.28"),
    "seccompDefault": ("bool", "1.28"), "memoryThrottlingFactor": ("float", "1.28"),
    "registerWithTaints": ("list", "1.28"), "registerNode": ("bool", "1.28"), "tracing": ("map", "1.28"),
    "localStorageCapacityIsolation": ("bool", "1.28"), "containerRuntimeEndpoint": ("string", "1.28"),
    "imageServiceEndpoint": ("string", "1.28"),
    # added later
    "podLogsDir": ("string", "1.29"), "imageMaximumGCAge": ("duration", "1.29"),
    "containerLogMaxWorkers": ("int32", "1.30"), "containerLogMonitorInterval": ("duration", "1.30"),
    "failCgroupV1": ("bool", "1.31"),
    "crashLoopBackOff": ("map", "1.32"), "singleProcessOOMKill": ("bool", "1.32"),
    "imagePullCredentialsVerificationPolicy": ("string", "1.33"),
    "preloadedImagesVerificationAllowlist": ("list", "1.33"), "userNamespaces": ("map", "1.33"),
    "mergeDefaultEvictionSettings": ("bool", "1.34"),
    "memoryReservationPolicy": ("string", "1.36"), "tlsCurvePreferences": ("list", "1.36"),
    "defaultPodSysctls": ("map", "1.37"),
}

# Nested structures whose fields are checked too: dotted path -> type.
_NESTED = {
    "authentication.anonymous": "map", "authentication.anonymous.enabled": "bool",
    "authentication.webhook": "map", "authentication.webhook.enabled": "bool",
    "authentication.webhook.cacheTTL": "duration",
    "authentication.x509": "map", "authentication.x509.clientCAFile": "string",
    "authorization.mode": "string", "authorization.webhook": "map",
    "authorization.webhook.cacheAuthorizedTTL": "duration", "authorization.webhook.cacheUnauthorizedTTL": "duration",
}
# v1beta1 defaults that matter for the cross-field checks (SetDefaults_KubeletConfiguration).
_DEFAULTS = {
    "authentication.anonymous.enabled": False,
    "authentication.webhook.enabled": True,
    "authorization.mode": "Webhook",
}

AUTHORIZATION_MODES = ("AlwaysAllow", "Webhook")
CGROUP_DRIVERS = ("cgroupfs", "systemd")
# Fields naming files the kubelet reads at start.
FILE_FIELDS = ("authentication.x509.clientCAFile", "tlsCertFile", "tlsPrivateKeyFile")

_DURATION_RE = re.compile(r"^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$")
_INT_RANGES = {"int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}
_MISSING = object()


def minor(version):
    """``v1.33.5`` / ``Kubernetes v1.33.5`` / ``1.33`` -> ``1.33``; ValueError when malformed or unsupported."""
    return k8s_version.minor(version, SUPPORTED_MINORS)


_key = k8s_version.minor_key


def fields_for(version):
    """Top-level KubeletConfiguration fields (name -> type) the kubelet of ``version`` knows."""
    wanted = _key(minor(version))
    return dict((name, typ) for name, (typ, added) in _FIELDS.items() if _key(added) <= wanted)


def check_field(version, name):
    """None when ``name`` is a top-level v1beta1 field of that kubelet; otherwise a sentence saying why not."""
    ver = minor(version)
    if name in ("apiVersion", "kind"):
        return None
    known = _FIELDS.get(name)
    if known is None:
        return ("%r is not a KubeletConfiguration (%s) field the kubelet knows: kubelet v%s would ignore it and "
                "the setting would not take effect" % (name, API_VERSION, ver))
    if _key(known[1]) > _key(ver):
        return ("%r is not a KubeletConfiguration field in kubelet v%s: it was added in v%s; kubelet v%s would "
                "ignore it and the setting would not take effect" % (name, ver, known[1], ver))
    return None


def deep_merge(base, settings, keep_none=False):
    """Merge ``settings`` into a deep copy of ``base``: dicts are merged key by key, other values replace, and a
    ``None`` value removes the key. With ``keep_none`` a ``None`` replaces like any other value: layers of settings
    merged into one keep their removals for the merge into the file."""
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in (settings or {}).items():
        if value is None and not keep_none:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value, keep_none)
        elif isinstance(value, dict):
            out[key] = deep_merge({}, value, keep_none)
        else:
            out[key] = copy.deepcopy(value)
    return out


def changed_keys(before, after, prefix=""):
    """Dotted paths of the leaves that differ between two configurations (dicts recursed, lists compared whole)."""
    keys = []
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        path = "%s%s" % (prefix, key)
        if isinstance(old, dict) and isinstance(new, dict):
            keys.extend(changed_keys(old, new, path + "."))
        elif old is _MISSING or new is _MISSING or old != new or type(old) is not type(new):
            keys.append(path)
    return keys


def dget(obj, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def named_files(config):
    """Files the configuration names that the kubelet reads at start: {dotted field: path} (empty ones skipped)."""
    out = {}
    for field in FILE_FIELDS:
        value = dget(config, field)
        if isinstance(value, str) and value:
            out[field] = value
    return out


def _type_problem(path, typ, value):
    if value is None:
        return None
    if typ == "bool":
        ok = isinstance(value, bool)
    elif typ in _INT_RANGES:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok:
            low, high = _INT_RANGES[typ]
            if not low <= value <= high:
                return "%s: %d is out of range for %s" % (path, value, typ)
    elif typ == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif typ == "string":
        ok = isinstance(value, str)
    elif typ == "duration":
        if not isinstance(value, str):
            return ("%s: must be a duration string such as \"5m\" or \"4h0m0s\" (got %s %r)"
                    % (path, type(value).__name__, value))
        if value != "0" and not _DURATION_RE.match(value):
            return "%s: %r is not a Go duration (use forms such as \"5m\", \"4h0m0s\", \"300ms\")" % (path, value)
        return None
    elif typ == "list":
        ok = isinstance(value, list)
    elif typ == "map":
        ok = isinstance(value, dict)
    else:  # pragma: no cover - table error
        return None
    if not ok:
        names = {"bool": "a boolean", "int32": "an integer", "int64": "an integer", "float": "a number",
                 "string": "a string", "list": "a list", "map": "a mapping"}
        return "%s: must be %s (got %s %r)" % (path, names[typ], type(value).__name__, value)
    return None


def _port_problem(config, field, low):
    value = config.get(field)
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    if not low <= value <= 65535:
        return "%s: %d must be between %d and 65535, inclusive" % (field, value, low)
    return None


def kernel_problems(sysctls):
    """Sentences for each kubelet-checked kernel parameter that differs from its expected value."""
    out = []
    sysctls = sysctls or {}
    for name, expected in KERNEL_DEFAULTS:
        raw = sysctls.get(name)
        actual = None
        if raw is not None:
            try:
                actual = int(str(raw).split()[0])
            except (ValueError, IndexError):
                actual = None
        if actual != expected:
            out.append("%s expected %d, actual %s" % (name, expected, "unreadable" if raw is None else str(raw).strip()))
    return out


def validate(config, version, settings=None, sysctls=None, file_exists=None):
    """Check a merged configuration. Returns ``(problems, warnings)`` (lists of sentences).

    ``settings``: the requested settings; their top-level names (and authentication/authorization sub-fields)
    must be known to the kubelet of ``version``. Unknown fields already in the file only warn.
    ``sysctls``: {name: value} of the node, needed when protectKernelDefaults is true.
    ``file_exists``: callable(path) -> True/False/None (None: unknown, not judged).
    """
    problems, warnings = [], []
    ver = minor(version)
    settings = settings or {}
    if not isinstance(config, dict):
        return ["the configuration is not a mapping"], warnings
    for name in ("apiVersion", "kind"):
        wanted = API_VERSION if name == "apiVersion" else KIND
        if config.get(name) != wanted:
            problems.append("%s must be %r (got %r)" % (name, wanted, config.get(name)))
    for name in settings:
        problem = check_field(ver, name)
        if problem:
            problems.append(problem)
    for name in config:
        if name not in settings and check_field(ver, name):
            warnings.append("the configuration file already has %s" % check_field(ver, name))
    known = fields_for(ver)
    for name, value in config.items():
        if name in known:
            problem = _type_problem(name, known[name], value)
            if problem:
                problems.append(problem)
    for path, typ in sorted(_NESTED.items()):
        problem = _type_problem(path, typ, dget(config, path))
        if problem:
            problems.append(problem)
    for section in ("authentication", "authorization"):
        requested = settings.get(section)
        if not isinstance(requested, dict):
            continue
        for sub, value in requested.items():
            path = "%s.%s" % (section, sub)
            if path not in _NESTED:
                problems.append("%r is not a field of KubeletConfiguration.%s: the kubelet would ignore it and the "
                                "setting would not take effect" % (path, section))
            elif isinstance(value, dict):
                for leaf in value:
                    if "%s.%s" % (path, leaf) not in _NESTED:
                        problems.append("%r is not a field of KubeletConfiguration.%s: the kubelet would ignore it "
                                        "and the setting would not take effect" % ("%s.%s" % (path, leaf), path))
    if problems:
        return problems, warnings

    for field, low in (("readOnlyPort", 0), ("healthzPort", 0), ("port", 1)):
        problem = _port_problem(config, field, low)
        if problem:
            problems.append(problem)
    for field in ("eventRecordQPS", "eventBurst", "registryPullQPS", "registryBurst"):
        value = config.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            problems.append("%s: %d must not be negative" % (field, value))
    driver = config.get("cgroupDriver")
    if driver not in (None, "") and driver not in CGROUP_DRIVERS:
        problems.append("cgroupDriver: %r must be one of %s" % (driver, ", ".join(CGROUP_DRIVERS)))
    tls_min = config.get("tlsMinVersion")
    if tls_min not in (None, ""):
        problem = k8s_flags.check_tls_min_version(tls_min)
        if problem:
            problems.append("tlsMinVersion: %s" % problem)
    for suite in config.get("tlsCipherSuites") or []:
        problem, warning = k8s_flags.check_cipher_suite(suite)
        if problem:
            problems.append("tlsCipherSuites: %s" % problem)
        elif warning:
            warnings.append("tlsCipherSuites: %s" % warning)
    requested_gates = settings.get("featureGates") if isinstance(settings.get("featureGates"), dict) else {}
    for gate, value in (config.get("featureGates") or {}).items():
        if not isinstance(value, bool):
            problems.append("featureGates.%s: must be a boolean (got %r)" % (gate, value))
        elif gate in requested_gates:
            # Only gates the settings name: gates already in the file run as they are.
            problem = k8s_flags.check_feature_gate("kubelet", ver, gate, value)
            if problem:
                problems.append("featureGates.%s: %s" % (gate, problem))
    mode = dget(config, "authorization.mode", _DEFAULTS["authorization.mode"])
    if mode not in AUTHORIZATION_MODES:
        problems.append("authorization.mode: %r must be one of %s" % (mode, ", ".join(AUTHORIZATION_MODES)))
    anonymous = dget(config, "authentication.anonymous.enabled", _DEFAULTS["authentication.anonymous.enabled"])
    webhook = dget(config, "authentication.webhook.enabled", _DEFAULTS["authentication.webhook.enabled"])
    client_ca = dget(config, "authentication.x509.clientCAFile") or ""
    if anonymous is False and not webhook and not client_ca:
        problems.append("authentication.anonymous.enabled: false needs another authenticator: enable "
                        "authentication.webhook.enabled or set authentication.x509.clientCAFile, otherwise every "
                        "request to the kubelet is refused")
    if mode == "Webhook" and not webhook:
        problems.append("authorization.mode: Webhook requires authentication.webhook.enabled: true")

    if file_exists is not None:
        for field, path in sorted(named_files(config).items()):
            if file_exists(path) is False:
                problems.append("%s: %s does not exist on the node; the kubelet would refuse to start" % (field, path))

    if config.get("protectKernelDefaults") is True:
        wrong = kernel_problems(sysctls)
        if wrong:
            problems.append("protectKernelDefaults: true is refused: the kubelet would refuse to start because these "
                            "kernel parameters differ from what it expects: %s. Set them first (the "
                            "secure_cluster.k8s kernel role does)" % "; ".join(wrong))
    return problems, warnings


def parse_config(text):
    """YAML text -> dict; ValueError unless it is a kubelet.config.k8s.io/v1beta1 KubeletConfiguration."""
    if not HAS_YAML:  # pragma: no cover
        raise ValueError("PyYAML is required on the controller")
    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError as exc:
        raise ValueError("the kubelet configuration is not valid YAML: %s" % exc)
    if not isinstance(data, dict):
        raise ValueError("the kubelet configuration is not a YAML mapping")
    if data.get("kind") != KIND or data.get("apiVersion") != API_VERSION:
        raise ValueError("the kubelet configuration is not a %s %s (kind %r, apiVersion %r)"
                         % (API_VERSION, KIND, data.get("kind"), data.get("apiVersion")))
    return data


def render(config):
    """YAML the way kubeadm writes the file: keys sorted, block style."""
    if not HAS_YAML:  # pragma: no cover
        raise ValueError("PyYAML is required on the controller")
    return yaml.dump(config, Dumper=_KubeDumper, default_flow_style=False, sort_keys=True, allow_unicode=True,
                     width=1 << 30)


def _keep_equal_durations(before, after, version):
    """``after`` with each duration that means the same as in ``before`` written as ``before`` has it: kubeadm
    writes Go's form (``5m0s``), a role variable may say ``5m``, and rewriting one as the other would restart the
    kubelet for nothing."""
    paths = [name for name, typ in fields_for(version).items() if typ == "duration"]
    paths += [path for path, typ in _NESTED.items() if typ == "duration"]
    for path in paths:
        old, new = dget(before, path, _MISSING), dget(after, path, _MISSING)
        if (isinstance(old, str) and isinstance(new, str) and old != new
                and k8s_args.parse_duration(old) is not None
                and k8s_args.parse_duration(old) == k8s_args.parse_duration(new)):
            node = after
            parts = path.split(".")
            for part in parts[:-1]:
                node = node[part]
            node[parts[-1]] = old
    return after


def plan(current_text, settings, version, sysctls=None, file_exists=None):
    """Everything the action plugin decides, without touching a node.

    Returns ``{"before", "after"`` (dicts), ``"changed_keys"``, ``"problems"``, ``"warnings"``,
    ``"after_text"`` (rendered YAML when the content changes, else None)}. ``problems`` non-empty: do not write.
    """
    result = {"before": None, "after": None, "changed_keys": [], "problems": [], "warnings": [], "after_text": None}
    try:
        minor(version)
    except ValueError as exc:
        result["problems"].append(str(exc))
        return result
    if not isinstance(settings, dict):
        result["problems"].append("settings must be a mapping")
        return result
    try:
        before = parse_config(current_text)
    except ValueError as exc:
        result["problems"].append(str(exc))
        return result
    after = _keep_equal_durations(before, deep_merge(before, settings), version)
    result["before"], result["after"] = before, after
    problems, warnings = validate(after, version, settings=settings, sysctls=sysctls, file_exists=file_exists)
    result["problems"], result["warnings"] = problems, warnings
    result["changed_keys"] = changed_keys(before, after)
    if result["changed_keys"]:
        result["after_text"] = render(after)
    return result
