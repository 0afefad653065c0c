"""site.yml on a cluster written by the real kubeadm and run by the real binaries (issue #12's acceptance).

The nodes are the test-bed image of one real release (node:<minor>, make real-image; K8S_REAL_VERSION, default the
newest): `kubeadm init` of that release wrote the control plane and `kubeadm join` the worker, the real etcd,
kube-apiserver, kube-controller-manager and kube-scheduler run kubeadm's manifests and the real kubelets run under
systemd. site.yml hardens them over SSH, as users run it. Then every promise is checked against what the real
components do, not against our tables:

* the API server: TLS with a client certificate, anonymous 401 on /api while the probe paths answer, the Node
  authorizer and NodeRestriction with the kubelets' own identities, PodSecurity, Secrets encrypted in etcd, the
  tiered audit policy;
* the controller-manager and scheduler: loopback only, /healthz served, profiling off;
* the kubelets: anonymous 401, an authenticated user without RBAC 403 (the real API server's SubjectAccessReview);
* kubelet serving certificates (CIS 4.2.11, 1.2.5): before site.yml the apiserver role refuses
  --kubelet-certificate-authority and names the kubelets that serve self-signed certificates; site.yml has every
  kubelet's serving CSR checked and approved (the real kube-controller-manager signs it), then sets the flag, and the
  API server's proxy to each kubelet verifies the kubelet with the cluster CA; a CSR that claims an address its node
  does not have is left pending and the play says which and why;
* the audit reads the real nodes and finds no scored FAIL, 1.2.5 included;
* failure injection: inputs the apiserver role must refuse change nothing; an apiserver, etcd or kubelet
  configuration the real component does not come back with is rolled back by the role's health gate and the play
  fails saying so; protectKernelDefaults against a wrong kernel parameter is refused by the kubelet role, and the
  real kubelet shows why;
* the policy layer: namespace_baseline by server-side apply, cluster_audit online;
* kubeadm upgrade: the real `kubeadm upgrade node phase control-plane` regenerates the hardened kube-apiserver,
  kube-controller-manager and kube-scheduler manifests flag for flag and volume for volume from the
  ClusterConfiguration the roles kept, the audit gives the same verdicts with the regenerated manifests running,
  and with kubeadm's ClusterConfiguration as `kubeadm init` left it the same command loses the hardening; the audit
  predicts both flag for flag and marks what would be lost ("will drift on upgrade"), and remediate.yml writes it
  back without restarting anything; with the original kubelet-config ConfigMap the audit marks exactly the kubelet
  recommendations that the real `kubeadm upgrade node phase kubelet-config` then undoes.

Run by `make real-test` (not by `make integration`): it needs the real-binary image.
"""
import base64
import itertools
import json
import re
import secrets
import time

import pytest
import yaml

from harness import (Node, changed_tasks, kube_bench_results, minor_tag, playbook, real_image, release,
                     started_nodes, write_site_vars)

MINOR, VERSION = release()
IMAGE = real_image(MINOR)
TAG, PORT = minor_tag(MINOR, 22000)  # make real-test runs the minors side by side
NET = "sck8s-int-real%s" % TAG
NODE = "sck8s-int-real%s-cp1" % TAG
WORKER_NAME = "sck8s-int-real%s-w1" % TAG
SPECS = ["%s:control-plane:%d" % (NODE, PORT + 1), "%s:worker:%d" % (WORKER_NAME, PORT + 2)]
NS = "sck8s-accept"
RESTRICTED_NS = "sck8s-restricted"
APISERVER_MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
ETCD_MANIFEST = "/etc/kubernetes/manifests/etcd.yaml"
AUDIT_LOG = "/var/log/kubernetes/audit/audit.log"
PKI = "/etc/kubernetes/pki"
CLIENTS = "/root/sck8s-clients"
# Client certificates the test makes with the cluster CA: (file name, subject).
IDENTITIES = {
    "admin": "/O=kubeadm:cluster-admins/CN=sck8s-tester",
    "nobody": "/CN=sck8s-nobody",
}
# The real kubelets' own client certificates (TLS bootstrap on the worker), copied next to those as "<node>.pem".
KUBELET_PEM = "/var/lib/kubelet/pki/kubelet-client-current.pem"
node = Node(NODE)
worker = Node(WORKER_NAME)
VALUE = "sck8s-" + secrets.token_hex(12)
# never pulled: the API objects are what is tested, no container of these pods runs
PAUSE = "registry.k8s.io/pause:3.10.1"
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
# what the fixture saw before site.yml
BEFORE = {}


def api_url(node_ip, path, port=6443):
    return "https://%s:%d%s" % (node_ip, port, path)


def curl(url, who=None, method="GET", cacert=PKI + "/ca.crt", patch=None, on=None):
    """(HTTP status, body) of a request from the control plane (or the node ``on``), (0, curl's error) when nothing
    answered; who: one of IDENTITIES, a node whose kubelet identity to use, or None for anonymous. patch: a JSON
    merge patch to send (PATCH)."""
    args = ["curl", "-sS", "-o", "/dev/stdout", "-w", "\n%{http_code}", "-X", "PATCH" if patch else method]
    if patch:
        args += ["-H", "Content-Type: application/merge-patch+json", "--data-binary", json.dumps(patch)]
    args += ["--cacert", cacert] if cacert else ["-k"]
    if who in IDENTITIES:
        args += ["--cert", "%s/%s.crt" % (CLIENTS, who), "--key", "%s/%s.key" % (CLIENTS, who)]
    elif who:
        args += ["--cert", "%s/%s.pem" % (CLIENTS, who)]
    proc = (on or node).run(*(args + [url]), check=False)
    if proc.returncode != 0:  # no HTTP answer at all (connection refused, TLS failure): status 0 and curl's reason
        return 0, proc.stderr.strip()
    body, _newline, code = proc.stdout.rpartition("\n")
    return int(code), body


