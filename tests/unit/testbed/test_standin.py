"""Behaviour of the test node's component stand-ins (tests/testbed/node/usr/local/lib/testbed/standin.py, standins/).

The stand-ins run as real subprocesses on 127.0.0.1 high ports with openssl-made certificates in tmp dirs; the
assertions are on exit codes, messages and HTTP statuses. A tiny fake k8s_flags module pins the accepted flags so
that these tests do not depend on the flag data (one test at the end uses the real module when present).
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import importlib.util
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
NODE = os.path.join(REPO, "tests", "testbed", "node")
LIB = os.path.join(NODE, "usr", "local", "lib", "testbed")
BIN = {"kube-apiserver": os.path.join(NODE, "usr", "local", "bin", "kube-apiserver"),
       "kube-controller-manager": os.path.join(NODE, "usr", "local", "bin", "kube-controller-manager"),
       "kube-scheduler": os.path.join(NODE, "usr", "local", "bin", "kube-scheduler"),
       "kube-proxy": os.path.join(NODE, "usr", "local", "bin", "kube-proxy"),
       "kubelet": os.path.join(NODE, "usr", "bin", "kubelet")}


FAKE_FLAGS = '''
SUPPORTED_MINORS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35")
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
_G = {"v": "Level", "help": "bool", "version": "version[=true]", "vmodule": "pattern=N,..."}
_SERVING = {"tls-cert-file": "string", "tls-private-key-file": "string", "tls-min-version": "string",
            "tls-cipher-suites": "strings", "bind-address": "string", "secure-port": "int", "profiling": "bool",
            "client-ca-file": "string", "requestheader-client-ca-file": "string", "cert-dir": "string",
            "feature-gates": "mapStringBool"}
_API = {"anonymous-auth": "bool", "etcd-servers": "strings", "etcd-cafile": "string", "etcd-certfile": "string",
        "etcd-keyfile": "string", "service-account-issuer": "strings", "service-account-key-file": "strings",
        "service-account-signing-key-file": "string", "authorization-mode": "strings",
        "enable-admission-plugins": "strings", "disable-admission-plugins": "strings",
        "admission-control-config-file": "string", "audit-policy-file": "string", "audit-log-path": "string",
        "audit-log-maxage": "int", "encryption-provider-config": "string", "service-account-lookup": "bool",
        "kubelet-client-certificate": "string", "kubelet-client-key": "string", "request-timeout": "duration",
        "advertise-address": "string", "allow-privileged": "bool", "token-auth-file": "string"}
_DELEGATED = {"kubeconfig": "string", "authentication-kubeconfig": "string", "authorization-kubeconfig": "string",
              "leader-elect": "bool", "authorization-always-allow-paths": "strings"}
_CM = {"root-ca-file": "string", "service-account-private-key-file": "string", "use-service-account-credentials": "bool",
       "cluster-signing-cert-file": "string", "cluster-signing-key-file": "string", "controllers": "strings"}
_KUBELET = {"config": "string", "kubeconfig": "string", "bootstrap-kubeconfig": "string", "cert-dir": "string",
            "container-runtime-endpoint": "string", "anonymous-auth": "bool", "read-only-port": "int32",
            "hostname-override": "string", "node-ip": "string"}
_PROXY = {"config": "string", "kubeconfig": "string", "hostname-override": "string"}
_TABLE = {"kube-apiserver": {**_G, **_SERVING, **_API}, "kube-controller-manager": {**_G, **_SERVING, **_DELEGATED, **_CM},
          "kube-scheduler": {**_G, **_SERVING, **_DELEGATED, "config": "string"},
          "kubelet": {**_G, **_KUBELET}, "kube-proxy": {**_G, **_PROXY}}
def minor(version):
    parts = str(version).lstrip("v").split(".")
    m = ".".join(parts[:2])
    if m not in SUPPORTED_MINORS:
        raise ValueError(f"unsupported version {version}")
    return m
def flags_for(component, version):
    minor(version)
    return dict(_TABLE[component])
def check_flag(component, version, name):
    if name in _TABLE[component]:
        return None
    if name == "insecure-port":
        return f"--insecure-port is not accepted by {component} v{minor(version)}: it was removed in v1.24"
    return f"--{name} is not accepted by {component} v{minor(version)}"
_PLUGINS = frozenset({"NodeRestriction", "EventRateLimit", "AlwaysPullImages", "PodSecurity", "NamespaceLifecycle",
                      "ServiceAccount", "LimitRanger", "ImagePolicyWebhook"})
def admission_plugins(version):
    return _PLUGINS
def check_admission_plugin(version, name):
    if name in _PLUGINS:
        return None
    if name == "PodSecurityPolicy":
        return "admission plugin PodSecurityPolicy is not known to kube-apiserver v1.33: it was removed in v1.25"
    return f"admission plugin {name} is not known to kube-apiserver v{minor(version)}"
'''


# ----------------------------------------------------------------------------------------------------------------
# fixtures and helpers
# ----------------------------------------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_cert(directory, name, ca, subject, san=None, client=False):
    key, csr, crt = f"{name}.key", f"{name}.csr", f"{name}.crt"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject, cwd=directory)
    ext = os.path.join(directory, f"{name}.ext")
    with open(ext, "w", encoding="utf-8") as handle:
        handle.write("basicConstraints=CA:FALSE\n")
        handle.write(f"extendedKeyUsage={'clientAuth' if client else 'serverAuth,clientAuth'}\n")
        if san:
            handle.write(f"subjectAltName={san}\n")
    openssl("x509", "-req", "-in", csr, "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial", "-out", crt,
            "-days", "2", "-sha256", "-extfile", ext, cwd=directory)
    return os.path.join(directory, crt), os.path.join(directory, key)


class PKI:
    def __init__(self, directory):
        self.dir = directory
        for ca, cn in (("ca", "kubernetes"), ("etcd-ca", "etcd-ca"), ("other-ca", "intruder")):
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                    "-days", "2", "-subj", f"/CN={cn}", cwd=directory)
        self.server = make_cert(directory, "apiserver", "ca", "/CN=kube-apiserver",
                                "IP:127.0.0.1,DNS:localhost")
        self.admin = make_cert(directory, "admin", "ca", "/O=system:masters/CN=kubernetes-admin", client=True)
        self.user = make_cert(directory, "user", "ca", "/CN=jane", client=True)
        self.intruder = make_cert(directory, "intruder", "other-ca", "/O=system:masters/CN=mallory", client=True)
        self.etcd_server = make_cert(directory, "etcd-server", "etcd-ca", "/CN=etcd", "IP:127.0.0.1,DNS:localhost")
        self.etcd_client = make_cert(directory, "apiserver-etcd-client", "etcd-ca", "/CN=kube-apiserver-etcd-client",
                                     client=True)
        openssl("genrsa", "-out", "sa.key", "2048", cwd=directory)
        openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=directory)
        self.ca = os.path.join(directory, "ca.crt")
        self.etcd_ca = os.path.join(directory, "etcd-ca.crt")
        self.other_ca = os.path.join(directory, "other-ca.crt")
        self.sa_key = os.path.join(directory, "sa.key")
        self.sa_pub = os.path.join(directory, "sa.pub")

    def path(self, name):
        return os.path.join(self.dir, name)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module")
def fake_flags(tmp_path_factory):
    directory = tmp_path_factory.mktemp("flags")
    path = directory / "k8s_flags.py"
    path.write_text(FAKE_FLAGS)
    version = directory / "version"
    version.write_text("1.33.5\n")
    return str(path), str(version)


@pytest.fixture()
def env(fake_flags, tmp_path):
    flags, version = fake_flags
    out = {k: v for k, v in os.environ.items() if not k.startswith("TESTBED_")}
    out.update({"TESTBED_K8S_FLAGS": flags, "TESTBED_VERSION_FILE": version, "PYTHONDONTWRITEBYTECODE": "1",
                "TESTBED_NODE_IP_FILE": str(tmp_path / "no-node-ip")})
    return out


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(component, args, env, timeout=30):
    proc = subprocess.run([sys.executable, BIN[component], *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stdout, proc.stderr


class Running:
    def __init__(self, proc, ports):
        self.proc = proc
        self.ports = ports
        self.stderr = ""


@contextlib.contextmanager
def serving(component, args, env, ports, timeout=20):
    """Start a stand-in, wait until every port accepts connections, SIGTERM it afterwards (must exit 0)."""
    proc = subprocess.Popen([sys.executable, BIN[component], *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    running = Running(proc, ports)
    deadline = time.monotonic() + timeout
    pending = list(ports)
    try:
        while pending:
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"{component} exited {proc.returncode} before serving:\n{err}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{component} did not listen on {pending}")
            with socket.socket() as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", pending[0])) == 0:
                    pending.pop(0)
                    continue
            time.sleep(0.05)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        dummy, err = proc.communicate()
        running.stderr = err
    assert proc.returncode == 0, f"{component} did not exit 0 on SIGTERM ({proc.returncode}):\n{running.stderr}"


def get(url, cert=None, ca=None, timeout=5):
    """(status, body) of a GET; HTTPS without verification unless ca is given."""
    ctx = None
    if url.startswith("https"):
        ctx = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()  # noqa: S323
        if ca:
            ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(*cert)
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def apiserver_args(pki, port, etcd_port=None, extra=()):
    etcd_port = etcd_port or free_port()
    return [f"--secure-port={port}", "--bind-address=127.0.0.1", f"--etcd-servers=https://127.0.0.1:{etcd_port}",
            f"--etcd-cafile={pki.etcd_ca}", f"--etcd-certfile={pki.etcd_client[0]}",
            f"--etcd-keyfile={pki.etcd_client[1]}", "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki.sa_pub}", f"--service-account-signing-key-file={pki.sa_key}",
            f"--tls-cert-file={pki.server[0]}", f"--tls-private-key-file={pki.server[1]}",
            f"--client-ca-file={pki.ca}", "--authorization-mode=Node,RBAC", *extra]


class FakeEtcd:
    """Stands in for etcd's client port: mutual TLS and GET /health, nothing else."""

    def __init__(self, pki, port):
        handler = type("H", (http.server.BaseHTTPRequestHandler,), {
            "do_GET": lambda self: self._reply(),
            "_reply": lambda self: (self.send_response(200), self.send_header("Content-Type", "application/json"),
                                    self.end_headers(), self.wfile.write(b'{"health":"true"}')),
            "log_message": lambda self, *a: None})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*pki.etcd_server)
        ctx.load_verify_locations(pki.etcd_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def kubeconfig(tmp_path, pki, name="kubeconfig", cert=None, server="https://127.0.0.1:6443"):
    cert = cert or pki.admin
    return write(tmp_path, name, json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "default",
        "clusters": [{"name": "kubernetes", "cluster": {"server": server, "certificate-authority": pki.ca}}],
        "users": [{"name": "admin", "user": {"client-certificate": cert[0], "client-key": cert[1]}}],
        "contexts": [{"name": "default", "context": {"cluster": "kubernetes", "user": "admin"}}]}))


