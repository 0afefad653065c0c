#!/usr/bin/env bash
# `make demo`: two kubeadm-shaped test nodes (control plane + worker) on a podman network, reached over SSH on
# 127.0.0.1 exactly as Ansible reaches real nodes, then the CIS audit of both with playbooks/audit.yml.
# Fresh kubeadm nodes fail CIS, so the demo audits with cis_fail_on=none: it reports the failures and does not
# fail on them (the default gate, cis_fail_on=any, would fail the play after writing the reports).
# Leave the nodes running for exploration; `make demo-down` removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
NET=sck8s-demo
NODES=(sck8s-demo-cp1:control-plane:22201 sck8s-demo-w1:worker:22202)
INV=build/demo/inventory.yml
REPORTS=$PWD/build/demo/reports
JOIN=extensions/molecule/shared/join-workers.yml  # what `kubeadm join` does (shared with the multinode scenario)
if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
  echo "run this with 'make demo': it builds the image and puts the collection on ANSIBLE_COLLECTIONS_PATH" >&2
  exit 2
fi

echo "== starting test nodes (Kubernetes ${K8S_VERSION:-1.33})"
tests/testbed/nodes.sh up "$NET" "${NODES[@]}"
mkdir -p "$(dirname "$INV")"
tests/testbed/nodes.sh inventory "$NET" "${NODES[@]}" > "$INV"

export ANSIBLE_STDOUT_CALLBACK=${ANSIBLE_STDOUT_CALLBACK:-default}
echo "== joining the worker to the control plane (what kubeadm join does)"
ansible-playbook -i "$INV" "$JOIN"

echo "== CIS Kubernetes Benchmark audit of every node: one read-only module call per node, judged on this machine"
echo "   (cis_fail_on=none: fresh kubeadm nodes fail CIS; the demo reports that instead of failing on it)"
rm -rf "$REPORTS"
ansible-playbook -i "$INV" playbooks/audit.yml -e cis_fail_on=none -e "cis_report_dir=$REPORTS"

echo
echo "Reports in ${REPORTS#"$PWD"/}/:"
echo "  summary.md                 the fleet: counts per node, failing recommendations, the role variable that fixes each"
for f in "$REPORTS"/*.json; do
  host=$(basename "$f" .json)
  printf '  %-26s %s\n' "$host.json" "kube-bench JSON (+ drift, waivers, remediation) for $host"
  printf '  %-26s %s\n' "$host.junit.xml" "JUnit, one testcase per recommendation"
done
echo
echo "Inventory: $INV   SSH: ssh -i .cache/ssh/id_ed25519 -p 22201 root@127.0.0.1   Remove: make demo-down"