def kubectl(*args, stdin=None, check=True):
    return node.run("kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", *args, stdin=stdin, check=check)


def configmap(name):
    return json.loads(kubectl("-n", "kube-system", "get", "configmap", name, "-o", "json").stdout)


def apply(*objects):
    return kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


def make_client_certs():
    script = ["mkdir -p -m 0700 %s && cd %s" % (CLIENTS, CLIENTS)]
    for name, subject in IDENTITIES.items():
        script.append(
            "openssl req -new -newkey rsa:2048 -nodes -keyout {n}.key -subj '{s}' -out {n}.csr 2>/dev/null && "
            "printf 'extendedKeyUsage=clientAuth\\n' > {n}.ext && "
            "openssl x509 -req -in {n}.csr -CA {pki}/ca.crt -CAkey {pki}/ca.key -CAcreateserial -days 1 "
            "-extfile {n}.ext -out {n}.crt 2>/dev/null".format(n=name, s=subject, pki=PKI))
    node.sh(" && ".join(script))
    for member in (node, worker):
        node.sh("umask 077; cat > %s/%s.pem" % (CLIENTS, member.name), stdin=member.read(KUBELET_PEM))
    # the worker calls its own kubelet with the same client certificates
    worker.sh("mkdir -p -m 0700 %s" % CLIENTS)
    for name in IDENTITIES:
        for ext in ("crt", "key"):
            path = "%s/%s.%s" % (CLIENTS, name, ext)
            worker.sh("umask 077; cat > %s" % path, stdin=node.read(path))


def audit_events():
    return [json.loads(line) for line in node.read(AUDIT_LOG).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("real")
    with started_nodes(workdir, NET, SPECS, image=IMAGE, version=MINOR, caps="--cap-add SYS_ADMIN"):
        write_site_vars(workdir, real=True)
        # kubeadm's kubelets serve self-signed certificates: 1.2.5 must be refused before site.yml gives them
        # cluster-CA ones
        (workdir / "apiserver-first.yml").write_text(
            "- hosts: control_plane\n  gather_facts: false\n  roles: [secure_cluster.k8s.apiserver]\n")
        for name in ("kubeadm-config", "kubelet-config"):
            BEFORE[name] = configmap(name)
        manifest = node.read(APISERVER_MANIFEST)
        refused = playbook(workdir, str(workdir / "apiserver-first.yml"), "-e", "apiserver_kubelet_ca_preflight=refuse")
        refused += (node.read(APISERVER_MANIFEST) == manifest,)
        rc, out, _changed = playbook(workdir, "site.yml")
        assert rc == 0, out[-8000:]
        make_client_certs()
        node_ip = node.read("/etc/testbed/node-ip").strip()
        apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
              {"apiVersion": "v1", "kind": "Namespace", "metadata": {
                  "name": RESTRICTED_NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
        # the controller-manager's service-account controller makes each namespace's "default" account; pods wait
        kubectl("-n", NS, "wait", "--for=create", "serviceaccount/default", "--timeout=60s")
        apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bound", "namespace": NS},
               "stringData": {"token": VALUE}},
              {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "unbound", "namespace": NS},
               "stringData": {"token": VALUE}},
              # bound to the worker by spec.nodeName and using the Secret "bound": the Node authorizer's graph edge
              {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": NS},
               "spec": {"nodeName": WORKER_NAME, "containers": [{"name": "app", "image": PAUSE}],
                        "volumes": [{"name": "s", "secret": {"secretName": "bound"}}]}})
        yield workdir, node_ip, refused


def test_the_components_are_the_real_binaries(cluster):
    for proc, path in (("kube-apiserver", "/usr/local/bin/kube-apiserver"),
                       ("kube-controller-manager", "/usr/local/bin/kube-controller-manager"),
                       ("kube-scheduler", "/usr/local/bin/kube-scheduler"),
                       ("etcd", "/usr/local/bin/etcd"), ("kubelet", "/usr/bin/kubelet")):
        # by the command line: a process name is cut to 15 characters (kube-controller)
        pid = node.run("pgrep", "-o", "-f", "^[^ ]*%s( |$)" % proc).stdout.strip()
        assert node.run("readlink", "/proc/%s/exe" % pid).stdout.strip() == path
    assert "Kubernetes v" + VERSION in node.run("kube-apiserver", "--version").stdout
    assert "Kubernetes v" + VERSION in node.run("kubelet", "--version").stdout
    # the API server knows the nodes kubeadm init and kubeadm join registered, at that version
    for name in (NODE, WORKER_NAME):
        info = json.loads(kubectl("get", "node", name, "-o", "json").stdout)["status"]["nodeInfo"]
        assert info["kubeletVersion"] == "v" + VERSION
    # the worker's kubelet got its client certificate by TLS bootstrap, signed by the cluster CA
    subject = worker.run("openssl", "x509", "-in", KUBELET_PEM, "-noout", "-subject").stdout
    assert "CN=system:node:%s" % WORKER_NAME in subject.replace(" = ", "=")
    worker.run("openssl", "verify", "-CAfile", PKI + "/ca.crt", KUBELET_PEM)
    # the real kube-proxy, with its ServiceAccount's token, syncs the Services into iptables on both nodes
    for member in (node, worker):
        health = json.loads(member.run("curl", "-sS", "http://127.0.0.1:10256/healthz").stdout)
        assert health["healthy"] is True, (member.name, health)
        assert "KUBE-SVC-" in member.run("iptables-save", "-t", "nat").stdout, member.name


