"""The test node is a real-enough kubeadm control-plane node: real etcd with mTLS, real containerd, stand-ins
that serve TLS health endpoints, and a static pod runner that restarts and crash-loops pods like the kubelet."""
import json
import time

PKI = "/etc/kubernetes/pki"
ETCDCTL = (
    "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --dial-timeout=2s --command-timeout=3s "
    "--cacert={pki}/etcd/ca.crt"
).format(pki=PKI)
RUNNER = "python3 /usr/local/lib/testbed/static_pod_runner.py"
MANIFESTS = "/etc/kubernetes/manifests"


def pod_state(host, name):
    return json.loads(host.check_output("cat /run/static-pods/%s.json", name))


def wait_for_pod(host, name, accept, timeout=90):
    """Poll the runner's state file until accept(state) holds; return that state, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = pod_state(host, name)
        if accept(state):
            return state
        time.sleep(1)
    return None


def test_kubeadm_pki_tree(host):
    for name in ["ca", "apiserver", "apiserver-kubelet-client", "apiserver-etcd-client", "front-proxy-ca",
                 "front-proxy-client", "etcd/ca", "etcd/server", "etcd/peer", "etcd/healthcheck-client"]:
        crt = host.file("%s/%s.crt" % (PKI, name))
        key = host.file("%s/%s.key" % (PKI, name))
        assert crt.exists and crt.mode == 0o644, name
        assert key.exists and key.mode == 0o600, name
    assert host.file(PKI + "/sa.key").mode == 0o600
    assert host.file(PKI + "/sa.pub").exists
    # leaf certs chain to their own CA; etcd has a separate CA
    host.run_expect([0], "openssl verify -CAfile %s/ca.crt %s/apiserver.crt", PKI, PKI)
    host.run_expect([0], "openssl verify -CAfile %s/etcd/ca.crt %s/etcd/server.crt", PKI, PKI)
    host.run_expect([2], "openssl verify -CAfile %s/ca.crt %s/etcd/server.crt", PKI, PKI)
    node_ip = host.file("/etc/testbed/node-ip").content_string.strip()
    sans = host.check_output("openssl x509 -noout -ext subjectAltName -in %s/apiserver.crt", PKI)
    assert "IP Address:%s" % node_ip in sans
    assert "DNS:kubernetes.default.svc.cluster.local" in sans


def test_kubeadm_files_and_modes(host):
    for conf in ["admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf"]:
        f = host.file("/etc/kubernetes/" + conf)
        assert f.exists and f.mode == 0o600 and f.user == "root", conf
    for pod in ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]:
        f = host.file("%s/%s.yaml" % (MANIFESTS, pod))
        assert f.exists and f.mode == 0o600, pod
    assert host.file("/var/lib/kubelet/config.yaml").mode == 0o644
    assert host.file("/var/lib/etcd").mode == 0o700
    version = host.file("/etc/testbed/version").content_string.strip()
    assert "image: registry.k8s.io/kube-apiserver:v%s" % version in host.file(MANIFESTS + "/kube-apiserver.yaml").content_string


def test_etcd_is_real_and_requires_client_certs(host):
    ok = host.run(ETCDCTL + " --cert=%s/etcd/healthcheck-client.crt --key=%s/etcd/healthcheck-client.key endpoint health",
                  PKI, PKI)
    assert ok.rc == 0, ok.stderr
    assert "is healthy" in ok.stdout + ok.stderr
    assert "3.4." in host.check_output("etcd --version")
    denied = host.run(ETCDCTL + " endpoint health")
    assert denied.rc != 0


def test_apiserver_ready_over_tls(host):
    node_ip = host.file("/etc/testbed/node-ip").content_string.strip()
    out = host.check_output("curl -sS --cacert %s/ca.crt https://%s:6443/readyz", PKI, node_ip)
    assert out == "ok"
    assert pod_state(host, "kube-apiserver")["state"] == "running"


def test_kubelet_standin_healthy(host):
    assert host.service("kubelet").is_running
    assert host.check_output("curl -sS http://127.0.0.1:10248/healthz") == "ok"


def test_containerd_is_real(host):
    assert host.service("containerd").is_running
    out = host.check_output("ctr version")
    assert "Server:" in out and "Version:" in out


def test_editing_a_manifest_restarts_the_pod(host):
    before = pod_state(host, "kube-scheduler")
    path = MANIFESTS + "/kube-scheduler.yaml"
    host.check_output("cp -p %s /root/kube-scheduler.yaml.orig", path)
    try:
        host.check_output("sed -i 's/^    - --leader-elect=true$/    - --leader-elect=true\\n    - --v=2/' %s", path)
        assert "--v=2" in host.file(path).content_string
        after = wait_for_pod(host, "kube-scheduler", lambda s: s["pid"] != before["pid"] and s["state"] == "running")
        assert after, "kube-scheduler was not restarted after its manifest changed"
        assert after["manifest_sha256"] != before["manifest_sha256"]
    finally:
        host.check_output("cp -p /root/kube-scheduler.yaml.orig %s", path)
    host.run_expect([0], RUNNER + " wait kube-scheduler --ready --timeout 90")


def test_unknown_flag_crash_loops_the_apiserver(host):
    path = MANIFESTS + "/kube-apiserver.yaml"
    host.check_output("cp -p %s /root/kube-apiserver.yaml.orig", path)
    try:
        host.check_output("sed -i 's/^    - --allow-privileged=true$/    - --allow-privileged=true\\n    - --insecure-port=0/' %s", path)
        assert "--insecure-port=0" in host.file(path).content_string
        state = wait_for_pod(host, "kube-apiserver", lambda s: s["state"] == "crash-looping")
        assert state, "runner did not report kube-apiserver as crash-looping"
        assert state["last_exit_code"] == 1
        assert any("unknown flag: --insecure-port" in line for line in state["last_log_lines"])
        # the CLI shows the same state; a crash-looping pod is briefly "running" between restarts, so poll it
        deadline = time.monotonic() + 60
        line = ""
        while "crash-looping" not in line and time.monotonic() < deadline:
            line = next(l for l in host.check_output(RUNNER + " status").splitlines() if l.startswith("kube-apiserver "))
            time.sleep(0.5)
        assert "crash-looping" in line, line
    finally:
        host.check_output("cp -p /root/kube-apiserver.yaml.orig %s", path)
    host.run_expect([0], RUNNER + " wait kube-apiserver --ready --timeout 120")


KUBELET_KERNEL_DEFAULTS = {"vm/overcommit_memory": "1", "vm/panic_on_oom": "0", "kernel/panic": "10",
                           "kernel/panic_on_oops": "1", "kernel/keys/root_maxkeys": "1000000",
                           "kernel/keys/root_maxbytes": "25000000"}


def test_kubelet_protect_kernel_defaults_is_enforced(host):
    """protectKernelDefaults: true stops the kubelet when the kernel differs (the kernel params are the host's)."""
    config = "/var/lib/kubelet/config.yaml"
    differing = [key for key, want in KUBELET_KERNEL_DEFAULTS.items()
                 if host.file("/proc/sys/" + key).content_string.strip() != want]
    host.check_output("cp -p %s /root/kubelet-config.yaml.orig", config)
    try:
        host.check_output("printf 'protectKernelDefaults: true\\n' >> %s", config)
        host.check_output("systemctl restart kubelet")
        time.sleep(3)
        if differing:
            assert not host.service("kubelet").is_running
            journal = host.check_output("journalctl -u kubelet --no-pager -n 50")
            assert "invalid kernel flag: %s" % differing[0] in journal
        else:
            assert host.check_output("curl -sS http://127.0.0.1:10248/healthz") == "ok"
    finally:
        host.check_output("cp -p /root/kubelet-config.yaml.orig %s", config)
        host.check_output("systemctl restart kubelet")
    assert wait_for_kubelet(host), "kubelet did not come back with the original config"


def wait_for_kubelet(host, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.run("curl -sS http://127.0.0.1:10248/healthz").stdout == "ok":
            return True
        time.sleep(1)
    return False
