# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a fake node root that looks like a fresh kubeadm v1.33 node (or a hand-hardened one).

The manifests, kubelet config, systemd drop-in and file modes are what ``kubeadm init`` v1.33 and the
pkgs.k8s.io packages write. Processes are simulated by ``proc/<pid>/cmdline`` files, a container's filesystem by
``proc/<pid>/root/...``. Ownership is mapped by a fake ``/etc/passwd`` that names the uid running the tests
``root`` (so the fixture does not need real root).
"""

from __future__ import annotations

import os

import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils.cis_eval import evaluate
from ansible_collections.secure_cluster.k8s.plugins.module_utils.node_facts_collect import collect

VERSION = "v1.33.4"
NODE_IP = "10.89.0.2"
NODE_NAME = "cp1"

APISERVER_ARGS = [
    "kube-apiserver",
    "--advertise-address=%s" % NODE_IP,
    "--allow-privileged=true",
    "--authorization-mode=Node,RBAC",
    "--client-ca-file=/etc/kubernetes/pki/ca.crt",
    "--enable-admission-plugins=NodeRestriction",
    "--enable-bootstrap-token-auth=true",
    "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
    "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
    "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
    "--etcd-servers=https://127.0.0.1:2379",
    "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
    "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
    "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
    "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
    "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
    "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-username-headers=X-Remote-User",
    "--secure-port=6443",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
    "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
    "--service-cluster-ip-range=10.96.0.0/12",
    "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
    "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
]

APISERVER_HARDENING = [
    "--anonymous-auth=false",
    "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
    "--profiling=false",
    "--audit-log-path=/var/log/kubernetes/audit/audit.log",
    "--audit-log-maxage=30",
    "--audit-log-maxbackup=10",
    "--audit-log-maxsize=100",
    "--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
    "--encryption-provider-config=/etc/kubernetes/enc/config.yaml",
    "--request-timeout=60s",
    "--service-account-extend-token-expiration=false",
    "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
]

CONTROLLER_MANAGER_ARGS = [
    "kube-controller-manager",
    "--allocate-node-cidrs=true",
    "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
    "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
    "--bind-address=127.0.0.1",
    "--client-ca-file=/etc/kubernetes/pki/ca.crt",
    "--cluster-cidr=10.244.0.0/16",
    "--cluster-name=kubernetes",
    "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
    "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
    "--controllers=*,bootstrapsigner,tokencleaner",
    "--kubeconfig=/etc/kubernetes/controller-manager.conf",
    "--leader-elect=true",
    "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
    "--root-ca-file=/etc/kubernetes/pki/ca.crt",
    "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
    "--service-cluster-ip-range=10.96.0.0/12",
    "--use-service-account-credentials=true",
]

SCHEDULER_ARGS = [
    "kube-scheduler",
    "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
    "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
    "--bind-address=127.0.0.1",
    "--kubeconfig=/etc/kubernetes/scheduler.conf",
    "--leader-elect=true",
]

ETCD_ARGS = [
    "etcd",
    "--advertise-client-urls=https://%s:2379" % NODE_IP,
    "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
    "--client-cert-auth=true",
    "--data-dir=/var/lib/etcd",
    "--experimental-initial-corrupt-check=true",
    "--experimental-watch-progress-notify-interval=5s",
    "--initial-advertise-peer-urls=https://%s:2380" % NODE_IP,
    "--initial-cluster=%s=https://%s:2380" % (NODE_NAME, NODE_IP),
    "--key-file=/etc/kubernetes/pki/etcd/server.key",
    "--listen-client-urls=https://127.0.0.1:2379,https://%s:2379" % NODE_IP,
    "--listen-metrics-urls=http://127.0.0.1:2381",
    "--listen-peer-urls=https://%s:2380" % NODE_IP,
    "--name=%s" % NODE_NAME,
    "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
    "--peer-client-cert-auth=true",
    "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
    "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
    "--snapshot-count=10000",
    "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
]

KUBELET_ARGS = [
    "/usr/bin/kubelet",
    "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
    "--kubeconfig=/etc/kubernetes/kubelet.conf",
    "--config=/var/lib/kubelet/config.yaml",
    "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
    "--node-ip=%s" % NODE_IP,
    "--pod-infra-container-image=registry.k8s.io/pause:3.10",
]

KUBE_PROXY_ARGS = [
    "/usr/local/bin/kube-proxy",
    "--config=/var/lib/kube-proxy/config.conf",
    "--hostname-override=%s" % NODE_NAME,
]

KUBELET_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
crashLoopBackOff: {}
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""

KUBELET_CONFIG_HARDENING = """eventRecordQPS: 5
podPidsLimit: 4096
protectKernelDefaults: true
readOnlyPort: 0
seccompDefault: true
tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key
tlsCipherSuites:
- TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
- TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
featureGates:
  RotateKubeletServerCertificate: true