def standins_module(name):
    """A module of the stand-ins' package (LIB/standins/), imported as standin.py imports it on the node."""
    if LIB not in sys.path:
        sys.path.append(LIB)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # the directory is an image build input
    try:
        return importlib.import_module("standins." + name)
    finally:
        sys.dont_write_bytecode = saved


# ----------------------------------------------------------------------------------------------------------------
# command line (pflag semantics)
# ----------------------------------------------------------------------------------------------------------------

def test_version_flag(env):
    rc, out, err = run("kube-apiserver", ["--version"], env)
    assert rc == 0 and out.strip() == "Kubernetes v1.33.5"
    rc, out, dummy = run("kubelet", ["--version=raw"], env)
    assert rc == 0 and json.loads(out)["gitVersion"] == "v1.33.5"


def test_unknown_flag_is_fatal_with_pflag_message(env):
    rc, dummy, err = run("kube-apiserver", ["--insecure-port=0"], env)
    assert rc == 1
    assert err.startswith("Error: unknown flag: --insecure-port\n")
    assert "Usage:\n  kube-apiserver [flags]" in err
    assert "removed in v1.24" in err


def test_unknown_or_locked_feature_gate_is_fatal(env):
    env = dict(env, TESTBED_K8S_FLAGS=REAL_FLAGS)  # the fake flag data has no feature gates
    rc, dummy, err = run("kube-apiserver", ["--feature-gates=RotateKubeletServerCertificate=true,KMSv2=true"], env)
    assert rc == 1
    assert err.startswith('Error: invalid argument "RotateKubeletServerCertificate=true,KMSv2=true" for '
                          '"--feature-gates" flag: unrecognized feature gate: KMSv2\n')
    rc, dummy, err = run("kube-scheduler", ["--feature-gates=SidecarContainers=false"], env)
    assert rc == 1
    assert ('"--feature-gates" flag: cannot set feature gate SidecarContainers to false, feature is locked to true'
            in err)
    rc, dummy, err = run("kubelet", ["--feature-gates=NoSuchGate=true"], env)
    assert rc == 1
    assert "unrecognized feature gate: NoSuchGate" in err


