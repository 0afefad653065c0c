"""The audit of fresh nodes written by the real kubeadm against the audit of the nodes our generator writes.

Until the real binaries came, every test node was written by tests/testbed/node/.../node_init.py, a generator of
what kubeadm writes. Here a control plane (`kubeadm init`) and a worker (`kubeadm join`) of a real release and a
generated control plane and worker of the same minor are audited, unhardened, with audit.yml: the scored
verdicts must be the same, node role by node role, and the real nodes' verdicts are read from the real processes.
A difference is either the generator getting kubeadm wrong or the audit reading something the generator invents.

Run by `make real-test` for each of REAL_TEST_MINORS. The generator writes every supported minor (1.28-1.37); a
minor it does not write has nothing to compare with and is skipped, saying so.
"""
import json

import pytest

from harness import (Node, generated_minors, kube_bench_results, minor_tag, playbook, real_image, release,
                     started_nodes)

MINOR, VERSION = release()
IMAGE = real_image(MINOR)
pytestmark = pytest.mark.skipif(MINOR not in generated_minors(),
                                reason="the generator writes no %s node to compare with" % MINOR)
TAG, PORT = minor_tag(MINOR, 22500)  # make real-test runs the minors side by side
REAL = {"control-plane": "sck8s-int-fresh%s-real-cp" % TAG, "worker": "sck8s-int-fresh%s-real-w" % TAG}
GENERATED = {"control-plane": "sck8s-int-fresh%s-gen-cp" % TAG, "worker": "sck8s-int-fresh%s-gen-w" % TAG}


def audit(workdir, names):
    rc, out, _changed = playbook(workdir, "audit.yml", "-e", "cis_report_dir=%s/audit" % workdir,
                                 "-e", "cis_fail_on=none")
    assert rc == 0, out[-6000:]
    return {role: kube_bench_results(workdir / "audit" / (name + ".json")) for role, name in names.items()}


def scored(results):
    return {i: t["status"] for i, t in results.items() if t.get("scored", True)}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    real_dir, gen_dir = tmp_path_factory.mktemp("fresh-real"), tmp_path_factory.mktemp("fresh-generated")
    real_specs = ["%s:control-plane:%d" % (REAL["control-plane"], PORT + 1),
                  "%s:worker:%d" % (REAL["worker"], PORT + 2)]
    gen_specs = ["%s:control-plane:%d" % (GENERATED["control-plane"], PORT + 3),
                 "%s:worker:%d" % (GENERATED["worker"], PORT + 4)]
    with started_nodes(real_dir, "sck8s-int-fresh%s-real" % TAG, real_specs, image=IMAGE, version=MINOR,
                       caps="--cap-add SYS_ADMIN"):
        real = audit(real_dir, REAL)
        real_cp_ps = Node(REAL["control-plane"]).run("pgrep", "-a", "-f", "^[^ ]*kube-apiserver ").stdout
        real_ours = {role: json.loads((real_dir / "audit" / (name + ".json")).read_text())["secure_cluster"]
                     for role, name in REAL.items()}
    with started_nodes(gen_dir, "sck8s-int-fresh%s-gen" % TAG, gen_specs, version=MINOR):
        generated = audit(gen_dir, GENERATED)
    return real, generated, real_cp_ps, real_ours


@pytest.mark.parametrize("role", ["control-plane", "worker"])
def test_fresh_real_node_is_judged_as_the_generated_one(reports, role):
    real, generated, _ps, _ours = reports
    real_verdicts, generated_verdicts = scored(real[role]), scored(generated[role])
    assert set(real_verdicts) == set(generated_verdicts)
    differ = {i: (generated_verdicts[i], real_verdicts[i]) for i in real_verdicts
              if real_verdicts[i] != generated_verdicts[i]}
    assert differ == {}, "check: (generated, real kubeadm %s)" % VERSION
    # a fresh kubeadm node is not compliant: the audit must find that on the real one too
    assert "FAIL" in real_verdicts.values()


def test_the_audit_read_the_real_processes(reports):
    real, _generated, real_cp_ps, _ours = reports
    # 1.2.6-1.2.8 were judged on the running kube-apiserver's command line, the one kubeadm wrote
    assert "--authorization-mode=Node,RBAC" in real_cp_ps
    modes = real["control-plane"]["1.2.7"]
    assert modes["status"] == "PASS" and "Node,RBAC" in modes["actual"]["running"], modes
    # and the fresh kube-apiserver still profiles: kubeadm does not switch it off
    assert "--profiling" not in real_cp_ps
    assert real["control-plane"]["1.2.15"]["status"] == "FAIL"


def test_kubeadm_upgrade_of_a_fresh_node_is_predicted_to_change_nothing(reports):
    """The audit's model of `kubeadm upgrade` (kubeadm's defaults of this release, read from the real kubeadm, and the
    ClusterConfiguration `kubeadm init` uploaded) must give back, flag for flag and mount for mount, the manifests
    the real `kubeadm init` wrote from the same configuration: etcd's too, which the upgrade dry-run of
    test_real_cluster.py does not regenerate."""
    _real, _generated, _ps, ours = reports
    upgrade = ours["control-plane"]["upgrade"]
    assert upgrade["judged"] and upgrade["kubeadm_minor"] == MINOR, upgrade
    assert sorted(upgrade["components"]) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    for component, regen in upgrade["components"].items():
        assert (regen["lost"], regen["changed"], regen["added"], regen["lost_volumes"]) == ([], [], [], []), component
    assert upgrade["kubelet_config"] == "kube-system/kubelet-config ConfigMap"
    # the worker reads the kubelet-config ConfigMap as its kubelet (kubeadm's RBAC for nodes)
    assert ours["worker"]["upgrade"]["judged"] and ours["worker"]["upgrade"]["kubelet_config"]
    for role in ("control-plane", "worker"):
        assert ours[role]["upgrade_drift"] == [], role