"""

KUBELET_UNIT = """[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

KUBEADM_DROPIN = """# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""

KUBEADM_FLAGS_ENV = (
    'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock '
    '--node-ip=%s --pod-infra-container-image=registry.k8s.io/pause:3.10"\n' % NODE_IP
)

KUBE_PROXY_CONFIG = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
healthzBindAddress: ""
kind: KubeProxyConfiguration
metricsBindAddress: ""
mode: ""
"""

ENCRYPTION_CONFIG = """apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==
      - identity: {}
"""

CONTAINERD_CONFIG = """version = 2

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""

PKI_CRT = (
    "ca.crt", "apiserver.crt", "apiserver-kubelet-client.crt", "apiserver-etcd-client.crt", "front-proxy-ca.crt",
    "front-proxy-client.crt", "etcd/ca.crt", "etcd/server.crt", "etcd/peer.crt", "etcd/healthcheck-client.crt",
)
PKI_KEY = (
    "ca.key", "apiserver.key", "apiserver-kubelet-client.key", "apiserver-etcd-client.key", "front-proxy-ca.key",
    "front-proxy-client.key", "sa.key", "etcd/ca.key", "etcd/server.key", "etcd/peer.key",
    "etcd/healthcheck-client.key",
)


def manifest(name, command, image, host_paths, annotations=None):
    """A static pod manifest in the shape kubeadm writes."""
    lines = ["apiVersion: v1", "kind: Pod", "metadata:"]
    if annotations:
        lines.append("  annotations:")
        for key, value in annotations.items():
            lines.append("    %s: %s" % (key, value))
    lines += [
        "  labels:", "    component: %s" % name, "    tier: control-plane",
        "  name: %s" % name, "  namespace: kube-system",
        "spec:", "  containers:", "  - command:",
    ]
    lines += ["    - %s" % arg for arg in command]
    lines += [
        "    image: %s" % image,
        "    imagePullPolicy: IfNotPresent",
        "    name: %s" % name,
        "    resources:",
        "      requests:",
        "        cpu: 250m",
        "    volumeMounts:",
    ]
    for vol, path in host_paths:
        lines += ["    - mountPath: %s" % path, "      name: %s" % vol]
    lines += [
        "  hostNetwork: true",
        "  priority: 2000001000",
        "  priorityClassName: system-node-critical",
        "  securityContext:",
        "    seccompProfile:",
        "      type: RuntimeDefault",
        "  volumes:",
    ]
    for vol, path in host_paths:
        lines += ["  - hostPath:", "      path: %s" % path, "      type: DirectoryOrCreate", "    name: %s" % vol]
    lines.append("status: {}")
    return "\n".join(lines) + "\n"


def write(root, path, text, mode):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)
    os.chmod(full, mode)
    return full


def mkdir(root, path, mode):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(full, exist_ok=True)
    os.chmod(full, mode)
    return full


def add_process(root, pid, argv, container_files=None):
    write(root, "/proc/%d/cmdline" % pid, "\0".join(argv) + "\0", 0o444)
    for path, text in (container_files or {}).items():
        write(root, "/proc/%d/root%s" % (pid, path), text, 0o644)


def build_node(root, variant="kubeadm", role="control-plane", running=True, with_cni=True):
    """Write a node into ``root``. ``variant``: ``kubeadm`` (fresh ``kubeadm init``) or ``hardened``."""
    root = str(root)
    hardened = variant == "hardened"
    uid, gid = os.getuid(), os.getgid()
    passwd = "root:x:%d:%d:root:/root:/bin/bash\n" % (uid, gid)
    if uid != 0:
        passwd += "realroot:x:0:0:root:/root:/bin/bash\n"
    group = "root:x:%d:\n" % gid
    if gid != 0:
        group += "realroot:x:0:\n"
    write(root, "/etc/passwd", passwd, 0o644)
    write(root, "/etc/group", group, 0o644)
    write(root, "/etc/hostname", NODE_NAME + "\n", 0o644)
    mkdir(root, "/etc/kubernetes", 0o755)
    mkdir(root, "/etc/kubernetes/manifests", 0o755 if not hardened else 0o700)

    api = list(APISERVER_ARGS) + (APISERVER_HARDENING if hardened else [])
    cm = list(CONTROLLER_MANAGER_ARGS) + (["--profiling=false", "--terminated-pod-gc-threshold=10"]
                                          if hardened else [])
    sched = list(SCHEDULER_ARGS) + (["--profiling=false"] if hardened else [])
    if hardened:
        api = [a if not a.startswith("--enable-admission-plugins=") else
               "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs"
               for a in api]
    pids = {}
    if role == "control-plane":
        write(root, "/etc/kubernetes/manifests/kube-apiserver.yaml", manifest(
            "kube-apiserver", api, "registry.k8s.io/kube-apiserver:%s" % VERSION,
            [("ca-certs", "/etc/ssl/certs"), ("k8s-certs", "/etc/kubernetes/pki")],
            {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": "%s:6443" % NODE_IP}), 0o600)
        write(root, "/etc/kubernetes/manifests/kube-controller-manager.yaml", manifest(
            "kube-controller-manager", cm, "registry.k8s.io/kube-controller-manager:%s" % VERSION,
            [("k8s-certs", "/etc/kubernetes/pki"), ("kubeconfig", "/etc/kubernetes/controller-manager.conf")]),
            0o600)
        write(root, "/etc/kubernetes/manifests/kube-scheduler.yaml", manifest(
            "kube-scheduler", sched, "registry.k8s.io/kube-scheduler:%s" % VERSION,
            [("kubeconfig", "/etc/kubernetes/scheduler.conf")]), 0o600)
        write(root, "/etc/kubernetes/manifests/etcd.yaml", manifest(
            "etcd", ETCD_ARGS, "registry.k8s.io/etcd:3.5.21-0",
            [("etcd-certs", "/etc/kubernetes/pki/etcd"), ("etcd-data", "/var/lib/etcd")]), 0o600)
        for name in ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"):
            write(root, "/etc/kubernetes/" + name, "apiVersion: v1\nkind: Config\n", 0o600)
        mkdir(root, "/etc/kubernetes/pki", 0o755)
        mkdir(root, "/etc/kubernetes/pki/etcd", 0o755)
        for rel in PKI_CRT:
            write(root, "/etc/kubernetes/pki/" + rel, "-----BEGIN CERTIFICATE-----\n", 0o644)
        for rel in PKI_KEY:
            write(root, "/etc/kubernetes/pki/" + rel, "-----BEGIN PRIVATE KEY-----\n", 0o600)
        write(root, "/etc/kubernetes/pki/sa.pub", "-----BEGIN PUBLIC KEY-----\n", 0o600)
        mkdir(root, "/var/lib/etcd", 0o700)
        mkdir(root, "/var/lib/etcd/member", 0o700)
        if hardened:
            write(root, "/etc/kubernetes/enc/config.yaml", ENCRYPTION_CONFIG, 0o600)
            write(root, "/etc/kubernetes/audit/policy.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\n", 0o600)
        if running:
            pids["kube-apiserver"] = 2101
            pids["kube-controller-manager"] = 2102
            pids["kube-scheduler"] = 2103
            pids["etcd"] = 2104
            add_process(root, 2101, api)
            add_process(root, 2102, cm)
            add_process(root, 2103, sched)
            add_process(root, 2104, ETCD_ARGS)
    else:
        mkdir(root, "/etc/kubernetes/pki", 0o755)
        write(root, "/etc/kubernetes/pki/ca.crt", "-----BEGIN CERTIFICATE-----\n", 0o644)

    # kubelet (both roles), as the pkgs.k8s.io deb installs it: unit and drop-in under /usr/lib
    write(root, "/usr/lib/systemd/system/kubelet.service", KUBELET_UNIT, 0o600 if hardened else 0o644)
    write(root, "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", KUBEADM_DROPIN,
          0o600 if hardened else 0o644)
    write(root, "/var/lib/kubelet/kubeadm-flags.env", KUBEADM_FLAGS_ENV, 0o644)
    kubelet_config = KUBELET_CONFIG + (KUBELET_CONFIG_HARDENING if hardened else "")
    write(root, "/var/lib/kubelet/config.yaml", kubelet_config, 0o600 if hardened else 0o644)
    write(root, "/etc/kubernetes/kubelet.conf", "apiVersion: v1\nkind: Config\n", 0o600)
    mkdir(root, "/var/lib/kubelet/pki", 0o755)
    write(root, "/var/lib/kubelet/pki/kubelet.crt", "-----BEGIN CERTIFICATE-----\n", 0o644)
    write(root, "/var/lib/kubelet/pki/kubelet.key", "-----BEGIN PRIVATE KEY-----\n", 0o600)
    write(root, "/etc/containerd/config.toml", CONTAINERD_CONFIG, 0o644)
    if with_cni:
        write(root, "/etc/cni/net.d/10-bridge.conflist", '{"cniVersion": "1.0.0", "name": "bridge"}\n',
              0o600 if hardened else 0o644)
    if running:
        pids["kubelet"] = 812
        pids["containerd"] = 640
        pids["kube-proxy"] = 3001
        add_process(root, 812, KUBELET_ARGS)
        add_process(root, 640, ["/usr/bin/containerd"])
        add_process(root, 3001, KUBE_PROXY_ARGS, {
            "/var/lib/kube-proxy/config.conf": KUBE_PROXY_CONFIG,
            "/var/lib/kube-proxy/kubeconfig.conf": "apiVersion: v1\nkind: Config\n",
        })
        # unrelated processes
        add_process(root, 1, ["/sbin/init"])
        add_process(root, 4000, ["/usr/sbin/sshd", "-D"])
        add_process(root, 4001, ["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io"])
    # kernel interfaces
    write(root, "/proc/sys/net/ipv4/ip_forward", "1\n", 0o644)
    write(root, "/proc/sys/vm/overcommit_memory", "1\n" if hardened else "0\n", 0o644)
    write(root, "/proc/sys/kernel/panic", "10\n" if hardened else "0\n", 0o644)
    write(root, "/proc/modules", "overlay 151552 10 - Live 0x0\nbr_netfilter 32768 0 - Live 0x0\n", 0o444)
    return pids


def evaluate_fleet(base, catalog, cp=None, worker=None):
    """``[cp1, w1]``: the evaluations of a fresh kubeadm control plane and worker built under ``base``. ``cp``,
    ``worker``: more keyword arguments of ``cis_eval.evaluate`` for each (waivers, ids, ...); today is 2026-06-01
    unless they say otherwise."""
    out = []
    for host, role, extra in (("cp1", "control-plane", cp), ("w1", "worker", worker)):
        root = os.path.join(str(base), host)
        build_node(root, role=role)
        kwargs = dict({"today": "2026-06-01"}, **(extra or {}))
        out.append(evaluate(collect(root=root), catalog, host=host, parse_yaml=yaml.safe_load, **kwargs))
    return out