def test_api_server_tls_anonymous_and_probes(cluster):
    _workdir, ip, _refused = cluster
    # TLS verified with the cluster CA both ways: the server's certificate, our client certificate
    assert curl(api_url(ip, "/readyz"), "admin") == (200, "ok")
    code, body = curl(api_url(ip, "/api"))
    assert code == 401, body
    assert json.loads(body)["reason"] == "Unauthorized"
    # the role's anonymous paths: kubeadm's probes and load balancers still get an answer
    for path in ("/livez", "/readyz", "/healthz"):
        assert curl(api_url(ip, path)) == (200, "ok"), path
    manifest = node.read(APISERVER_MANIFEST)
    assert "--anonymous-auth" not in manifest and "--authentication-config=" in manifest


def test_node_authorizer_and_node_restriction(cluster):
    _workdir, ip, _refused = cluster
    path = "/api/v1/namespaces/%s/secrets/" % NS
    # the worker's kubelet may read the Secret of the pod bound to it, and nothing else; the control plane's
    # kubelet (another node) may not read that one either
    assert curl(api_url(ip, path + "bound"), WORKER_NAME)[0] == 200
    code, body = curl(api_url(ip, path + "unbound"), WORKER_NAME)
    assert code == 403, body
    assert "no relationship found between node '%s' and this object" % WORKER_NAME in json.loads(body)["message"]
    assert curl(api_url(ip, path + "bound"), NODE)[0] == 403
    assert curl(api_url(ip, path), WORKER_NAME)[0] == 403
    assert curl(api_url(ip, path + "unbound"), "admin")[0] == 200
    # NodeRestriction (admission, after the authorizer allowed the patch): a node may modify only its own Node
    code, body = curl(api_url(ip, "/api/v1/nodes/%s" % NODE), WORKER_NAME,
                      patch={"metadata": {"labels": {"sck8s-test": "x"}}})
    assert code == 403, body
    assert json.loads(body)["message"].endswith('node "%s" is not allowed to modify node "%s"' % (WORKER_NAME, NODE))


def test_pod_security_rejects_a_privileged_pod(cluster):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "priv"},
           "spec": {"containers": [{"name": "c", "image": PAUSE,
                                    "securityContext": {"privileged": True}}]}}
    proc = kubectl("-n", RESTRICTED_NS, "create", "-f", "-", stdin=json.dumps(pod), check=False)
    assert proc.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in proc.stderr, proc.stderr
    assert "privileged" in proc.stderr
    # an unlabelled namespace gets the role's cluster-wide default (enforce: baseline) from the admission config
    proc = kubectl("-n", NS, "create", "-f", "-", stdin=json.dumps(pod), check=False)
    assert proc.returncode != 0
    assert 'violates PodSecurity "baseline:latest"' in proc.stderr, proc.stderr
    assert kubectl("-n", RESTRICTED_NS, "get", "pods", "-o", "name").stdout.strip() == ""


def test_secrets_are_encrypted_in_etcd(cluster):
    raw = node.run("etcdctl", "--endpoints=https://127.0.0.1:2379", "--cacert=%s/etcd/ca.crt" % PKI,
                   "--cert=%s/etcd/healthcheck-client.crt" % PKI, "--key=%s/etcd/healthcheck-client.key" % PKI,
                   "get", "/registry/secrets/%s/bound" % NS, "--print-value-only", text=False).stdout
    assert raw.startswith(b"k8s:enc:aescbc:v1:"), raw[:40]
    assert VALUE.encode() not in raw
    # and the API still reads it back
    got = json.loads(kubectl("-n", NS, "get", "secret", "bound", "-o", "json").stdout)
    assert got["data"]["token"]


def test_audit_log_follows_the_tiered_policy(cluster):
    _workdir, ip, _refused = cluster
    assert curl(api_url(ip, "/api/v1/namespaces/%s/secrets/unbound" % NS), "admin")[0] == 200
    # the pod never runs (its node does not exist): the request is refused, but it is audited all the same
    code, _body = curl(api_url(ip, "/api/v1/namespaces/%s/pods/app/exec?command=true&stdout=true" % NS), "admin",
                       method="POST")
    assert code >= 400
    events = audit_events()
    reads = [e for e in events if e.get("objectRef", {}).get("resource") == "secrets"
             and e["objectRef"].get("name") == "unbound" and e["verb"] == "get" and e["user"]["username"]
             == "sck8s-tester"]
    assert reads and {e["level"] for e in reads} == {"Metadata"}, reads
    assert not any("requestObject" in e or "responseObject" in e for e in reads)
    assert VALUE not in node.read(AUDIT_LOG)
    execs = [e for e in events if e.get("objectRef", {}).get("subresource") == "exec"
             and e["objectRef"].get("name") == "app"]
    assert execs and {e["level"] for e in execs} == {"RequestResponse"}, execs
    assert {e["stage"] for e in execs} >= {"ResponseComplete"}


def test_controller_manager_and_scheduler_loopback_healthz_no_profiling(cluster):
    listening = node.run("ss", "-Hltn").stdout.split()
    for port in (10257, 10259):
        binds = [a for a in listening if a.endswith(":%d" % port)]
        assert binds == ["127.0.0.1:%d" % port], (port, binds)
        assert curl("https://127.0.0.1:%d/healthz" % port, cacert=None) == (200, "ok")
        # authorised (cluster admin) and still not found: profiling is off, not merely forbidden
        assert curl("https://127.0.0.1:%d/debug/pprof/" % port, "admin", cacert=None)[0] == 404
        assert curl("https://127.0.0.1:%d/debug/pprof/" % port, "nobody", cacert=None)[0] == 403