def test_kubelet_unknown_flag_is_logged_like_the_kubelet(env):
    rc, dummy, err = run("kubelet", ["--network-plugin=cni"], env)
    assert rc == 1
    assert '"command failed" err="failed to parse kubelet flag: unknown flag: --network-plugin"' in err


@pytest.mark.parametrize("arg, message", [
    ("--secure-port=abc", 'invalid argument "abc" for "--secure-port" flag: strconv.ParseInt: parsing "abc": '
                          "invalid syntax"),
    ("--anonymous-auth=maybe", 'invalid argument "maybe" for "--anonymous-auth" flag: strconv.ParseBool: parsing '
                               '"maybe": invalid syntax'),
    ("--request-timeout=5x", 'invalid argument "5x" for "--request-timeout" flag: time: unknown unit "x" in '
                             'duration "5x"'),
    ("--request-timeout=60", 'time: missing unit in duration "60"'),
    ("-v=x", 'invalid argument "x" for "-v, --v" flag: strconv.ParseInt'),
    ("--secure-port", "flag needs an argument: --secure-port"),
])
def test_bad_typed_values(env, arg, message):
    rc, dummy, err = run("kube-apiserver", [arg], env)
    assert rc == 1
    assert message in err


def test_bool_flag_does_not_consume_the_next_argument(env):
    rc, dummy, err = run("kube-apiserver", ["--anonymous-auth", "false"], env)
    assert rc == 1
    assert 'Error: "kube-apiserver" does not take any arguments, got ["false"]' in err


def test_flag_parser_semantics():
    flagset, core = standins_module("flagset"), standins_module("core")
    spec = {"v": "Level", "anonymous-auth": "bool", "etcd-servers": "strings", "secure-port": "int",
            "service-account-issuer": "stringArray", "help": "bool"}
    fs = flagset.FlagSet("kube-apiserver", spec).parse(
        ["-v", "2", "--anonymous_auth", "--etcd-servers=https://a:2379,https://b:2379", "--etcd-servers",
         "https://c:2379", "--secure-port", "0x1F90", "--service-account-issuer=a,b", "--service-account-issuer=c"])
    assert fs.get_int("v") == 2
    assert fs.get_bool("anonymous-auth") is True
    assert fs.get_list("etcd-servers") == ["https://a:2379", "https://b:2379", "https://c:2379"]
    assert fs.get_int("secure-port") == 8080
    assert fs.get_list("service-account-issuer") == ["a,b", "c"]
    fs = flagset.FlagSet("kube-apiserver", spec).parse(["-v=3", "--anonymous-auth=false"])
    assert fs.get_int("v") == 3 and fs.get_bool("anonymous-auth") is False
    assert core.go_parse_duration("1h2m3.5s") == pytest.approx(3723.5)


# The stand-ins keep their own pflag parser (standins/flagset.py) beside the collection's reader of command lines,
# k8s_args.tokenize: the stand-in must refuse what pflag refuses, with pflag's words, where k8s_args reads whatever a
# node runs (tests/testbed/README.md, "The stand-ins"). On a command line the real binary accepts, both must read
# the same flags and values in the same order: kubeadm's command lines of every minor and the pflag forms below.
PFLAG_FORMS = (["--v", "2", "--anonymous_auth", "--profiling=false", "--etcd-servers", "https://a:2379,https://b:2379",
                "--etcd-servers=https://c:2379", "--secure-port", "-1", "--request-timeout", "1m0s", "--version",
                "--enable-admission-plugins=NodeRestriction", "--enable-admission-plugins", "PodSecurity"],)


def kubeadm_command_lines(ni):
    for minor in ni.SUPPORTED_MINORS:
        full = ni.PATCH_FOR_MINOR[minor]
        for pod in (ni.apiserver_manifest(minor, full, "10.89.0.2", lambda _path: False),
                    ni.controller_manager_manifest(minor, full, lambda _path: False), ni.scheduler_manifest(minor, full)):
            yield full, pod["spec"]["containers"][0]["command"]
    for argv in PFLAG_FORMS:
        yield ni.PATCH_FOR_MINOR[ni.DEFAULT_VERSION], ["kube-apiserver", *argv]


def test_flagset_reads_accepted_command_lines_as_k8s_args_does():
    k8s_args = importlib.import_module("ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_args")
    k8s_flags = importlib.import_module("ansible_collections.secure_cluster.k8s.plugins.module_utils.k8s_flags")
    ni = importlib.import_module("ansible_collections.secure_cluster.k8s.tests.unit.testbed_loader").node_init
    flagset = standins_module("flagset")
    seen = 0
    for version, argv in kubeadm_command_lines(ni):
        component = os.path.basename(argv[0])
        spec = k8s_flags.flags_for(component, version)
        fs = flagset.FlagSet(component, spec).parse(argv[1:])
        parsed = k8s_args.parse_argv(argv, flag_types=spec)
        assert list(fs.values.items()) == list(parsed.multi.items()), (version, argv)
        assert fs.args == parsed.positional == []
        seen += 1
    assert seen == 3 * len(ni.SUPPORTED_MINORS) + len(PFLAG_FORMS)


