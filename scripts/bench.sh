#!/usr/bin/env bash
# `make bench`: speed of the audit against the cheapest Ansible run, on the same SSH-reachable test nodes.
# Reported, never asserted. Env: BENCH_NODES (default 4: half control planes, half workers), BENCH_RUNS (3),
# BENCH_FORKS (default: the number of nodes), KEEP=1 leaves the nodes running.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_NODES:-4}; RUNS=${BENCH_RUNS:-3}; FORKS=${BENCH_FORKS:-$N}
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

ping=$(timed tests/bench/ping.yml)
audit=$(timed playbooks/audit.yml -e cis_fail_on=none -e "cis_report_dir=$PWD/$WORK/reports")
# node-side cost of the one collection call (the module reports its own CPU time)
cpu=$(ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.posix.json \
  ansible -i "$INV" all -m secure_cluster.k8s.node_facts | python3 -c '
import json, sys
doc = json.load(sys.stdin)
vals = [h["node_facts"]["collector"]["cpu_seconds"] for h in doc["plays"][0]["tasks"][0]["hosts"].values()]
print("%.3f" % max(vals))')
echo
echo "| nodes | forks | ping.yml (s) | audit.yml (s) | audit / ping | max node-side collection CPU (s) |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '| %s | %s | %.2f | %.2f | %.2f | %s |\n' "$N" "$FORKS" "$ping" "$audit" "$(echo "$audit / $ping" | bc -l)" "$cpu"
echo
echo "Goal (issue: CIS audit): audit <= 1.5 x ping; node-side collection <= 0.3 s CPU. Median of $RUNS runs each."