@pytest.mark.parametrize("member", [node, worker], ids=["control-plane", "worker"])
def test_kubelet_authn_authz(cluster, member):
    url = "https://127.0.0.1:10250/pods"
    code, body = curl(url, cacert=None, on=member)
    assert code == 401, body
    # authenticated by the client CA, then refused by the real API server's SubjectAccessReview
    code, body = curl(url, "nobody", cacert=None, on=member)
    assert code == 403, body
    assert "user=sck8s-nobody" in body
    assert curl(url, "admin", cacert=None, on=member)[0] == 200


def test_1_2_5_is_refused_while_the_kubelets_serve_self_signed_certificates(cluster):
    _workdir, _ip, (rc, out, changed, manifest_unchanged) = cluster
    assert rc != 0, out[-6000:]
    assert "Kubelets whose serving certificate the API server could not verify" in out, out[-6000:]
    for name in (NODE, WORKER_NAME):  # both named, with what the TLS client saw
        assert name in out.split("could not verify", 1)[1], out[-6000:]
    assert "self-signed certificate" in out, out[-6000:]
    assert changed.get(NODE) == 0 and manifest_unchanged, changed_tasks(out)


def serving_csrs():
    items = json.loads(kubectl("get", "certificatesigningrequests", "-o", "json").stdout)["items"]
    return [i for i in items if i["spec"]["signerName"] == "kubernetes.io/kubelet-serving"]


def test_kubelets_serve_cluster_ca_certificates_the_api_server_verifies(cluster):
    _workdir, ip, _refused = cluster
    assert "--kubelet-certificate-authority=%s/ca.crt" % PKI in node.read(APISERVER_MANIFEST)
    approved = {}
    for csr in serving_csrs():
        conditions = {c["type"]: c for c in csr.get("status", {}).get("conditions", [])}
        if "Approved" in conditions:
            approved[csr["spec"]["username"]] = (conditions["Approved"]["reason"], bool(csr["status"].get("certificate")))
    for member in (node, worker):
        # approved by the role with its reason, signed by the real kube-controller-manager
        assert approved.get("system:node:" + member.name) == ("SecureClusterK8sApproved", True), approved
        # what the kubelet serves chains to the cluster CA (the node keeps the CA as the kubelet's client CA)
        member.run("openssl", "verify", "-CAfile", PKI + "/ca.crt", "/var/lib/kubelet/pki/kubelet-server-current.pem")
        # the API server dials the kubelet with its kubelet-client certificate and verifies the kubelet's serving
        # certificate with the cluster CA
        assert curl(api_url(ip, "/api/v1/nodes/%s/proxy/healthz" % member.name), "admin") == (200, "ok")
        code, body = curl(api_url(ip, "/api/v1/nodes/%s/proxy/configz" % member.name), "admin")
        assert code == 200 and json.loads(body)["kubeletconfig"]["serverTLSBootstrap"] is True, body


def test_a_csr_claiming_an_address_the_node_does_not_have_is_not_approved(role_playbooks):
    workdir = role_playbooks
    worker_ip = worker.read("/etc/testbed/node-ip").strip()
    forged_ip = "10.255.0.1"
    # made with the worker's own key material and sent with its kubelet identity, as a compromised node would
    worker.sh("cd /root && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout forged.key "
              "-subj /O=system:nodes/CN=system:node:%s -addext subjectAltName=DNS:%s,IP:%s,IP:%s -out forged.csr"
              " 2>/dev/null" % (WORKER_NAME, WORKER_NAME, worker_ip, forged_ip))
    csr = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
           "metadata": {"generateName": "sck8s-forged-"},
           "spec": {"request": base64.b64encode(worker.read("/root/forged.csr").encode()).decode(),
                    "signerName": "kubernetes.io/kubelet-serving", "usages": ["digital signature", "server auth"]}}
    node_ip = node.read("/etc/testbed/node-ip").strip()
    created = worker.run("curl", "-sS", "--cacert", PKI + "/ca.crt", "--cert", KUBELET_PEM, "-X", "POST",
                         "-H", "Content-Type: application/json", "--data-binary", json.dumps(csr),
                         api_url(node_ip, "/apis/certificates.k8s.io/v1/certificatesigningrequests"))
    name = json.loads(created.stdout)["metadata"]["name"]
    try:
        rc, out, _changed = role(workdir, "kubelet", worker)
        assert rc == 0, out[-6000:]
        reason = "IP SAN %s is not an address of Node %s" % (forged_ip, WORKER_NAME)
        assert "kubelet-serving CSR %s of node %s not approved: %s" % (name, WORKER_NAME, reason) in out.replace("\n", " "), out[-6000:]
        forged = [c for c in serving_csrs() if c["metadata"]["name"] == name][0]
        assert forged.get("status", {}).get("conditions") is None and not forged.get("status", {}).get("certificate")
    finally:
        kubectl("delete", "certificatesigningrequest", name, check=False)


def test_audit_reads_the_real_nodes(cluster):
    workdir, _ip, _refused = cluster
    rc, out, _changed = playbook(workdir, "audit.yml", "-e", "cis_report_dir=%s/audit" % workdir)
    assert rc == 0, out[-6000:]
    for name, passing in ((NODE, ("1.2.6", "1.2.16", "1.3.2", "1.4.1", "4.2.1", "2.1")),
                          (WORKER_NAME, ("4.1.1", "4.2.1", "4.2.2", "4.2.6"))):
        results = kube_bench_results(workdir / "audit" / (name + ".json"))
        failing = sorted(i for i, t in results.items() if t["status"] == "FAIL" and t.get("scored", True))
        assert failing == [], (name, failing)
        for check in passing:
            assert results[check]["status"] == "PASS", (name, results[check])
    results = kube_bench_results(workdir / "audit" / (NODE + ".json"))
    assert (results["1.2.5"]["status"], results["1.2.5"].get("secure_cluster_status")) == ("PASS", "PASS")