# ----------------------------------------------------------------------------------------------------------------
# files named by flags
# ----------------------------------------------------------------------------------------------------------------

def test_missing_file_exits_with_open_error(env, pki, tmp_path):
    args = apiserver_args(pki, free_port())
    args = [a for a in args if not a.startswith("--tls-cert-file")] + [f"--tls-cert-file={tmp_path}/nope.crt"]
    rc, dummy, err = run("kube-apiserver", args, env)
    assert rc == 1
    assert f'"command failed" err="unable to load server certificate: open {tmp_path}/nope.crt: no such file or ' \
           'directory"' in err


def test_file_outside_the_pod_mounts_is_invisible(env, pki, tmp_path):
    mounts = [{"mountPath": "/somewhere/else", "hostPath": str(tmp_path), "readOnly": True}]
    env = dict(env, TESTBED_MOUNTS=json.dumps(mounts))
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port()), env)
    assert rc == 1
    assert f"open {pki.sa_key}: no such file or directory" in err


def test_files_inside_mounts_are_found_through_the_mount(env, pki, tmp_path):
    # the manifest says /etc/kubernetes/pki; on the host the files are in the tmp PKI dir
    mounts = [{"mountPath": "/etc/kubernetes/pki", "hostPath": pki.dir, "readOnly": True}]
    env = dict(env, TESTBED_MOUNTS=json.dumps(mounts))
    port = free_port()
    args = [a.replace(pki.dir, "/etc/kubernetes/pki") for a in apiserver_args(pki, port)]
    with serving("kube-apiserver", args, env, [port]):
        assert get(f"https://127.0.0.1:{port}/livez", cert=pki.admin)[0] in (200, 500)


def test_cert_and_key_must_match(env, pki):
    args = [a for a in apiserver_args(pki, free_port()) if not a.startswith("--tls-private-key-file")]
    args.append(f"--tls-private-key-file={pki.admin[1]}")
    rc, dummy, err = run("kube-apiserver", args, env)
    assert rc == 1
    assert "unable to load server certificate: tls: private key does not match public key" in err


def test_ca_file_must_parse(env, pki, tmp_path):
    bogus = write(tmp_path, "ca.crt", "not a certificate\n")
    args = [a for a in apiserver_args(pki, free_port()) if not a.startswith("--client-ca-file")]
    rc, dummy, err = run("kube-apiserver", args + [f"--client-ca-file={bogus}"], env)
    assert rc == 1
    assert "unable to load client CA provider: data does not contain any valid RSA or ECDSA certificates" in err


def test_required_apiserver_flags(env):
    rc, dummy, err = run("kube-apiserver", [], env)
    assert rc == 1
    assert "--etcd-servers must be specified" in err
    assert "service-account-issuer is a required flag" in err


# ----------------------------------------------------------------------------------------------------------------
# structured files
# ----------------------------------------------------------------------------------------------------------------

POLICY = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: {level}\n"


def test_audit_policy_level_is_validated(env, pki, tmp_path):
    policy = write(tmp_path, "audit.yaml", POLICY.format(level="Everything"))
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[f"--audit-policy-file={policy}"]),
                         env)
    assert rc == 1
    assert 'rules[0].level: Unsupported value: \\"Everything\\"' in err


def test_audit_policy_without_rules_is_rejected(env, pki, tmp_path):
    policy = write(tmp_path, "audit.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n")
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[f"--audit-policy-file={policy}"]),
                         env)
    assert rc == 1 and "loaded illegal policy with 0 rules" in err


def test_audit_policy_old_api_version_is_rejected(env, pki, tmp_path):
    policy = write(tmp_path, "audit.yaml", "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: None\n")
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[f"--audit-policy-file={policy}"]),
                         env)
    assert rc == 1 and 'no kind \\"Policy\\" is registered for version \\"audit.k8s.io/v1beta1\\"' in err


def test_audit_log_written_in_a_writable_mount(env, pki, tmp_path):
    policy = write(tmp_path, "audit.yaml", POLICY.format(level="Metadata"))
    logdir = tmp_path / "audit-logs"
    mounts = [{"mountPath": "/etc/kubernetes/pki", "hostPath": pki.dir, "readOnly": True},
              {"mountPath": "/etc/kubernetes/audit", "hostPath": str(tmp_path), "readOnly": True},
              {"mountPath": "/var/log/kubernetes/audit", "hostPath": str(logdir), "readOnly": False}]
    env = dict(env, TESTBED_MOUNTS=json.dumps(mounts))
    port = free_port()
    args = [a.replace(pki.dir, "/etc/kubernetes/pki") for a in apiserver_args(pki, port)]
    args += ["--audit-policy-file=/etc/kubernetes/audit/audit.yaml",
             "--audit-log-path=/var/log/kubernetes/audit/audit.log"]
    assert policy
    with serving("kube-apiserver", args, env, [port]):
        get(f"https://127.0.0.1:{port}/version", cert=pki.admin)
        time.sleep(0.2)
    log_file = logdir / "audit.log"
    assert oct(log_file.stat().st_mode & 0o777) == "0o600"
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert any(e["requestURI"] == "/version" and e["user"]["username"] == "kubernetes-admin" and
               e["level"] == "Metadata" for e in events)


def test_audit_log_outside_mounts_or_read_only_fails(env, pki, tmp_path):
    mounts = [{"mountPath": "/etc/kubernetes/pki", "hostPath": pki.dir, "readOnly": True},
              {"mountPath": "/var/log/kubernetes/audit", "hostPath": str(tmp_path), "readOnly": True}]
    env = dict(env, TESTBED_MOUNTS=json.dumps(mounts))
    base = [a.replace(pki.dir, "/etc/kubernetes/pki") for a in apiserver_args(pki, free_port())]
    rc, dummy, err = run("kube-apiserver", base + ["--audit-log-path=/var/log/other/audit.log"], env)
    assert rc == 1 and "is not inside any hostPath mount of the pod" in err
    rc, dummy, err = run("kube-apiserver", base + ["--audit-log-path=/var/log/kubernetes/audit/audit.log"], env)
    assert rc == 1 and "ensureLogFile: open /var/log/kubernetes/audit/audit.log: read-only file system" in err


