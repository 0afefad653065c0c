#!/usr/bin/env bash
# `make demo`: two kubeadm-shaped test nodes (control plane + worker) on a podman network, reached over SSH on
# 127.0.0.1 exactly as Ansible reaches real nodes, then the collection's read of each node.
# Leave them running for exploration; `make demo-down` removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
NET=sck8s-demo
NODES=(sck8s-demo-cp1:control-plane:22201 sck8s-demo-w1:worker:22202)
INV=build/demo/inventory.yml

echo "== starting test nodes (Kubernetes ${K8S_VERSION:-1.33})"
tests/testbed/nodes.sh up "$NET" "${NODES[@]}"
mkdir -p "$(dirname "$INV")"
tests/testbed/nodes.sh inventory "$NET" "${NODES[@]}" > "$INV"

export ANSIBLE_STDOUT_CALLBACK=${ANSIBLE_STDOUT_CALLBACK:-default}
echo "== joining the worker to the control plane (what kubeadm join does)"
ansible-playbook -i "$INV" extensions/molecule/shared/join-workers.yml

echo "== reading every node with one module call each"
ansible-playbook -i "$INV" playbooks/node_report.yml

echo
echo "Inventory: $INV   SSH: ssh -i .cache/ssh/id_ed25519 -p 22201 root@127.0.0.1   Remove: make demo-down"