@pytest.fixture(scope="module")
def role_playbooks(cluster):
    """<role>.yml runs one role of the collection; the tests choose the node with --limit."""
    workdir, _ip, _refused = cluster
    for role in ("apiserver", "kubelet", "etcd"):
        (workdir / ("%s.yml" % role)).write_text(
            "- hosts: all\n  gather_facts: false\n  roles: [secure_cluster.k8s.%s]\n" % role, encoding="utf-8")
    return workdir


def role(workdir, name, member, variables=None):
    args = ["--limit", member.name] + (["-e", json.dumps(variables)] if variables else [])
    return playbook(workdir, str(workdir / ("%s.yml" % name)), *args)


def wait_for(probe, timeout=120):
    deadline = time.time() + timeout
    while not probe():
        assert time.time() < deadline, "not true after %s s: %s" % (timeout, probe.__doc__)
        time.sleep(2)


def test_refused_input_changes_nothing(role_playbooks):
    workdir = role_playbooks
    before = node.read(APISERVER_MANIFEST)
    for override, message in (
            ({"apiserver_tls_cipher_suites": ["TLS_SCK8S_NOT_A_SUITE"]},
             "--tls-cipher-suites: 'TLS_SCK8S_NOT_A_SUITE' is not a Go cipher suite name"),
            ({"apiserver_admission_plugins": ["NodeRestriction", "PodSecurityPolicy"]},
             "admission plugin PodSecurityPolicy is not known to kube-apiserver v%s" % MINOR),
            ({"apiserver_extra_flags": {"insecure-port": 0}},
             "--insecure-port is not accepted by kube-apiserver v%s" % MINOR)):
        rc, out, changed = role(workdir, "apiserver", node, override)
        assert rc != 0, out[-4000:]
        assert message in out, out[-4000:]
        assert changed.get(NODE) == 0, changed_tasks(out)
        assert node.read(APISERVER_MANIFEST) == before


@pytest.mark.usefixtures("role_playbooks")
def test_apiserver_that_does_not_come_back_is_rolled_back(cluster):
    workdir, ip, _refused = cluster
    before = node.read(APISERVER_MANIFEST)
    # past every check (the URL names no file), but the real kube-apiserver cannot reach its storage
    rc, out, _changed = role(workdir, "apiserver", node, {
        "apiserver_health_timeout": 20, "apiserver_extra_flags": {"etcd-servers": "https://127.0.0.1:2399"}})
    assert rc != 0, out[-6000:]
    assert "kube-apiserver failed its health gate after %s changed" % APISERVER_MANIFEST in out, out[-6000:]
    assert "kube-apiserver is healthy again" in out, out[-6000:]
    assert node.read(APISERVER_MANIFEST) == before
    assert curl(api_url(ip, "/readyz"), "admin") == (200, "ok")
    assert "--etcd-servers=https://127.0.0.1:2379" in node.run("pgrep", "-a", "-f", "^[^ ]*kube-apiserver ").stdout


def test_kubelet_config_the_real_kubelet_refuses_is_rolled_back(role_playbooks):
    workdir = role_playbooks
    before = node.read(KUBELET_CONFIG)
    # a negative kubeAPIQPS is well-typed, so it passes the role's checks; the real kubelet's validation refuses it
    # the real kubelet exits at once: the gate need not wait the default minute
    rc, out, _changed = role(workdir, "kubelet", node, {"kubelet_health_timeout": 20,
                                                        "kubelet_extra_settings": {"kubeAPIQPS": -1}})
    assert rc != 0, out[-6000:]
    assert "Rolled back: %s was restored" % KUBELET_CONFIG in out, out[-6000:]
    assert node.read(KUBELET_CONFIG) == before
    journal = node.run("journalctl", "-u", "kubelet", "--no-pager", "-n", "400").stdout
    assert "kubeAPIQPS" in journal
    node.run("systemctl", "is-active", "kubelet")
    assert curl("http://127.0.0.1:10248/healthz", cacert=None) == (200, "ok")


@pytest.mark.usefixtures("role_playbooks")
def test_etcd_that_does_not_come_back_is_rolled_back(cluster):
    workdir, ip, _refused = cluster
    before = node.read(ETCD_MANIFEST)
    # a well-formed interval, so it passes the role's checks; the real etcd refuses an election timeout (default
    # 1000 ms) under five heartbeats and exits
    rc, out, _changed = role(workdir, "etcd", node, {"etcd_health_timeout": 30,
                                                     "etcd_extra_flags": {"heartbeat-interval": 1000}})
    assert rc != 0, out[-6000:]
    assert "etcd failed its health gate after %s changed" % ETCD_MANIFEST in out, out[-6000:]
    assert "etcd is healthy again" in out, out[-6000:]
    assert node.read(ETCD_MANIFEST) == before
    assert "should be at least as 5 times as --heartbeat-interval" in node.run(
        "sh", "-c", "cat /var/log/static-pods/etcd*.log").stdout

    def api_ready():
        """the API server is ready on etcd again"""
        return curl(api_url(ip, "/readyz"), "admin") == (200, "ok")
    wait_for(api_ready)