ENC = """apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - {provider}: {{keys: [{{name: key1, secret: {secret}}}]}}
  - identity: {{}}
"""


@pytest.mark.parametrize("provider, raw, message", [
    ("aescbc", b"0123456789", "secret is not of the expected length, got 10, expected one of [16 24 32]"),
    ("secretbox", b"0123456789abcdef", "secret is not of the expected length, got 16, expected one of [32]"),
])
def test_encryption_config_key_lengths(env, pki, tmp_path, provider, raw, message):
    cfg = write(tmp_path, "enc.yaml", ENC.format(provider=provider, secret=base64.b64encode(raw).decode()))
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        f"--encryption-provider-config={cfg}"]), env)
    assert rc == 1
    assert "error while parsing file:" in err and message in err


def test_encryption_config_valid_and_unknown_provider(env, pki, tmp_path):
    good = write(tmp_path, "enc.yaml", ENC.format(provider="aescbc", secret=base64.b64encode(b"k" * 32).decode()))
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port, extra=[f"--encryption-provider-config={good}"]), env,
                 [port]):
        pass
    bad = write(tmp_path, "enc2.yaml", ENC.format(provider="rot13", secret="eA=="))
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        f"--encryption-provider-config={bad}"]), env)
    assert rc == 1 and "unknown field" in err


def test_admission_plugins(env, pki, tmp_path):
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        "--enable-admission-plugins=NodeRestriction,PodSecurityPolicy"]), env)
    assert rc == 1 and 'enable-admission-plugins plugin \\"PodSecurityPolicy\\" is unknown' in err
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        "--enable-admission-plugins=AlwaysPullImages", "--disable-admission-plugins=AlwaysPullImages"]), env)
    assert rc == 1 and "[AlwaysPullImages] in enable-admission-plugins and disable-admission-plugins overlapped" in err


def test_event_rate_limit_needs_a_configuration(env, pki, tmp_path):
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        "--enable-admission-plugins=NodeRestriction,EventRateLimit"]), env)
    assert rc == 1
    assert 'couldn\'t init admission plugin \\"EventRateLimit\\": limits: Invalid value: \\"null\\": must not be ' \
           'empty' in err
    write(tmp_path, "erl.yaml", "apiVersion: eventratelimit.admission.k8s.io/v1alpha1\nkind: Configuration\n"
                                "limits:\n- type: Server\n  qps: 5000\n  burst: 20000\n")
    adm = write(tmp_path, "admission.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\n"
                                            "plugins:\n- name: EventRateLimit\n  path: erl.yaml\n")
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port, extra=[
            "--enable-admission-plugins=NodeRestriction,EventRateLimit",
            f"--admission-control-config-file={adm}"]), env, [port]):
        pass


def test_pod_security_configuration_is_validated(env, pki, tmp_path):
    adm = write(tmp_path, "admission.yaml", """apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: strict}
""")
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        f"--admission-control-config-file={adm}"]), env)
    assert rc == 1 and 'defaults.enforce: Invalid value: \\"strict\\"' in err


def test_authorization_mode_and_tls_values(env, pki):
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=["--authorization-mode=Node,Magic"]),
                         env)
    assert rc == 1 and 'authorization-mode \\"Magic\\" is not a valid mode' in err
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=["--tls-min-version=TLS12"]), env)
    assert rc == 1 and 'unknown tls version \\"TLS12\\"' in err
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_FAKE"]), env)
    assert rc == 1 and "Cipher suite TLS_FAKE not supported or doesn't exist" in err


def test_insecure_cipher_is_only_a_warning(env, pki):
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port, extra=[
            "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA"]), env,
            [port]) as srv:
        pass
    assert "Use of insecure cipher 'TLS_RSA_WITH_3DES_EDE_CBC_SHA' detected." in srv.stderr


# ----------------------------------------------------------------------------------------------------------------
# kube-apiserver serving
# ----------------------------------------------------------------------------------------------------------------

def test_process_looks_like_the_real_binary(env, pki):
    """ps/pgrep and the audit's process discovery see the component, not the Python interpreter."""
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port), env, [port]) as srv:
        with open(f"/proc/{srv.proc.pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
        with open(f"/proc/{srv.proc.pid}/comm") as handle:
            comm = handle.read().strip()
    assert os.path.basename(argv[0].decode()) == "kube-apiserver"
    assert f"--secure-port={port}".encode() in argv
    assert comm == "kube-apiserver"


def test_anonymous_auth_false_answers_401_to_probes(env, pki):
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port, extra=["--anonymous-auth=false"]), env, [port]):
        status, body = get(f"https://127.0.0.1:{port}/livez")
        assert status == 401 and json.loads(body)["reason"] == "Unauthorized"
        assert get(f"https://127.0.0.1:{port}/version", cert=pki.admin, ca=pki.ca)[0] == 200
        with pytest.raises(OSError):  # a certificate from another CA does not get through the handshake
            get(f"https://127.0.0.1:{port}/version", cert=pki.intruder)


def test_anonymous_requests_and_rbac(env, pki):
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port), env, [port]):
        assert get(f"https://127.0.0.1:{port}/version")[0] == 200
        status, body = get(f"https://127.0.0.1:{port}/api")
        assert status == 403
        assert json.loads(body)["message"] == 'forbidden: User "system:anonymous" cannot get path "/api"'
        assert get(f"https://127.0.0.1:{port}/api", cert=pki.user)[0] == 200
        status, body = get(f"https://127.0.0.1:{port}/version", cert=pki.admin)
        assert json.loads(body)["gitVersion"] == "v1.33.5"


def test_always_allow_turns_anonymous_off(env, pki):
    port = free_port()
    args = [a for a in apiserver_args(pki, port) if not a.startswith("--authorization-mode")]
    with serving("kube-apiserver", args + ["--authorization-mode=AlwaysAllow"], env, [port]) as srv:
        assert get(f"https://127.0.0.1:{port}/livez")[0] == 401
    assert "AnonymousAuth is not allowed with the AlwaysAllow authorizer" in srv.stderr


