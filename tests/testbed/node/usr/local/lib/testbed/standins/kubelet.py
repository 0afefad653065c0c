"""The kubelet stand-in: flags over its KubeletConfiguration, the CRI socket, protectKernelDefaults against
the node's sysctls, /healthz, and the HTTPS API on 10250.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import threading
import urllib.parse

from .core import enoent, env_value, go_parse_bool, go_quote, klog, klogf, StandinError
from .files import load_ca, load_pair
from .configs import check_field_types, json_kind, load_kubeconfig, not_registered, strict_error, type_meta, yaml_load
from .serving import (
    as_json, check_cipher_suites, check_tls_version, make_server_context, METRICS_BODY, NOT_FOUND, PPROF_INDEX,
    self_signed_pair, text,
)
from .component import Component

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
    file_flags = ("config", "client-ca-file", "tls-cert-file", "tls-private-key-file", "image-credential-provider-config",
                  "cloud-config")
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
                    raise ValueError(f"json: cannot unmarshal {json_kind(value)} into Go struct field "
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
        root = env_value("TESTBED_SYSCTL_ROOT", "/proc/sys")
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
