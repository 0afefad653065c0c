"""The kube-proxy stand-in: KubeProxyConfiguration, its kubeconfig, and plain-HTTP healthz and metrics.
"""

from __future__ import annotations

import datetime
import re

from .core import go_quote, klog, StandinError
from .configs import (
    check_field_types, load_kubeconfig, not_registered, strict_error, type_meta, unknown_fields, yaml_load,
)
from .serving import as_json, METRICS_BODY, NOT_FOUND, PPROF_INDEX, text
from .component import Component

KUBE_PROXY_FIELDS = {"apiVersion", "kind", "bindAddress", "bindAddressHardFail", "clientConnection", "clusterCIDR",
                     "configSyncPeriod", "conntrack", "detectLocal", "detectLocalMode", "enableProfiling",
                     "featureGates", "healthzBindAddress", "hostnameOverride", "iptables", "ipvs", "nftables",
                     "linux", "windows", "logging", "metricsBindAddress", "mode", "nodePortAddresses",
                     "oomScoreAdj", "portRange", "showHiddenMetricsForVersion", "udpIdleTimeout", "winkernel",
                     "syncPeriod", "minSyncPeriod", "windowsRunAsService", "ipFamilyPolicy"}


class KubeProxy(Component):
    name = "kube-proxy"
    file_flags = ("config", "kubeconfig")

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