def test_profiling(env, pki):
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port, extra=["--profiling=false"]), env, [port]):
        assert get(f"https://127.0.0.1:{port}/debug/pprof/", cert=pki.admin)[0] == 404
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port), env, [port]):
        assert get(f"https://127.0.0.1:{port}/debug/pprof/", cert=pki.admin)[0] == 200
        assert get(f"https://127.0.0.1:{port}/debug/pprof/")[0] == 403


def test_readyz_follows_etcd(env, pki):
    port, etcd_port = free_port(), free_port()
    env = dict(env, TESTBED_ETCD_HEALTH_CACHE="0.1")
    with serving("kube-apiserver", apiserver_args(pki, port, etcd_port), env, [port]):
        status, body = get(f"https://127.0.0.1:{port}/readyz", cert=pki.admin)
        assert status == 500 and "[-]etcd failed: reason withheld" in body and "readyz check failed" in body
        etcd = FakeEtcd(pki, etcd_port)
        try:
            time.sleep(0.3)
            assert get(f"https://127.0.0.1:{port}/readyz", cert=pki.admin) == (200, "ok")
            status, body = get(f"https://127.0.0.1:{port}/livez?verbose", cert=pki.admin)
            assert status == 200 and "[+]etcd ok" in body
        finally:
            etcd.stop()
        time.sleep(0.3)
        assert get(f"https://127.0.0.1:{port}/readyz", cert=pki.admin)[0] == 500
        assert get(f"https://127.0.0.1:{port}/readyz?exclude=etcd&exclude=etcd-readiness",
                   cert=pki.admin)[0] == 200


def test_etcd_client_certificate_is_really_used(env, pki):
    """With a client cert etcd does not trust, the apiserver never sees etcd as healthy."""
    port, etcd_port = free_port(), free_port()
    args = apiserver_args(pki, port, etcd_port)
    args = [a for a in args if not a.startswith(("--etcd-certfile", "--etcd-keyfile"))]
    args += [f"--etcd-certfile={pki.admin[0]}", f"--etcd-keyfile={pki.admin[1]}"]
    etcd = FakeEtcd(pki, etcd_port)
    try:
        with serving("kube-apiserver", args, env, [port]):
            assert get(f"https://127.0.0.1:{port}/readyz", cert=pki.admin)[0] == 500
    finally:
        etcd.stop()


def test_tls_min_version(env, pki):
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port, extra=["--tls-min-version=VersionTLS13"]), env, [port]):
        ctx = ssl._create_unverified_context()  # noqa: S323
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(ssl.SSLError):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                with ctx.wrap_socket(sock):
                    pass
        assert get(f"https://127.0.0.1:{port}/version")[0] == 200


def test_self_signed_serving_cert_when_no_tls_flags(env, pki):
    port = free_port()
    args = [a for a in apiserver_args(pki, port) if not a.startswith(("--tls-cert-file", "--tls-private-key-file"))]
    with serving("kube-apiserver", args, env, [port]):
        cert = ssl.get_server_certificate(("127.0.0.1", port))
        assert "BEGIN CERTIFICATE" in cert


def test_sigterm_exits_zero(env, pki):
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port), env, [port]) as srv:
        pass
    assert srv.proc.returncode == 0


# ----------------------------------------------------------------------------------------------------------------
# controller-manager, scheduler, kube-proxy
# ----------------------------------------------------------------------------------------------------------------

def test_controller_manager(env, pki, tmp_path):
    port = free_port()
    kc = kubeconfig(tmp_path, pki)
    args = [f"--secure-port={port}", "--bind-address=127.0.0.1", f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}", f"--client-ca-file={pki.ca}",
            f"--root-ca-file={pki.ca}", f"--service-account-private-key-file={pki.sa_key}",
            f"--cluster-signing-cert-file={pki.ca}", f"--cluster-signing-key-file={pki.path('ca.key')}",
            "--profiling=false", "--use-service-account-credentials=true"]
    with serving("kube-controller-manager", args, env, [port]):
        assert get(f"https://127.0.0.1:{port}/healthz") == (200, "ok")
        assert get(f"https://127.0.0.1:{port}/metrics")[0] == 403
        assert get(f"https://127.0.0.1:{port}/metrics", cert=pki.admin)[0] == 200
        assert get(f"https://127.0.0.1:{port}/debug/pprof/", cert=pki.admin)[0] == 404
    rc, dummy, err = run("kube-controller-manager", [a for a in args if not a.startswith("--kubeconfig")] +
                         [f"--kubeconfig={tmp_path}/missing.conf"], env)
    assert rc == 1 and f"stat {tmp_path}/missing.conf: no such file or directory" in err
    rc, dummy, err = run("kube-controller-manager", [a for a in args if not a.startswith("--root-ca-file")] +
                         [f"--root-ca-file={tmp_path}/nope.crt"], env)
    assert rc == 1 and f"error reading root-ca-file at {tmp_path}/nope.crt: open" in err


def test_kubeconfig_with_missing_client_cert(env, pki, tmp_path):
    kc = kubeconfig(tmp_path, pki, cert=(str(tmp_path / "gone.crt"), str(tmp_path / "gone.key")))
    rc, dummy, err = run("kube-scheduler", [f"--kubeconfig={kc}", f"--secure-port={free_port()}"], env)
    assert rc == 1
    assert f"unable to read client-cert {tmp_path}/gone.crt for admin due to open {tmp_path}/gone.crt: no such " \
           "file or directory" in err


def test_scheduler_config_is_strict(env, pki, tmp_path):
    kc = kubeconfig(tmp_path, pki)
    good = write(tmp_path, "sched.yaml", "apiVersion: kubescheduler.config.k8s.io/v1\n"
                                         "kind: KubeSchedulerConfiguration\nclientConnection:\n"
                                         f"  kubeconfig: {kc}\nenableProfiling: false\n")
    port = free_port()
    with serving("kube-scheduler", [f"--config={good}", f"--secure-port={port}", "--bind-address=127.0.0.1"], env,
                 [port]):
        assert get(f"https://127.0.0.1:{port}/livez") == (200, "ok")
    bad = write(tmp_path, "sched2.yaml", "apiVersion: kubescheduler.config.k8s.io/v1\n"
                                         "kind: KubeSchedulerConfiguration\nprofling: false\n")
    rc, dummy, err = run("kube-scheduler", [f"--config={bad}", f"--secure-port={free_port()}"], env)
    assert rc == 1 and 'strict decoding error: unknown field \\"profling\\"' in err


