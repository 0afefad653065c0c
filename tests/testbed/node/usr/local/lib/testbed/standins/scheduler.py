"""The kube-scheduler stand-in: delegated serving plus its KubeSchedulerConfiguration (--config).
"""

from __future__ import annotations


from .core import StandinError
from .configs import check_field_types, not_registered, strict_error, type_meta, unknown_fields, yaml_load
from .component import DelegatingComponent

SCHEDULER_CONFIG_FIELDS = {"apiVersion", "kind", "parallelism", "leaderElection", "clientConnection",
                           "enableProfiling", "enableContentionProfiling", "percentageOfNodesToScore",
                           "podInitialBackoffSeconds", "podMaxBackoffSeconds", "profiles", "extenders",
                           "delayCacheUntilActive"}


class Scheduler(DelegatingComponent):
    name = "kube-scheduler"
    file_flags = (
        "config", "kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "client-ca-file",
        "requestheader-client-ca-file", "tls-cert-file", "tls-private-key-file")
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
