"""What the integration tests share: test nodes over SSH (tests/testbed/nodes.sh) and playbook runs as users run them.

Runs from the collection copy (make integration, make real-test), so ROOT is the collection's root and the
playbooks are the collection's.
"""
import importlib.util
import json
import os
import re
import subprocess
import time
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODES = os.path.join(ROOT, "tests", "testbed", "nodes.sh")
RELEASES = os.path.join(ROOT, "tests", "testbed", "releases.json")
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Node:
    """A running test node, inspected from outside with podman exec (what a test looks at, not how it hardens)."""

    def __init__(self, name):
        self.name = name

    def run(self, *cmd, check=True, stdin=None, text=True):
        """podman exec; ``stdin`` (str or bytes as ``text``) is fed to the command, else it reads nothing."""
        if stdin is None:
            return subprocess.run(["podman", "exec", self.name] + list(cmd), check=check, capture_output=True,
                                  stdin=subprocess.DEVNULL, text=text)
        return subprocess.run(["podman", "exec", "-i", self.name] + list(cmd), check=check, capture_output=True,
                              input=stdin, text=text)

    def sh(self, script, check=True, stdin=None):
        return self.run("sh", "-ec", script, check=check, stdin=stdin)

    def read(self, path):
        return self.run("cat", path).stdout

    def wait_running(self, pod, needle, present=True, timeout=120):
        """Until the runner's pod runs with (or without) an argument; it restarts a pod on a manifest change."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ps = self.run("pgrep", "-af", pod, check=False).stdout
            if (needle in ps) == present:
                return
            time.sleep(1)
        raise AssertionError("%s %s %r after %ss" % (pod, "not running with" if present else "still has", needle,
                                                     timeout))


@contextmanager
def started_nodes(workdir, net, specs, image=None, version=None, caps=""):
    """Start nodes NAME:ROLE:SSH_PORT on their own podman network, write workdir/inventory.yml, remove them after."""
    env = dict(os.environ, NODE_CAPS=caps)
    if image:
        env["IMAGE"] = image
    if version:
        env["K8S_VERSION"] = version
    names = [spec.split(":")[0] for spec in specs]
    try:
        subprocess.run([NODES, "up", net] + list(specs), check=True, env=env)
        inv = subprocess.run([NODES, "inventory", net] + list(specs), check=True, capture_output=True, text=True,
                             env=env).stdout
        (workdir / "inventory.yml").write_text(inv, encoding="utf-8")
        yield [Node(name) for name in names]
    finally:
        subprocess.run([NODES, "down", net] + names, check=False, env=env)


def write_site_vars(workdir, real=False):
    """The extra variables every site.yml run of these tests gets (workdir/vars.yml, passed by playbook()).

    Stand-in nodes (real=False) have no API server that serves Nodes, CSRs and ConfigMaps: their kubelets cannot get
    serving certificates from the cluster CA (CIS 4.2.11 off), so the apiserver role defers 1.2.5 and it is waived,
    and there is no kubeadm-config to keep the control plane's settings in. The real nodes run site.yml with the
    defaults."""
    text = "etcd_backup_passphrase: integration-test-only-0123456789\n"
    if not real:
        text += ("kubelet_cis_4_2_11_enabled: false\n"
                 # nor a kubeadm-config ConfigMap to keep the control plane's settings in for kubeadm upgrade
                 "apiserver_kubeadm_config_enabled: false\n"
                 "controller_manager_kubeadm_config_enabled: false\n"
                 "scheduler_kubeadm_config_enabled: false\n"
                 "etcd_kubeadm_config_enabled: false\n"
                 "kubelet_kubeadm_config_enabled: false\n"
                 "cis_waivers:\n"
                 "  - id: '1.2.5'\n"
                 "    reason: stand-in nodes have no CSR approval; the apiserver role defers 1.2.5\n"
                 "    expires: '2099-01-01'\n")
    (workdir / "vars.yml").write_text(text, encoding="utf-8")


def playbook(workdir, name, *args):
    """Run a playbook (one of the collection's, or a path) against the nodes; returns (rc, output, {host: changed})."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    path = name if os.path.isabs(name) else os.path.join(ROOT, "playbooks", name)
    extra = ["-e", "@" + str(workdir / "vars.yml")] if (workdir / "vars.yml").exists() else []
    proc = subprocess.run(["ansible-playbook", "-i", str(workdir / "inventory.yml"), path] + extra + list(args),
                          capture_output=True, text=True, env=env, cwd=str(workdir), check=False)
    out = proc.stdout + proc.stderr
    changed = {}
    for host, _ok, chg, _unreach, _failed in RECAP.findall(out):
        changed[host] = changed.get(host, 0) + int(chg)
    return proc.returncode, out, changed


def changed_tasks(out):
    """Tasks that reported changed, as "<play> | <role> : <task>" (default callback headers)."""
    names, play, task = [], "", None
    for line in out.splitlines():
        m = re.match(r"^(PLAY|TASK|RUNNING HANDLER) \[(.*)\]", line)
        if m and m.group(1) == "PLAY":
            play = m.group(2)
        elif m:
            task = "%s | %s" % (play, m.group(2))
        elif line.startswith("changed: [") and task and task not in names:
            names.append(task)
    return names


def changed_where(out):
    """Where changes happened: the role of each changed task, or its play when it is not in a role."""
    return {t.split(" | ", 1)[1].split(" : ")[0].rsplit(".", 1)[-1] if " : " in t else t.split(" | ")[0]
            for t in changed_tasks(out)}


def play_hosts(out):
    """{play name: hosts that ran a task or handler in it} (default callback: "ok: [host]" lines and the like)."""
    hosts, play = {}, None
    for line in out.splitlines():
        m = re.match(r"^PLAY \[(.*)\]", line)
        if m:
            play = m.group(1)
            hosts.setdefault(play, set())
            continue
        m = re.match(r"^(ok|changed|skipping|fatal|failed): \[([^\]]+)\]", line)
        if m and play is not None:
            hosts[play].add(m.group(2).split(" -> ")[0])
    return hosts


def kube_bench_results(path):
    """{test_number: result} of a kube-bench-shaped JSON report."""
    with open(path, encoding="utf-8") as f:
        return {t["test_number"]: t for c in json.load(f)["Controls"] for g in c["tests"] for t in g["results"]}


def schema_check():
    """tests/fixtures/schemas/schema_check.py: the OSCAL and SARIF reports against their official schemas."""
    spec = importlib.util.spec_from_file_location("sck8s_schema_check",
                                                  os.path.join(ROOT, "tests", "fixtures", "schemas", "schema_check.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def release(minor=None):
    """(minor, version) of a real release the test bed builds (default: K8S_REAL_VERSION, else the newest)."""
    with open(RELEASES, encoding="utf-8") as f:
        data = json.load(f)
    minor = minor or os.environ.get("K8S_REAL_VERSION") or data["default_minor"]
    return minor, data["kubernetes"][minor]


def real_image(minor):
    """node:<minor>, the real-binary image beside the stand-in one (SCK8S_NODE_IMAGE names another on a branch)."""
    stand_in = os.environ.get("SCK8S_NODE_IMAGE", "localhost/secure-cluster-k8s/node:latest")
    return stand_in.rpartition(":")[0] + ":" + minor


def generated_minors():
    """The minors the test bed's generator (node_init.py, the stand-in image) writes nodes of."""
    spec = importlib.util.spec_from_file_location("sck8s_testbed_loader",
                                                  os.path.join(ROOT, "tests", "unit", "testbed_loader.py"))
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    return loader.node_init.SUPPORTED_MINORS


def minor_tag(minor, first_port):
    """(name infix, SSH ports from first_port): test nodes of different minors can run side by side."""
    number = int(minor.split(".")[1])
    return minor.replace(".", ""), first_port + 10 * number