def test_kube_proxy(env, pki, tmp_path):
    kc = kubeconfig(tmp_path, pki)
    hport, mport = free_port(), free_port()
    cfg = write(tmp_path, "proxy.yaml", f"apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
                                        f"kind: KubeProxyConfiguration\nclientConnection:\n  kubeconfig: {kc}\n"
                                        f"healthzBindAddress: 127.0.0.1:{hport}\nmetricsBindAddress: "
                                        f"127.0.0.1:{mport}\nmode: iptables\nudpIdleTimeout: 250ms\nbogus: 1\n")
    with serving("kube-proxy", [f"--config={cfg}", "--hostname-override=node1"], env, [hport, mport]) as srv:
        assert get(f"http://127.0.0.1:{hport}/healthz")[0] == 200
        assert get(f"http://127.0.0.1:{mport}/metrics")[0] == 200
    assert "Using lenient decoding as strict decoding failed" in srv.stderr
    rc, dummy, err = run("kube-proxy", [f"--config={cfg.replace('proxy.yaml', 'nope.yaml')}"], env)
    assert rc == 1 and "no such file or directory" in err


# ----------------------------------------------------------------------------------------------------------------
# kubelet
# ----------------------------------------------------------------------------------------------------------------

class FakeCRI:
    """A unix socket that accepts connections, standing in for containerd's CRI socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.path = path

    def close(self):
        self.sock.close()


@pytest.fixture()
def kubelet_env(env, tmp_path, pki):
    sysctl = tmp_path / "sys"
    for key, value in (("vm/overcommit_memory", 1), ("vm/panic_on_oom", 0), ("kernel/panic", 10),
                       ("kernel/panic_on_oops", 1), ("kernel/keys/root_maxkeys", 1000000),
                       ("kernel/keys/root_maxbytes", 25000000)):
        (sysctl / key).parent.mkdir(parents=True, exist_ok=True)
        (sysctl / key).write_text(f"{value}\n")
    cri = FakeCRI(str(tmp_path / "containerd.sock"))
    yield dict(env, TESTBED_SYSCTL_ROOT=str(sysctl)), sysctl, cri
    cri.close()


def kubelet_config(tmp_path, pki, cri, port, hport, extra=""):
    return write(tmp_path, "config.yaml", f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: {port}
healthzBindAddress: 127.0.0.1
healthzPort: {hport}
containerRuntimeEndpoint: unix://{cri.path}
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {pki.ca}}}
authorization: {{mode: Webhook}}
rotateCertificates: true
{extra}""")


def kubelet_args(tmp_path, pki, cfg):
    return [f"--config={cfg}", f"--kubeconfig={kubeconfig(tmp_path, pki, 'kubelet.conf')}",
            f"--cert-dir={tmp_path / 'pki'}"]


def test_kubelet_serves_with_authentication(kubelet_env, tmp_path, pki):
    env, dummy, cri = kubelet_env
    port, hport, ro = free_port(), free_port(), free_port()
    cfg = kubelet_config(tmp_path, pki, cri, port, hport, f"readOnlyPort: {ro}\nprotectKernelDefaults: true\n")
    with serving("kubelet", kubelet_args(tmp_path, pki, cfg), env, [port, hport, ro]):
        assert get(f"http://127.0.0.1:{hport}/healthz") == (200, "ok")
        assert get(f"https://127.0.0.1:{port}/pods") == (401, "Unauthorized")
        assert get(f"https://127.0.0.1:{port}/pods", cert=pki.admin)[0] == 200
        assert get(f"http://127.0.0.1:{ro}/pods")[0] == 200
    assert (tmp_path / "pki" / "kubelet.crt").exists()  # self-signed serving pair in --cert-dir


def test_kubelet_anonymous_with_webhook_authz_is_forbidden(kubelet_env, tmp_path, pki):
    env, dummy, cri = kubelet_env
    port, hport = free_port(), free_port()
    cfg = kubelet_config(tmp_path, pki, cri, port, hport)
    cfg_text = open(cfg, encoding="utf-8").read().replace("anonymous: {enabled: false}", "anonymous: {enabled: true}")
    open(cfg, "w", encoding="utf-8").write(cfg_text)
    with serving("kubelet", kubelet_args(tmp_path, pki, cfg), env, [port, hport]):
        status, body = get(f"https://127.0.0.1:{port}/metrics")
        assert status == 403 and "user=system:anonymous" in body and "subresource=metrics" in body


def test_kubelet_protect_kernel_defaults(kubelet_env, tmp_path, pki):
    env, sysctl, cri = kubelet_env
    (sysctl / "kernel" / "panic").write_text("0\n")
    (sysctl / "vm" / "overcommit_memory").write_text("0\n")
    cfg = kubelet_config(tmp_path, pki, cri, free_port(), free_port(), "protectKernelDefaults: true\n")
    rc, dummy, err = run("kubelet", kubelet_args(tmp_path, pki, cfg), env)
    assert rc == 1
    assert '"Failed to start ContainerManager" err="[invalid kernel flag: vm/overcommit_memory, expected value: 1, ' \
           'actual value: 0, invalid kernel flag: kernel/panic, expected value: 10, actual value: 0]"' in err
    # the same node without protectKernelDefaults starts (and the stand-in does not touch the kernel)
    port, hport = free_port(), free_port()
    cfg = kubelet_config(tmp_path, pki, cri, port, hport)
    with serving("kubelet", kubelet_args(tmp_path, pki, cfg), env, [port, hport]):
        pass
    assert (sysctl / "kernel" / "panic").read_text() == "0\n"


