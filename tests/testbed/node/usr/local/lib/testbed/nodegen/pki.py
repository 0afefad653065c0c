"""kubeadm's certificates and kubeconfigs (pure): the certificate specs of a control plane and of the kubelets,
and the kubeconfig documents.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress

from .release import API_PORT, at_least, CLUSTER_NAME, DNS_DOMAIN, KUBERNETES_SERVICE_IP, PKI


# ----------------------------------------------------------------------------------------------------------------
# Certificates and kubeconfig files (pure)
# ----------------------------------------------------------------------------------------------------------------

CA_DAYS = 3650
LEAF_DAYS = 365


@dataclasses.dataclass(frozen=True)
class CertSpec:
    """One certificate/key pair: ``path`` is the base name without extension (``etcd/server``) under ``pki_dir``;
    ``ca`` is the base name of the signing CA (None for a self-signed CA)."""

    path: str
    cn: str
    orgs: tuple[str, ...] = ()
    ca: str | None = None
    usages: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    key_type: str = "rsa"
    pki_dir: str = PKI

    @property
    def is_ca(self) -> bool:
        return self.ca is None

    @property
    def days(self) -> int:
        return CA_DAYS if self.is_ca else LEAF_DAYS

    @property
    def subject(self) -> str:
        return "".join(f"/O={org}" for org in self.orgs) + f"/CN={self.cn}"

    def extensions(self) -> str:
        """openssl extension section for this certificate (kubeadm/Go x509 equivalents)."""
        lines = []
        if self.is_ca:
            lines += ["basicConstraints = critical, CA:TRUE",
                      "keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign",
                      "subjectKeyIdentifier = hash"]
        else:
            usage = "digitalSignature" if self.key_type == "ec" else "digitalSignature, keyEncipherment"
            lines += ["basicConstraints = critical, CA:FALSE",
                      f"keyUsage = critical, {usage}",
                      f"extendedKeyUsage = {', '.join(self.usages)}",
                      "authorityKeyIdentifier = keyid",
                      "subjectKeyIdentifier = none"]  # Go sets a subject key id on CAs only
        alt = [f"DNS:{name}" for name in self.dns] + [f"IP:{ip}" for ip in self.ips]
        if alt:
            lines.append(f"subjectAltName = {', '.join(alt)}")
        return "\n".join(lines) + "\n"


def control_plane_cert_specs(minor: str, node_name: str, node_ip: str) -> list[CertSpec]:
    """The kubeadm PKI of a control-plane node, CAs first."""
    masters = ("system:masters",)
    cluster_admins = ("kubeadm:cluster-admins",) if at_least(minor, "cluster_admins_group") else masters
    etcd_client_orgs = () if at_least(minor, "etcd_clients_without_masters") else masters
    etcd_dns, etcd_ips = (node_name, "localhost"), (node_ip, "127.0.0.1", "::1")
    return [
        CertSpec("ca", "kubernetes", dns=("kubernetes",)),
        CertSpec("etcd/ca", "etcd-ca", dns=("etcd-ca",)),
        CertSpec("front-proxy-ca", "front-proxy-ca", dns=("front-proxy-ca",)),
        CertSpec("apiserver", "kube-apiserver", ca="ca", usages=("serverAuth",),
                 dns=(node_name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                      f"kubernetes.default.svc.{DNS_DOMAIN}"),
                 ips=(KUBERNETES_SERVICE_IP, node_ip, "127.0.0.1")),
        CertSpec("apiserver-kubelet-client", "kube-apiserver-kubelet-client", orgs=cluster_admins, ca="ca",
                 usages=("clientAuth",)),
        CertSpec("front-proxy-client", "front-proxy-client", ca="front-proxy-ca", usages=("clientAuth",)),
        CertSpec("etcd/server", node_name, ca="etcd/ca", usages=("serverAuth", "clientAuth"), dns=etcd_dns,
                 ips=etcd_ips),
        CertSpec("etcd/peer", node_name, ca="etcd/ca", usages=("serverAuth", "clientAuth"), dns=etcd_dns,
                 ips=etcd_ips),
        CertSpec("etcd/healthcheck-client", "kube-etcd-healthcheck-client", orgs=etcd_client_orgs, ca="etcd/ca",
                 usages=("clientAuth",)),
        CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client", orgs=etcd_client_orgs, ca="etcd/ca",
                 usages=("clientAuth",)),
    ]


def kubeconfig_client_specs(minor: str) -> dict[str, CertSpec]:
    """kubeconfig file name -> client certificate (signed by the cluster CA, embedded in the file)."""
    cluster_admins = ("kubeadm:cluster-admins",) if at_least(minor, "cluster_admins_group") else ("system:masters",)
    specs = {"admin.conf": CertSpec("admin", "kubernetes-admin", orgs=cluster_admins, ca="ca",
                                    usages=("clientAuth",))}
    if at_least(minor, "super_admin_conf"):
        specs["super-admin.conf"] = CertSpec("super-admin", "kubernetes-super-admin", orgs=("system:masters",),
                                             ca="ca", usages=("clientAuth",))
    specs["controller-manager.conf"] = CertSpec("controller-manager", "system:kube-controller-manager", ca="ca",
                                                usages=("clientAuth",))
    specs["scheduler.conf"] = CertSpec("scheduler", "system:kube-scheduler", ca="ca", usages=("clientAuth",))
    return specs


def kubelet_client_spec(node_name: str) -> CertSpec:
    """The kubelet's rotated client certificate (kubelet-client-current.pem): ECDSA P-256 key generated by the
    kubelet, signed by the cluster CA through the kube-controller-manager CSR signer."""
    return CertSpec("kubelet-client", f"system:node:{node_name}", orgs=("system:nodes",), ca="ca",
                    usages=("clientAuth",), key_type="ec", pki_dir="/var/lib/kubelet/pki")


def kubelet_serving_specs(node_name: str, stamp: int) -> tuple[CertSpec, CertSpec]:
    """kubelet.crt/kubelet.key: what the kubelet generates when it has no tlsCertFile (client-go certutil
    GenerateSelfSignedCertKey: a throwaway CA "<host>-ca@<unix time>" signing "<host>@<unix time>"; the file holds
    the serving certificate followed by that CA)."""
    ca = CertSpec("kubelet-ca", f"{node_name}-ca@{stamp}", pki_dir="/var/lib/kubelet/pki")
    serving = CertSpec("kubelet", f"{node_name}@{stamp}", ca="kubelet-ca", usages=("serverAuth",),
                       dns=(node_name,), pki_dir="/var/lib/kubelet/pki")
    return ca, serving


def kubeconfig(server: str, ca_pem: str, user: str, *, cluster: str = CLUSTER_NAME, context: str | None = None,
               cert_pem: str | None = None, key_pem: str | None = None, cert_file: str | None = None,
               key_file: str | None = None, namespace: str | None = None) -> dict:
    """A client kubeconfig (clientcmd v1 Config) with the CA embedded."""
    def b64(text):
        return base64.b64encode(text.encode()).decode()

    context = context or f"{user}@{cluster}"
    credentials = {}
    if cert_pem is not None:
        credentials["client-certificate-data"] = b64(cert_pem)
        credentials["client-key-data"] = b64(key_pem)
    else:
        credentials["client-certificate"] = cert_file
        credentials["client-key"] = key_file
    context_body = {"cluster": cluster, "user": user}
    if namespace:
        context_body["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "clusters": [{"cluster": {"certificate-authority-data": b64(ca_pem), "server": server}, "name": cluster}],
        "contexts": [{"context": context_body, "name": context}],
        "current-context": context,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": user, "user": credentials}],
    }


KUBELET_CLIENT_CURRENT = "/var/lib/kubelet/pki/kubelet-client-current.pem"


def control_plane_kubelet_kubeconfig(server: str, ca_pem: str, node_name: str) -> dict:
    """kubelet.conf after kubeadm init's kubelet-finalize phase: pointing at the rotated client certificate."""
    return kubeconfig(server, ca_pem, f"system:node:{node_name}", cert_file=KUBELET_CLIENT_CURRENT,
                      key_file=KUBELET_CLIENT_CURRENT)


def worker_kubelet_kubeconfig(server: str, ca_pem: str) -> dict:
    """kubelet.conf as the kubelet writes it at the end of the TLS bootstrap of ``kubeadm join``."""
    return kubeconfig(server, ca_pem, "default-auth", cluster="default-cluster", context="default-context",
                      namespace="default", cert_file=KUBELET_CLIENT_CURRENT, key_file=KUBELET_CLIENT_CURRENT)


def api_server_url(ip: str) -> str:
    return f"https://{ip}:{API_PORT}" if ipaddress.ip_address(ip).version == 4 else f"https://[{ip}]:{API_PORT}"
