# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeadm_config action plugin driving the real modules in-process: the manifest through static_pod_manifest,
the ConfigMaps through kubeadm_config and a kubectl stand-in that keeps them in a JSON file and refuses a replace
at a stale resourceVersion the way the API server does (409). The real kubectl and API server are in
tests/integration/test_real_cluster.py."""
from __future__ import annotations

import json
import os
import sys

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.secure_cluster.k8s.plugins.action import kubeadm_config as action_plugin
from ansible_collections.secure_cluster.k8s.plugins.modules import kubeadm_config as cm_module
from ansible_collections.secure_cluster.k8s.plugins.modules import static_pod_manifest as manifest_module
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.action.action_task import new_action
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.test_kubeadm_config import FRESH
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.test_static_pod import manifest_text

KUBECTL = r'''
import json, sys
store = sys.argv[1]
args = sys.argv[2:]
args = args[args.index("--kubeconfig") + 2:]
with open(store) as f:
    data = json.load(f)
if args[:3] == ["-n", "kube-system", "get"]:
    name = args[4]
    if name not in data["objects"]:
        sys.stderr.write('Error from server (NotFound): configmaps "%s" not found\n' % name)
        sys.exit(1)
    print(json.dumps(data["objects"][name]))
elif args[0] == "replace":
    obj = json.load(sys.stdin)
    name = obj["metadata"]["name"]
    current = data["objects"][name]
    if data.get("race"):  # another writer comes in between, once
        data["race"] = False
        current["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
    if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
        sys.stderr.write('Error from server (Conflict): Operation cannot be fulfilled on configmaps "%s": the object '
                         'has been modified; please apply your changes to the latest version and try again\n' % name)
        with open(store, "w") as f:
            json.dump(data, f)
        sys.exit(1)
    obj["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
    data["objects"][name] = obj
    data["writes"] += 1
    with open(store, "w") as f:
        json.dump(data, f)
    print(json.dumps(obj))
'''

KUBELET = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "cgroupDriver": "systemd",
           "readOnlyPort": 10255}


class Cluster(object):
    def __init__(self, tmp_path, capsys):
        self.capsys = capsys
        self.store = tmp_path / "cluster.json"
        self.manifests = tmp_path / "manifests"
        self.manifests.mkdir()
        (self.manifests / "kube-scheduler.yaml").write_text(manifest_text("kube-scheduler", "1.37"))
        self.store.write_text(json.dumps({"writes": 0, "objects": {
            "kubeadm-config": self.configmap("kubeadm-config", "ClusterConfiguration", FRESH),
            "kubelet-config": self.configmap("kubelet-config", "kubelet", yaml.safe_dump(KUBELET))}}))
        self.kubectl = tmp_path / "kubectl"
        script = "#!%s\nimport sys\nsys.argv.insert(1, %r)\n%s" % (sys.executable, str(self.store), KUBECTL)
        self.kubectl.write_text(script)
        os.chmod(self.kubectl, 0o755)

    @staticmethod
    def configmap(name, key, text):
        return {"apiVersion": "v1", "kind": "ConfigMap", "data": {key: text},
                "metadata": {"name": name, "namespace": "kube-system", "resourceVersion": "100", "uid": "u"}}

    def state(self):
        return json.loads(self.store.read_text())

    def document(self, name, key):
        return yaml.safe_load(self.state()["objects"][name]["data"][key])

    def execute_module(self, module_name, module_args, check_mode):
        module = {"secure_cluster.k8s.kubeadm_config": cm_module,
                  "secure_cluster.k8s.static_pod_manifest": manifest_module}[module_name]
        args = json.loads(json.dumps(module_args))
        if check_mode:
            args["_ansible_check_mode"] = True
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(self.capsys.readouterr().out)

    def run(self, args, check_mode=False, diff=False):
        args = dict(args, kubectl=str(self.kubectl))
        if args["component"] != "kubelet":
            args.setdefault("manifest", str(self.manifests / ("%s.yaml" % args["component"])))
        action = new_action(action_plugin, "kubeadm_config", args, check_mode, diff)
        action._execute_module = lambda module_name, module_args, task_vars: self.execute_module(
            module_name, module_args, check_mode)
        return action.run(task_vars={"inventory_hostname": "cp1"})


@pytest.fixture()
def cluster(tmp_path, capsys):
    return Cluster(tmp_path, capsys)


SCHEDULER = {"component": "kube-scheduler", "flags": {"profiling": False, "bind-address": "127.0.0.1"},
             "volumes": [{"name": "sched-config", "hostPath": "/etc/kubernetes/sched.yaml", "type": "File"}]}


def test_check_mode_predicts_then_the_run_writes_once(cluster):
    predicted = cluster.run(SCHEDULER, check_mode=True, diff=True)
    assert predicted["changed"] and not predicted.get("failed"), predicted
    assert cluster.state()["writes"] == 0
    done = cluster.run(SCHEDULER, diff=True)
    assert done["changed"] and done["changes"] == predicted["changes"]
    assert "extraArgs" in done["diff"][0]["after"] and "extraArgs" not in done["diff"][0]["before"]
    config = cluster.document("kubeadm-config", "ClusterConfiguration")
    assert {(a["name"], a["value"]) for a in config["scheduler"]["extraArgs"]} >= {("profiling", "false"),
                                                                                   ("bind-address", "127.0.0.1")}
    assert config["scheduler"]["extraVolumes"][0]["pathType"] == "File"
    again = cluster.run(SCHEDULER)
    assert not again["changed"] and again["changes"] == [] and cluster.state()["writes"] == 1


def test_a_write_that_loses_the_race_is_made_again_from_a_fresh_read(cluster):
    state = cluster.state()
    state["race"] = True
    cluster.store.write_text(json.dumps(state))
    out = cluster.run({"component": "kubelet", "settings": {"readOnlyPort": 0, "protectKernelDefaults": True}})
    assert out["changed"] and not out.get("failed"), out
    assert cluster.document("kubelet-config", "kubelet") == dict(KUBELET, readOnlyPort=0, protectKernelDefaults=True)
    assert cluster.state()["writes"] == 1


def test_refusals_change_nothing(cluster):
    out = cluster.run({"component": "kubelet", "flags": {"profiling": False}})
    assert out["failed"] and "takes settings" in out["msg"]
    out = cluster.run(dict(SCHEDULER, settings={"readOnlyPort": 0}))
    assert out["failed"] and "settings are for component kubelet" in out["msg"]
    out = cluster.run({"component": "kube-scheduler", "flags": {"no-such-flag": "1"}})
    assert out["failed"] and "no-such-flag" in out["msg"]
    state = cluster.state()
    del state["objects"]["kubeadm-config"]
    cluster.store.write_text(json.dumps(state))
    out = cluster.run(SCHEDULER)
    assert out["failed"] and "configmaps \"kubeadm-config\" not found" in out["msg"]
    assert cluster.state()["writes"] == 0
