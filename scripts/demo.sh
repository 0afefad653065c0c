#!/usr/bin/env bash
# The demo (README): real Kubernetes test nodes reached over SSH on 127.0.0.1, as Ansible reaches real nodes: a
# control plane written by the real `kubeadm init` and a worker by the real `kubeadm join` (tests/testbed/README.md).
#   demo.sh nodes   start fresh nodes (names = host names of inventories/demo/hosts.yml), the worker joined
#   demo.sh run     the main job on them: audit -> harden (playbooks/site.yml) -> audit again
#   demo.sh down    remove the nodes
# Fresh kubeadm nodes fail CIS, so the demo audits with cis_fail_on=none: it reports the failures instead of
# failing on them (the default gate, cis_fail_on=any, fails the play after writing the reports).
set -euo pipefail
cd "$(dirname "$0")/.."
NET=sck8s-demo
NODES=(sck8s-demo-cp1:control-plane:22201 sck8s-demo-w1:worker:22202)
INV=inventories/demo/hosts.yml
REPORTS=$PWD/build/demo/reports
export ANSIBLE_STDOUT_CALLBACK=${ANSIBLE_STDOUT_CALLBACK:-default}
if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
  echo "run this through make (make demo): it builds the image and puts the collection on ANSIBLE_COLLECTIONS_PATH" >&2
  exit 2
fi

nodes_up() {
  local spec
  for spec in "${NODES[@]}"; do
    podman container exists "${spec%%:*}" || return 1
    [ "$(podman inspect -f '{{.State.Running}}' "${spec%%:*}")" = true ] || return 1
  done
}

case ${1:-run} in
  nodes)
    # node:<minor>, the real-binary image (make real-image), beside the stand-in image
    K8S_VERSION=${K8S_VERSION:?run this through make (make demo): it builds the real binaries and their image}
    stand_in=${SCK8S_NODE_IMAGE:-localhost/secure-cluster-k8s/node:latest}
    IMAGE=${IMAGE:-${stand_in%:*}:$K8S_VERSION}
    echo "== starting fresh test nodes (real Kubernetes $K8S_VERSION: kubeadm init, kubeadm join): ${NODES[*]%%:*}"
    IMAGE=$IMAGE K8S_VERSION=$K8S_VERSION NODE_CAPS="--cap-add SYS_ADMIN" tests/testbed/nodes.sh up "$NET" "${NODES[@]}"
    ;;
  run)
    nodes_up || "$0" nodes
    echo "== 1. CIS Kubernetes Benchmark audit of every node: one read-only module call per node, judged on this machine"
    echo "   (cis_fail_on=none: fresh kubeadm nodes fail CIS; the demo reports that instead of failing on it)"
    rm -rf "$REPORTS"
    ansible-playbook -i "$INV" playbooks/audit.yml -e cis_fail_on=none -e "cis_report_dir=$REPORTS/before"
    sed -n '/^| host /,/^$/p' "$REPORTS/before/summary.md"
    echo "== 2. Hardening (playbooks/site.yml): node roles in batches, an encrypted etcd snapshot, the control plane"
    echo "   one node at a time, each component written once, health-gated, rolled back when it does not come back"
    # a throwaway passphrase for the demo's etcd snapshots; real inventories keep etcd_backup_passphrase in Vault
    vars=.cache/demo-vars.yml
    [ -f "$vars" ] || { umask 077; printf 'etcd_backup_passphrase: "%s"\n' "$(openssl rand -hex 24)" > "$vars"; }
    ansible-playbook -i "$INV" playbooks/site.yml -e "@$vars"
    echo "== 3. The audit again"
    ansible-playbook -i "$INV" playbooks/audit.yml -e cis_fail_on=none -e "cis_report_dir=$REPORTS/after"
    echo
    echo "Before:"; sed -n '/^| host /,/^$/p' "$REPORTS/before/summary.md"
    echo "After:";  sed -n '/^| host /,/^$/p' "$REPORTS/after/summary.md"
    echo "Still failing after the hardening (and why): $REPORTS/after/summary.md"
    echo "Reports in ${REPORTS#"$PWD"/}/before and after/:"
    echo "  summary.md                 the fleet: counts per node, failing recommendations, the role variable that fixes each"
    for f in "$REPORTS"/after/*.json; do
      host=$(basename "$f" .json)
      printf '  %-26s %s\n' "$host.json" "kube-bench JSON (+ drift, waivers, remediation) for $host"
      printf '  %-26s %s\n' "$host.junit.xml" "JUnit, one testcase per recommendation"
    done
    echo
    echo "Inventory: $INV   SSH: ssh -i .cache/ssh/id_ed25519 -p 22201 root@127.0.0.1   Remove: make demo-down"
    ;;
  down)
    tests/testbed/nodes.sh down "$NET" "${NODES[@]%%:*}"
    ;;
  *) echo "usage: demo.sh nodes|run|down" >&2; exit 2 ;;
esac