def test_protect_kernel_defaults_with_a_wrong_sysctl(role_playbooks):
    workdir = role_playbooks
    before = worker.read(KUBELET_CONFIG)
    assert "protectKernelDefaults: true" in before
    # kernel.* is the host's in a container and stays untouched: a bind mount in the worker's own mount namespace
    # shows the node's processes (the real kubelet, the role's module) kernel.panic=0 instead of kubelet's 10
    worker.sh("echo 0 > /run/sck8s-panic && mount --bind /run/sck8s-panic /proc/sys/kernel/panic")
    try:
        assert worker.read("/proc/sys/kernel/panic").strip() == "0"
        rc, out, changed = role(workdir, "kubelet", worker)
        assert rc != 0, out[-6000:]
        assert "kernel.panic" in out, out[-6000:]
        assert changed.get(WORKER_NAME) == 0, changed_tasks(out)
        assert worker.read(KUBELET_CONFIG) == before
        # why the role refuses: the real kubelet does not start with it
        worker.run("systemctl", "restart", "kubelet.service", check=False)

        def kubelet_refused():
            """the real kubelet refused kernel.panic=0"""
            journal = worker.run("journalctl", "-u", "kubelet", "--no-pager", "-n", "200").stdout
            return "invalid kernel flag: kernel/panic, expected value: 10, actual value: 0" in journal
        wait_for(kubelet_refused, 60)
        assert worker.run("systemctl", "is-active", "kubelet.service", check=False).stdout.strip() != "active"
    finally:
        worker.sh("umount /proc/sys/kernel/panic; systemctl restart kubelet.service")

    def kubelet_healthy():
        """the worker's kubelet is healthy again"""
        return worker.run("curl", "-sf", "http://127.0.0.1:10248/healthz", check=False).stdout == "ok"
    wait_for(kubelet_healthy, 60)


