"""A worker joined to a control plane on one podman network, as `kubeadm join` leaves it."""
import pytest
import testinfra

CP = testinfra.get_host("podman://sck8s-mol-mn-cp1")
WORKER = testinfra.get_host("podman://sck8s-mol-mn-w1")


def cp_ip():
    return CP.file("/etc/testbed/node-ip").content_string.strip()


def test_roles_recorded():
    assert CP.file("/etc/testbed/role").content_string.strip() == "control-plane"
    assert WORKER.file("/etc/testbed/role").content_string.strip() == "worker"


def test_worker_has_only_the_node_side():
    assert not WORKER.file("/etc/kubernetes/manifests/kube-apiserver.yaml").exists
    assert not WORKER.file("/etc/kubernetes/pki/ca.key").exists
    assert not WORKER.file("/root/join/ca.key").exists
    assert WORKER.file("/etc/kubernetes/pki/ca.crt").exists
    assert WORKER.service("kubelet").is_running
    assert WORKER.service("containerd").is_running
    assert WORKER.service("kube-proxy").is_running
    assert WORKER.check_output("curl -sS http://127.0.0.1:10248/healthz") == "ok"


def test_worker_trusts_the_control_plane_ca():
    assert WORKER.file("/etc/kubernetes/pki/ca.crt").content_string == CP.file("/etc/kubernetes/pki/ca.crt").content_string
    kubeconfig = WORKER.file("/etc/kubernetes/kubelet.conf").content_string
    assert "server: https://%s:6443" % cp_ip() in kubeconfig
    WORKER.run_expect([0], "openssl verify -CAfile /etc/kubernetes/pki/ca.crt /var/lib/kubelet/pki/kubelet-client-current.pem")
    subject = WORKER.check_output("openssl x509 -noout -subject -in /var/lib/kubelet/pki/kubelet-client-current.pem")
    assert "system:node:sck8s-mol-mn-w1" in subject and "system:nodes" in subject


def test_worker_reaches_the_apiserver_over_verified_tls():
    out = WORKER.check_output("curl -sS --cacert /etc/kubernetes/pki/ca.crt https://%s:6443/readyz", cp_ip())
    assert out == "ok"


@pytest.mark.parametrize("port", [2379, 2380])
def test_etcd_listens_on_the_control_plane_only(port):
    assert CP.socket("tcp://%s:%d" % (cp_ip(), port)).is_listening
    assert not WORKER.socket("tcp://0.0.0.0:%d" % port).is_listening
