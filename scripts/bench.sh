#!/usr/bin/env bash
# `make bench`: speed of the audit, the hardening and the remediation against the cheapest Ansible run, on the same
# SSH-reachable test nodes. Reported, never asserted; the tables are also written to build/bench/results.md.
# Env: BENCH_NODES (default 10: half control planes, half workers), BENCH_RUNS (3), BENCH_FORKS (default: the
# number of nodes), KEEP=1 leaves the nodes running.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_NODES:-10}; RUNS=${BENCH_RUNS:-3}; FORKS=${BENCH_FORKS:-$N}
NET=sck8s-bench
WORK=build/bench; INV=$WORK/inventory.yml
mkdir -p "$WORK"
specs=()
for i in $(seq 1 "$N"); do
  if (( i % 2 )); then role=control-plane; else role=worker; fi
  specs+=("sck8s-bench-$i:$role:$((22300 + i))")
done
cleanup() { [ "${KEEP:-0}" = 1 ] || tests/testbed/nodes.sh down "$NET" "${specs[@]%%:*}"; }
trap cleanup EXIT

echo "== starting $N test nodes"
tests/testbed/nodes.sh up "$NET" "${specs[@]}"
tests/testbed/nodes.sh inventory "$NET" "${specs[@]}" > "$INV"
export ANSIBLE_FORKS=$FORKS ANSIBLE_STDOUT_CALLBACK=default
ansible-playbook -i "$INV" tests/bench/ping.yml >/dev/null  # warm the SSH control sockets

# median wall time of RUNS runs of a playbook
timed() {
  local i t0 t1 times=()
  for i in $(seq 1 "$RUNS"); do
    t0=$(date +%s.%N)
    ansible-playbook -i "$INV" "$@" > "$WORK/last.log" 2>&1 || { cat "$WORK/last.log"; exit 1; }
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

# from the PLAY RECAP of the last run: the most tasks any host ran (ok + changed + failed), and the changed total
tasks_per_host() { awk '/ : ok=/{split($3,a,"=");split($4,b,"=");split($6,c,"=");n=a[2]+b[2]+c[2];if(n>m)m=n}END{print m+0}' "$WORK/last.log"; }
changed_total() { awk '/ : ok=/{split($4,b,"=");t+=b[2]}END{print t+0}' "$WORK/last.log"; }
# Hosts that ran a task in site.yml's hardening plays (batched, serial) or its etcd snapshot play.
visited() {
  awk '/^PLAY \[/{p=($0 ~ /^PLAY \[(Harden|On-demand etcd backup)/)} p && /^(ok|changed|skipping|fatal): \[/{
    h=$2; gsub(/[][]/, "", h); seen[h]=1} END{n=0; for (h in seen) n++; print n}' "$WORK/last.log"
}

ping=$(timed tests/bench/ping.yml)
audit=$(timed playbooks/audit.yml -e cis_fail_on=none -e "cis_report_dir=$PWD/$WORK/reports"); tasks_audit=$(tasks_per_host)
# node-side cost of the one collection call (the module reports its own CPU time)
ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.posix.json \
  ansible -i "$INV" all -m secure_cluster.k8s.node_facts | python3 -c '
import json, sys
doc = json.load(sys.stdin)
json.dump({h: r["node_facts"] for h, r in doc["plays"][0]["tasks"][0]["hosts"].items()}, sys.stdout)' \
  > "$WORK/node_facts.json"