def test_namespace_baseline_applied_then_cluster_audit_online(cluster):
    """The policy layer against the real API server: server-side apply, a second run changes nothing, and the
    online cluster audit judges the applied baseline and finds what was planted beside it."""
    workdir, ip, _refused = cluster
    kubeconfig = workdir / "admin.conf"
    kubeconfig.write_text(node.read("/etc/kubernetes/admin.conf"), encoding="utf-8")
    kubeconfig.chmod(0o600)
    assert "server: https://%s:6443" % ip in kubeconfig.read_text(encoding="utf-8")
    args = ["-e", "namespace_baseline_kubeconfig=%s" % kubeconfig, "-e", "namespace_baseline_kubernetes_version=%s"
            % VERSION, "-e", "namespace_baseline_output_dir=%s/gitops" % workdir]
    rc, out, changed = playbook(workdir, "namespace_baseline.yml", *args)
    assert rc == 0, out[-6000:]
    assert changed["localhost"] > 0
    rc, out, changed = playbook(workdir, "namespace_baseline.yml", *args)
    assert rc == 0, out[-6000:]
    assert changed["localhost"] == 0, changed_tasks(out)
    # what the API server now has, read back with kubectl rather than through the role
    labels = json.loads(kubectl("get", "namespace", "payments-prod", "-o", "json").stdout)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    policies = kubectl("-n", "payments-prod", "get", "networkpolicy", "-o", "name").stdout.split()
    assert "networkpolicy.networking.k8s.io/default-deny-all" in policies
    managers = json.loads(kubectl("-n", "payments-prod", "get", "networkpolicy", "default-deny-all", "-o", "json",
                                  "--show-managed-fields").stdout)["metadata"]["managedFields"]
    assert [m["operation"] for m in managers if m["manager"] == "secure-cluster-k8s"] == ["Apply"]

    # planted beside the baseline: a user bound to cluster-admin, a wildcard Role, a Secret in an env var
    apply(
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "sck8s-planted-admin"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "mallory"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "sck8s-planted-wildcard", "namespace": "shop-dev"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "env-secret", "namespace": NS},
         "spec": {"nodeName": WORKER_NAME, "containers": [{
             "name": "c", "image": PAUSE,
             "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "unbound", "key": "token"}}}]}]}})
    rc, out, _changed = playbook(workdir, "cluster_audit.yml", "-e", "cluster_kubeconfig=%s" % kubeconfig,
                                 "-e", "cluster_name=real", "-e", "cis_report_dir=%s/cluster" % workdir,
                                 "-e", "cis_fail_on=none")
    assert rc == 0, out[-6000:]
    results = kube_bench_results(workdir / "cluster" / "real.json")

    def offenders(check):
        return json.dumps(results[check].get("findings", []))

    assert results["5.1.1"]["status"] == "FAIL" and "mallory" in offenders("5.1.1"), results["5.1.1"]
    assert results["5.1.3"]["status"] == "FAIL" and "sck8s-planted-wildcard" in offenders("5.1.3"), results["5.1.3"]
    assert results["5.4.1"]["status"] == "FAIL" and "env-secret" in offenders("5.4.1"), results["5.4.1"]
    # the applied baseline itself is not what fails: its namespaces have PSA labels and NetworkPolicies
    for check in ("5.2.1", "5.3.2"):
        for tenant in ("payments-prod", "checkout-prod", "shop-dev"):
            assert tenant not in offenders(check), (check, results[check])


def upgrade_dry_run():
    """{component: Pod} the real `kubeadm upgrade node phase control-plane --dry-run` would write. (A real run
    waits up to 5 min for the kubelet to restart each changed static pod, which the test bed's kubelet does not do:
    the static-pod runner runs them; tests/testbed/README.md.)"""
    files = dry_run_files(node, "control-plane")
    pods = {path[len("/etc/kubernetes/manifests/"):-len(".yaml")]: doc for path, doc in files.items()}
    assert sorted(pods) == sorted(CONTROL_PLANE), sorted(files)
    return pods


def dry_run_files(member, phase, *args):
    """{path: document} of the files the real `kubeadm upgrade node phase <phase> --dry-run` says it would write."""
    out = member.run("kubeadm", "upgrade", "node", "phase", phase, "--dry-run", *args).stdout
    parts = re.split(r'\[dryrun\] Would write file "([^"]+)" with content:\n', out)
    files = {}
    for path, text in zip(parts[1::2], parts[2::2]):
        lines = itertools.takewhile(lambda line: not line.startswith("["), text.splitlines())
        files[path] = yaml.safe_load("\n".join(lines))
    return files


def command_flags(pod):
    """{flag: value} of the pod's command (kubeadm writes one --name=value per item)."""
    return dict(arg[2:].partition("=")[::2] for arg in pod["spec"]["containers"][0]["command"][1:])


def mounts(pod):
    """{(host path, mount path, read-only)} of the pod's hostPath volumes."""
    paths = {v["name"]: v["hostPath"]["path"] for v in pod["spec"]["volumes"]}
    return {(paths[m["name"]], m["mountPath"], bool(m.get("readOnly"))) for m in pod["spec"]["containers"][0]
            .get("volumeMounts", [])}


def audit(workdir, name):
    """{node: its kube-bench-shaped JSON report} of audit.yml run now into workdir/name."""
    rc, out, _changed = playbook(workdir, "audit.yml", "-e", "cis_report_dir=%s/%s" % (workdir, name))
    assert rc == 0, out[-6000:]
    return {member: json.loads((workdir / name / (member + ".json")).read_text()) for member in (NODE, WORKER_NAME)}


def statuses(report):
    return {t["test_number"]: t["status"] for c in report["Controls"] for g in c["tests"] for t in g["results"]}


def verdicts(workdir, name):
    """{node: {check: status}} of audit.yml run now into workdir/name."""
    return {member: statuses(report) for member, report in audit(workdir, name).items()}


def kube_bench_results_of(report):
    return {t["test_number"]: t for c in report["Controls"] for g in c["tests"] for t in g["results"]}


def predicted_flags(report, component):
    """{flag: value} the audit says the next kubeadm upgrade writes for a component (kubeadm writes each once)."""
    return dict(report["secure_cluster"]["upgrade"]["components"][component]["args"])


def replace_configmap(obj):
    obj = json.loads(json.dumps(obj))
    obj["metadata"] = {k: obj["metadata"][k] for k in ("name", "namespace")}
    kubectl("replace", "-f", "-", stdin=json.dumps(obj))


def test_kubeadm_upgrade_regenerates_the_hardened_control_plane(cluster):
    workdir, ip, _refused = cluster
    hardened = {c: yaml.safe_load(node.read("/etc/kubernetes/manifests/%s.yaml" % c)) for c in CONTROL_PLANE}
    kept = configmap("kubeadm-config")
    config = yaml.safe_load(kept["data"]["ClusterConfiguration"])
    assert {a["name"] for a in config["apiServer"]["extraArgs"]} >= {"audit-log-path", "kubelet-certificate-authority",
                                                                     "encryption-provider-config", "profiling"}

    regenerated = upgrade_dry_run()
    for component in CONTROL_PLANE:
        assert command_flags(regenerated[component]) == command_flags(hardened[component]), component
        assert mounts(regenerated[component]) == mounts(hardened[component]), component
    # the supporting files the flags name are on the node (kubeadm does not touch them)
    for flag in ("audit-policy-file", "encryption-provider-config", "admission-control-config-file"):
        node.run("test", "-s", command_flags(hardened["kube-apiserver"])[flag])

    # without: kubeadm's own ClusterConfiguration (as kubeadm init uploaded it) loses the hardening, and the audit
    # says so beforehand ("will drift on upgrade"), flag for flag what the real kubeadm then writes
    def pids():
        return {c: node.run("pgrep", "-o", "-f", "^[^ ]*%s " % c, check=False).stdout.strip() for c in CONTROL_PLANE}

    replace_configmap(BEFORE["kubeadm-config"])
    try:
        lost = upgrade_dry_run()
        warned = audit(workdir, "kubeadm-init-config")[NODE]
        # remediate.yml keeps what would drift: the roles write it back where kubeadm reads it and restart nothing
        old_pids = pids()
        rc, out, _changed = playbook(workdir, "remediate.yml", "-e", "remediate_report_dir=%s/keep" % workdir)
        assert rc == 0, out[-6000:]
        assert pids() == old_pids
        remediated = json.loads((workdir / "keep" / "remediation.json").read_text())["hosts"][NODE]
        remediated_config = yaml.safe_load(configmap("kubeadm-config")["data"]["ClusterConfiguration"])
    finally:
        replace_configmap(kept)
    for component in CONTROL_PLANE:
        assert predicted_flags(warned, component) == command_flags(lost[component]), component
    drifting = warned["secure_cluster"]["upgrade_drift"]
    assert {"1.2.5", "1.2.15", "1.2.16", "1.2.27", "1.3.2", "1.4.1"} <= set(drifting), drifting
    results = kube_bench_results_of(warned)
    assert all(results[i]["status"] == "PASS" and results[i]["upgrade_drift"] for i in drifting)
    plan = remediated["plan"]
    assert plan["fix"] == [] and set(plan["keep"]) | set(plan["unfixable"]) == set(drifting), plan
    assert {"apiserver", "controller_manager", "scheduler"} <= set(plan["roles"]), plan
    assert set(remediated["delta"]["upgrade_drift_before"]) == set(drifting)
    assert remediated["delta"]["upgrade_drift_after"] == [], remediated["delta"]
    assert {a["name"] for a in remediated_config["apiServer"]["extraArgs"]} >= {
        "audit-log-path", "kubelet-certificate-authority", "encryption-provider-config", "profiling"}
    for component, flags in (("kube-apiserver", {"audit-log-path", "kubelet-certificate-authority", "profiling",
                                                 "encryption-provider-config"}),
                             ("kube-controller-manager", {"profiling"}), ("kube-scheduler", {"profiling"})):
        regen, want = command_flags(lost[component]), command_flags(hardened[component])
        assert {f for f in flags if regen.get(f) != want[f]} == flags, (component, regen)
    assert mounts(lost["kube-apiserver"]) < mounts(hardened["kube-apiserver"])

    # with: the audit predicts exactly the regenerated manifests and nothing drifting, and with them running
    # (kubeadm's last step, moving them in place) every verdict stays
    reports = audit(workdir, "before-upgrade")
    for component in CONTROL_PLANE:
        assert predicted_flags(reports[NODE], component) == command_flags(regenerated[component]), component
    assert {m: r["secure_cluster"]["upgrade_drift"] for m, r in reports.items()} == {NODE: [], WORKER_NAME: []}
    before = {member: statuses(report) for member, report in reports.items()}
    old_pids = pids()
    for component in CONTROL_PLANE:
        node.sh("cat > /etc/kubernetes/manifests/%s.yaml" % component,
                stdin=yaml.safe_dump(regenerated[component], sort_keys=False))

    def restarted():
        """the control plane was restarted from the regenerated manifests and is ready"""
        now = pids()
        return (all(now[c] and now[c] != old_pids[c] for c in CONTROL_PLANE)
                and curl(api_url(ip, "/readyz"), "admin") == (200, "ok")
                and node.run("curl", "-sk", "https://127.0.0.1:10257/healthz", check=False).stdout == "ok"
                and node.run("curl", "-sk", "https://127.0.0.1:10259/healthz", check=False).stdout == "ok")
    wait_for(restarted, 180)
    assert verdicts(workdir, "after-upgrade") == before
    # and the roles find nothing to change in them
    rc, out, changed = playbook(workdir, "site.yml", "--limit", NODE, "--tags", "apiserver,controller_manager,scheduler")
    assert rc == 0, out[-6000:]
    assert changed.get(NODE) == 0, changed_tasks(out)


def test_kubeadm_upgrade_node_keeps_the_kubelet_hardening(cluster):
    """kubeadm upgrade node rewrites each kubelet's config.yaml from the kubelet-config ConfigMap (for real here:
    this phase needs no static pod restart)."""
    workdir, ip, _refused = cluster
    hardened = {m.name: yaml.safe_load(m.read(KUBELET_CONFIG)) for m in (node, worker)}
    for key, value in (("protectKernelDefaults", True), ("serverTLSBootstrap", True), ("readOnlyPort", 0),
                       ("podPidsLimit", 4096)):
        assert hardened[WORKER_NAME].get(key) == value, key
    kept = configmap("kubelet-config")
    # without: the ConfigMap as kubeadm init uploaded it loses the hardening. The audit says which recommendations
    # beforehand; the real phase then writes the worker's file (its kubelet not restarted, so the audit judges the
    # file) and exactly those stop passing
    replace_configmap(BEFORE["kubelet-config"])
    worker_file = worker.read(KUBELET_CONFIG)
    try:
        lost = dry_run_files(node, "kubelet-config")[KUBELET_CONFIG]
        warned = audit(workdir, "kubelet-init-config")
        worker.run("kubeadm", "upgrade", "node", "phase", "kubelet-config", "--kubeconfig", "/etc/kubernetes/kubelet.conf")
        undone = statuses(audit(workdir, "kubelet-undone")[WORKER_NAME])
    finally:
        replace_configmap(kept)
        worker.sh("cat > %s" % KUBELET_CONFIG, stdin=worker_file)  # the kubelet never ran with the undone file
    predicted = warned[WORKER_NAME]["secure_cluster"]["upgrade_drift"]
    was = statuses(warned[WORKER_NAME])
    assert set(predicted) == {i for i, status in was.items() if status == "PASS" and undone[i] != "PASS"}, undone
    assert {"4.2.12", "4.2.13"} <= set(predicted), predicted  # tlsCipherSuites, podPidsLimit
    assert warned[NODE]["secure_cluster"]["upgrade_drift"] == predicted
    assert {k for k in ("protectKernelDefaults", "serverTLSBootstrap", "tlsCipherSuites", "podPidsLimit",
                        "eventRecordQPS") if lost.get(k) != hardened[NODE].get(k)} == {
        "protectKernelDefaults", "serverTLSBootstrap", "tlsCipherSuites", "podPidsLimit", "eventRecordQPS"}
    # with: both nodes' files come back as hardened, mode kept, and the kubelets run with them. kubeadm writes the
    # values the Go way: durations in Go's form, zero values left out (readOnlyPort: 0 is the default)
    before = verdicts(workdir, "before-kubelet-upgrade")
    for member, args in ((node, ()), (worker, ("--kubeconfig", "/etc/kubernetes/kubelet.conf"))):
        member.run("kubeadm", "upgrade", "node", "phase", "kubelet-config", *args)
        upgraded = yaml.safe_load(member.read(KUBELET_CONFIG))
        want = dict(hardened[member.name], streamingConnectionIdleTimeout="5m0s")
        del want["readOnlyPort"]
        assert upgraded == want, member.name
        assert member.run("stat", "-c", "%a", KUBELET_CONFIG).stdout.strip() == "600"
        member.run("systemctl", "restart", "kubelet.service")

        def healthy():
            """the kubelet is healthy and the API server verifies it again"""
            return (member.run("curl", "-sf", "http://127.0.0.1:10248/healthz", check=False).stdout == "ok"
                    and curl(api_url(ip, "/api/v1/nodes/%s/proxy/healthz" % member.name), "admin") == (200, "ok"))
        wait_for(healthy, 90)
    assert verdicts(workdir, "after-kubelet-upgrade") == before
    # the kubelet role puts the explicit readOnlyPort: 0 back (one restart) and then has nothing left to do
    rc, out, changed = playbook(workdir, "site.yml", "--tags", "kubelet", "-e", "site_etcd_backup_enabled=false")
    assert rc == 0, out[-6000:]
    rc, out, changed = playbook(workdir, "site.yml", "--tags", "kubelet", "-e", "site_etcd_backup_enabled=false")
    assert rc == 0 and changed.get(NODE) == 0 and changed.get(WORKER_NAME) == 0, changed_tasks(out)