def test_kubelet_sysctl_conf_dirs_override(kubelet_env, tmp_path, pki):
    env, sysctl, cri = kubelet_env
    (sysctl / "kernel" / "panic").write_text("0\n")
    conf = tmp_path / "sysctl.d"
    conf.mkdir()
    (conf / "90-kubelet.conf").write_text("kernel.panic = 10\n")
    port, hport = free_port(), free_port()
    cfg = kubelet_config(tmp_path, pki, cri, port, hport, "protectKernelDefaults: true\n")
    with serving("kubelet", kubelet_args(tmp_path, pki, cfg), dict(env, TESTBED_SYSCTL_CONF_DIRS=str(conf)),
                 [port, hport]):
        pass


def test_kubelet_config_decoding(kubelet_env, tmp_path, pki):
    env, dummy, cri = kubelet_env
    port, hport = free_port(), free_port()
    cfg = kubelet_config(tmp_path, pki, cri, port, hport, "protectKernelDefault: true\n")
    with serving("kubelet", kubelet_args(tmp_path, pki, cfg), env, [port, hport]) as srv:
        pass  # the real kubelet decodes v1beta1 leniently: unknown fields are only logged
    assert 'strict decoding error: unknown field \\"protectKernelDefault\\"' in srv.stderr
    rc, dummy, err = run("kubelet", kubelet_args(tmp_path, pki, cfg), dict(env, TESTBED_KUBELET_STRICT_CONFIG="1"))
    assert rc == 1 and "unknown field" in err
    cfg = kubelet_config(tmp_path, pki, cri, port, hport, 'protectKernelDefaults: "true"\n')
    rc, dummy, err = run("kubelet", kubelet_args(tmp_path, pki, cfg), env)
    assert rc == 1
    assert "json: cannot unmarshal string into Go struct field KubeletConfiguration.protectKernelDefaults of type " \
           "bool" in err


def test_kubelet_missing_files(kubelet_env, tmp_path, pki):
    env, dummy, cri = kubelet_env
    cfg = kubelet_config(tmp_path, pki, cri, free_port(), free_port())
    rc, dummy, err = run("kubelet", [f"--config={tmp_path}/none.yaml"], env)
    assert rc == 1
    assert f"failed to load Kubelet config file {tmp_path}/none.yaml, error failed to read kubelet config file " \
           f'\\"{tmp_path}/none.yaml\\", error: open {tmp_path}/none.yaml: no such file or directory' in err
    text = open(cfg, encoding="utf-8").read().replace(pki.ca, str(tmp_path / "no-ca.crt"))
    open(cfg, "w", encoding="utf-8").write(text)
    rc, dummy, err = run("kubelet", kubelet_args(tmp_path, pki, cfg), env)
    assert rc == 1 and f"unable to load client CA file {tmp_path}/no-ca.crt: open" in err
    cfg = kubelet_config(tmp_path, pki, cri, free_port(), free_port())
    rc, dummy, err = run("kubelet", [f"--config={cfg}", f"--kubeconfig={tmp_path}/kubelet.conf-missing",
                                     f"--bootstrap-kubeconfig={tmp_path}/bootstrap.conf", f"--cert-dir={tmp_path}/pki"],
                         env)
    assert rc == 1
    assert f"unable to load bootstrap kubeconfig: stat {tmp_path}/bootstrap.conf: no such file or directory" in err


def test_kubelet_needs_the_container_runtime(kubelet_env, tmp_path, pki):
    env, dummy, cri = kubelet_env
    cri.close()
    os.unlink(cri.path)
    cfg = kubelet_config(tmp_path, pki, cri, free_port(), free_port())
    rc, dummy, err = run("kubelet", kubelet_args(tmp_path, pki, cfg), env)
    assert rc == 1
    assert "validate CRI v1 runtime API for endpoint" in err
    assert f"dial unix {cri.path}: connect: no such file or directory" in err


def test_kubelet_server_tls_bootstrap_without_certificate(kubelet_env, tmp_path, pki):
    env, dummy, cri = kubelet_env
    port, hport = free_port(), free_port()
    cfg = kubelet_config(tmp_path, pki, cri, port, hport, "serverTLSBootstrap: true\n")
    with serving("kubelet", kubelet_args(tmp_path, pki, cfg), env, [port, hport]):
        with pytest.raises(OSError):
            get(f"https://127.0.0.1:{port}/healthz", cert=pki.admin)


# ----------------------------------------------------------------------------------------------------------------
# with the project's real flag data
# ----------------------------------------------------------------------------------------------------------------

REAL_FLAGS = os.path.join(REPO, "plugins", "module_utils", "k8s_flags.py")


@pytest.mark.skipif(not os.path.isfile(REAL_FLAGS), reason="plugins/module_utils/k8s_flags.py not written yet")
def test_real_flag_data(env, pki, tmp_path):
    real = {k: v for k, v in env.items() if k != "TESTBED_K8S_FLAGS"}
    real["TESTBED_K8S_FLAGS"] = REAL_FLAGS
    rc, dummy, err = run("kube-apiserver", ["--insecure-port=0"], real)
    assert rc == 1 and "unknown flag: --insecure-port" in err
    port = free_port()
    with serving("kube-apiserver", apiserver_args(pki, port, extra=[
            "--enable-admission-plugins=NodeRestriction", "--profiling=false", "--anonymous-auth=false",
            "--audit-log-maxage=30", "--request-timeout=60s", "-v=2"]), real, [port]):
        assert get(f"https://127.0.0.1:{port}/livez")[0] == 401


def test_every_file_flag_is_opened(env, pki, tmp_path):
    """Flags without a dedicated parser (here --tracing-config-file) are still opened inside the mounts."""
    flags_path = env["TESTBED_K8S_FLAGS"]
    extra = tmp_path / "k8s_flags.py"
    extra.write_text(open(flags_path, encoding="utf-8").read().replace(
        '"token-auth-file": "string"}', '"token-auth-file": "string", "tracing-config-file": "string"}'))
    env = dict(env, TESTBED_K8S_FLAGS=str(extra))
    rc, dummy, err = run("kube-apiserver", apiserver_args(pki, free_port(), extra=[
        f"--tracing-config-file={tmp_path}/tracing.yaml"]), env)
    assert rc == 1 and f"open {tmp_path}/tracing.yaml: no such file or directory" in err