cpu=$(python3 -c '
import json, sys
print("%.3f" % max(f["collector"]["cpu_seconds"] for f in json.load(open(sys.argv[1])).values()))' "$WORK/node_facts.json")
# the controller side of the audit for 1..1000 hosts, replaying these nodes' facts, with a profile
controller=$(PYTHONPATH=$ANSIBLE_COLLECTIONS_PATH python3 scripts/bench_controller.py "$WORK/node_facts.json" "$WORK")
# site.yml once on the fresh nodes, then its idempotent rerun and remediate.yml on the compliant fleet (median)
vars=$WORK/vars.yml
cat > "$vars" <<'EOV'
etcd_backup_passphrase: bench-only-passphrase-0123456789
# stand-in nodes: no API server for kubelet serving CSRs (so no 4.2.11, and 1.2.5 waived) nor for kubeadm-config
# (tests/testbed/README.md)
kubelet_cis_4_2_11_enabled: false
apiserver_kubeadm_config_enabled: false
controller_manager_kubeadm_config_enabled: false
scheduler_kubeadm_config_enabled: false
etcd_kubeadm_config_enabled: false
kubelet_kubeadm_config_enabled: false
cis_waivers:
  - {id: "1.2.5", reason: "stand-in nodes: no CSR approval, so kubelets serve self-signed certificates and the apiserver role defers 1.2.5", expires: "2099-01-01"}
EOV
RUNS_SAVED=$RUNS; RUNS=1  # site.yml changes the nodes: its first run happens once
site_first=$(timed playbooks/site.yml -e "@$vars"); tasks_first=$(tasks_per_host); visited_first=$(visited)
site_again=$(timed playbooks/site.yml -e "@$vars" -e site_etcd_backup_enabled=false); tasks_again=$(tasks_per_host)
changed_again=$(changed_total); visited_again=$(visited)
remediate=$(timed playbooks/remediate.yml -e "@$vars" -e "remediate_report_dir=$PWD/$WORK/remediation")
tasks_remediate=$(tasks_per_host); changed_remediate=$(changed_total); visited_remediate=$(visited)
# One control-plane node drifts (its scheduler's profiling back on): remediate.yml must visit only that node.
podman exec sck8s-bench-1 sed -i 's/--profiling=false/--profiling=true/' /etc/kubernetes/manifests/kube-scheduler.yaml
drift=$(timed playbooks/remediate.yml -e "@$vars" -e "remediate_report_dir=$PWD/$WORK/remediation-drift")
tasks_drift=$(tasks_per_host); changed_drift=$(changed_total); visited_drift=$(visited)
ratio() { echo "$1 / $ping" | bc -l; }
{
  echo "| nodes | forks | run | wall (s) | x ping | tasks per host (max) | changed | hosts hardening plays visited |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
  printf '| %s | %s | ping.yml | %.2f | 1.00 | 1 | 0 | - |\n' "$N" "$FORKS" "$ping"
  printf '| %s | %s | audit.yml | %.2f | %.2f | %s | 0 | - |\n' "$N" "$FORKS" "$audit" "$(ratio "$audit")" "$tasks_audit"
  printf '| %s | %s | site.yml, first run | %.2f | %.2f | %s | - | %s |\n' "$N" "$FORKS" "$site_first" "$(ratio "$site_first")" "$tasks_first" "$visited_first"
  printf '| %s | %s | site.yml, rerun | %.2f | %.2f | %s | %s | %s |\n' "$N" "$FORKS" "$site_again" "$(ratio "$site_again")" "$tasks_again" "$changed_again" "$visited_again"
  printf '| %s | %s | remediate.yml, compliant fleet | %.2f | %.2f | %s | %s | %s |\n' "$N" "$FORKS" "$remediate" "$(ratio "$remediate")" "$tasks_remediate" "$changed_remediate" "$visited_remediate"
  printf '| %s | %s | remediate.yml, one node drifted | %.2f | %.2f | %s | %s | %s |\n' "$N" "$FORKS" "$drift" "$(ratio "$drift")" "$tasks_drift" "$changed_drift" "$visited_drift"
  echo
  echo "Max node-side CPU of the audit's collection call: $cpu s. Median of $RUNS_SAVED runs for ping and audit, of $RUNS for the rest."
  echo "The site.yml rerun skips the etcd snapshot (site_etcd_backup_enabled=false): a new snapshot is a change by design."
  echo "Goals: audit <= 1.5 x ping; site.yml rerun <= 6 x ping with 0 changed; remediate.yml on a compliant fleet <= 3 x ping, 0 changed; with one node drifted only that node visited."
  echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB, $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "Controller side of the audit (catalog load, evaluation, reports), replaying the facts of these nodes:"
  echo
  echo "$controller"
} | tee "$WORK/results.md"
