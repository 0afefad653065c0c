"""The kube-controller-manager stand-in: delegated serving plus its own key and signer files.
"""

from __future__ import annotations


from .core import go_quote, StandinError
from .files import check_ca_bundle, check_private_key, load_pair
from .component import DelegatingComponent


class ControllerManager(DelegatingComponent):
    name = "kube-controller-manager"
    file_flags = (
        "kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "client-ca-file",
        "requestheader-client-ca-file", "tls-cert-file", "tls-private-key-file", "root-ca-file",
        "service-account-private-key-file", "cluster-signing-cert-file", "cluster-signing-key-file",
        "cluster-signing-kubelet-serving-cert-file", "cluster-signing-kubelet-serving-key-file",
        "cluster-signing-kubelet-client-cert-file", "cluster-signing-kubelet-client-key-file",
        "cluster-signing-kube-apiserver-client-cert-file", "cluster-signing-kube-apiserver-client-key-file",
        "cluster-signing-legacy-unknown-cert-file", "cluster-signing-legacy-unknown-key-file", "cloud-config")
    default_port = 10257
    pair_name = "kube-controller-manager"

    SIGNERS = ("cluster-signing", "cluster-signing-kubelet-serving", "cluster-signing-kubelet-client",
               "cluster-signing-kube-apiserver-client", "cluster-signing-legacy-unknown")

    def post_checks(self):
        f = self.flags
        if f.get_str("root-ca-file"):
            try:
                check_ca_bundle(self.files.read(f.get_str("root-ca-file")))
            except StandinError as exc:
                raise StandinError(f"error reading root-ca-file at {f.get_str('root-ca-file')}: {exc.message}") \
                    from None
            except ValueError as exc:
                raise StandinError(f"error parsing root-ca-file at {f.get_str('root-ca-file')}: {exc}") from None
        if f.get_str("service-account-private-key-file"):
            try:
                check_private_key(self.files.read(f.get_str("service-account-private-key-file")))
            except StandinError as exc:
                raise StandinError(f"error reading key for service account token controller: {exc.message}") \
                    from None
            except ValueError as exc:
                raise StandinError(f"error reading key for service account token controller: {exc}") from None
        for signer in self.SIGNERS:
            cert, key = f.get_str(f"{signer}-cert-file"), f.get_str(f"{signer}-key-file")
            if not (cert or key):
                continue
            if signer != "cluster-signing" and (f.get_str("cluster-signing-cert-file") or
                                                f.get_str("cluster-signing-key-file")):
                raise StandinError("cannot specify default and per controller certs at the same time")
            if bool(cert) != bool(key):
                raise StandinError(f"cannot specify --{signer}-cert-file without --{signer}-key-file" if cert else
                                   f"cannot specify --{signer}-key-file without --{signer}-cert-file")
            try:
                load_pair(self.files, cert, key, lambda e: e)
            except StandinError as exc:
                raise StandinError(f"failed to start kubernetes.io/{signer.replace('cluster-signing-', '') or 'all'}"
                                   f" certificate controller: error reading CA cert file {go_quote(cert)}: "
                                   f"{exc.message}") from None
