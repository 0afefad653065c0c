"""The node's other configuration as kubeadm and the Kubernetes packages write it (pure): KubeletConfiguration,
kubeadm-flags.env, the kube-proxy configuration and kubeconfig, containerd's config.
"""

from __future__ import annotations

import re

from .release import at_least, CLUSTER_DNS, CRI_SOCKET, DNS_DOMAIN, pause_image, PKI
from .manifests import command


# ----------------------------------------------------------------------------------------------------------------
# kubelet, kube-proxy and containerd configuration (pure)
# ----------------------------------------------------------------------------------------------------------------


def logging_config(minor: str) -> dict:
    options = {"json": {"infoBufferSize": "0"}}
    if at_least(minor, "logging_text_options"):
        options["text"] = {"infoBufferSize": "0"}
    return {"flushFrequency": 0, "options": options, "verbosity": 0}


def kubelet_config(minor: str) -> dict:
    """/var/lib/kubelet/config.yaml as kubeadm writes it (its defaulted KubeletConfiguration, zero durations and
    all), with the instance configuration merged in from 1.34."""
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"cacheTTL": "0s", "enabled": True},
            "x509": {"clientCAFile": f"{PKI}/ca.crt"},
        },
        "authorization": {
            "mode": "Webhook",
            "webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"},
        },
        "cgroupDriver": "systemd",
        "clusterDNS": [CLUSTER_DNS],
        "clusterDomain": DNS_DOMAIN,
        "containerRuntimeEndpoint": CRI_SOCKET if at_least(minor, "node_local_cri_socket") else "",
        "cpuManagerReconcilePeriod": "0s",
        "evictionPressureTransitionPeriod": "0s",
        "fileCheckFrequency": "0s",
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "httpCheckFrequency": "0s",
        "imageMinimumGCAge": "0s",
        "kind": "KubeletConfiguration",
        "logging": logging_config(minor),
        "memorySwap": {},
        "nodeStatusReportFrequency": "0s",
        "nodeStatusUpdateFrequency": "0s",
        "rotateCertificates": True,
        "runtimeRequestTimeout": "0s",
        "shutdownGracePeriod": "0s",
        "shutdownGracePeriodCriticalPods": "0s",
        "staticPodPath": "/etc/kubernetes/manifests",
        "streamingConnectionIdleTimeout": "0s",
        "syncFrequency": "0s",
        "volumeStatsAggPeriod": "0s",
    }
    if at_least(minor, "kubelet_image_maximum_gc_age"):
        config["imageMaximumGCAge"] = "0s"
    if at_least(minor, "kubelet_crash_loop_back_off"):
        config["crashLoopBackOff"] = {}
    return config


def kubelet_instance_config(minor: str) -> str | None:
    """/var/lib/kubelet/instance-config.yaml (NodeLocalCRISocket, 1.34+), verbatim as kubeadm writes it."""
    if not at_least(minor, "node_local_cri_socket"):
        return None
    return f'containerRuntimeEndpoint: "{CRI_SOCKET}"\n'


def kubeadm_flags_env(minor: str) -> str:
    """/var/lib/kubelet/kubeadm-flags.env."""
    flags = {}
    if not at_least(minor, "node_local_cri_socket"):
        flags["container-runtime-endpoint"] = CRI_SOCKET
    if not at_least(minor, "no_pod_infra_container_image"):
        flags["pod-infra-container-image"] = pause_image(minor)
    args = " ".join(command("", flags)[1:])
    return f'KUBELET_KUBEADM_ARGS="{args}"\n'


def kube_proxy_config(minor: str) -> dict:
    """config.conf of kubeadm's kube-proxy ConfigMap (defaulted KubeProxyConfiguration v1alpha1)."""
    conntrack = {"maxPerCore": None, "min": None, "tcpCloseWaitTimeout": None, "tcpEstablishedTimeout": None}
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "bindAddress": "0.0.0.0",
        "bindAddressHardFail": False,
        "clientConnection": {
            "acceptContentTypes": "",
            "burst": 0,
            "contentType": "",
            "kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf",
            "qps": 0,
        },
        "clusterCIDR": "",
        "configSyncPeriod": "0s",
        "conntrack": conntrack,
        "detectLocal": {"bridgeInterface": "", "interfaceNamePrefix": ""},
        "detectLocalMode": "",
        "enableProfiling": False,
        "healthzBindAddress": "",
        "hostnameOverride": "",
        "iptables": {
            "localhostNodePorts": None,
            "masqueradeAll": False,
            "masqueradeBit": None,
            "minSyncPeriod": "0s",
            "syncPeriod": "0s",
        },
        "ipvs": {
            "excludeCIDRs": None,
            "minSyncPeriod": "0s",
            "scheduler": "",
            "strictARP": False,
            "syncPeriod": "0s",
            "tcpFinTimeout": "0s",
            "tcpTimeout": "0s",
            "udpTimeout": "0s",
        },
        "kind": "KubeProxyConfiguration",
        "logging": logging_config(minor),
        "metricsBindAddress": "",
        "mode": "",
        "nodePortAddresses": None,
        "oomScoreAdj": None,
        "portRange": "",
        "showHiddenMetricsForVersion": "",
        "winkernel": {
            "enableDSR": False,
            "forwardHealthCheckVip": False,
            "networkName": "",
            "rootHnsEndpointName": "",
            "sourceVip": "",
        },
    }
    if at_least(minor, "kube_proxy_nftables"):
        conntrack.update({"tcpBeLiberal": False, "udpStreamTimeout": "0s", "udpTimeout": "0s"})
        config["nftables"] = {"masqueradeAll": False, "masqueradeBit": None, "minSyncPeriod": "0s",
                              "syncPeriod": "0s"}
    return config


def kube_proxy_kubeconfig(server: str) -> str:
    """kubeconfig.conf of kubeadm's kube-proxy ConfigMap (a text template in kubeadm, not sorted)."""
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n"
        f"    server: {server}\n"
        "  name: default\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: default\n"
        "    namespace: default\n"
        "    user: default\n"
        "  name: default\n"
        "current-context: default\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token"
    )


def containerd_config(default_toml: str, minor: str, sandbox_image: str | None = None) -> str:
    """What kubeadm users write: ``containerd config default`` with the systemd cgroup driver and the pause
    image of that Kubernetes version (``sandbox_image``, where kubeadm itself was asked)."""
    sandbox_image = sandbox_image or pause_image(minor)
    text, n_cgroup = re.subn(r"(?m)^(\s*)SystemdCgroup = false$", r"\1SystemdCgroup = true", default_toml)
    text, n_sandbox = re.subn(r'(?m)^(\s*)sandbox_image = ".*"$', rf'\1sandbox_image = "{sandbox_image}"',
                              text)
    if n_cgroup != 1 or n_sandbox != 1:
        raise ValueError("unexpected `containerd config default` output: no SystemdCgroup/sandbox_image line")
    return text
