#!/usr/bin/env bash
# Prepare a Debian/Ubuntu host (as root) for `make test` / `make demo`: OS packages and podman's settings.
# (qemu: the VM test node of the kernel role; gpg: the unit tests of the etcd backup script.)
# Idempotent; the slow parts (apt) run only when something is missing.
set -euo pipefail

PKGS=(podman runc conmon netavark aardvark-dns iptables slirp4netns catatonit uidmap debootstrap
      ca-certificates tar openssl openssh-client shellcheck python3 python3-venv make git rsync
      qemu-system-x86 qemu-utils e2fsprogs gpg gpg-agent)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# podman here needs runc (crun fails on hybrid cgroups) and ulimits within the host's hard limits:
# the host has no CAP_SYS_RESOURCE, so podman's default nofile=1048576 cannot be set.
conf=/etc/containers/containers.conf
if ! grep -qs '^runtime = "runc"' "$conf"; then
  hn=$(ulimit -Hn); hu=$(ulimit -Hu)
  [ "$hn" = unlimited ] && hn=1048576
  [ "$hu" = unlimited ] && hu=65536
  ((hn > 20000)) && hn=20000
  ((hu > 20000)) && hu=20000
  mkdir -p /etc/containers
  cat > "$conf" <<EOC
# Written by secure_cluster.k8s scripts/setup-host.sh for the podman test nodes.
[containers]
default_ulimits = [
  "nofile=$hn:$hn",
  "nproc=$hu:$hu",
]

[network]
network_backend = "netavark"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOC
  echo "setup-host: wrote $conf"
fi

# ansible-test runs pip with a scrubbed environment, so a CA given only as $PIP_CERT (TLS-intercepting proxy)
# must also be in pip's global config for its sanity venvs to reach PyPI.
if [ -n "${PIP_CERT:-}" ] && ! grep -qsE '^[[:space:]]*cert[[:space:]]*=' /etc/pip.conf /etc/xdg/pip/pip.conf; then
  python3 - "$PIP_CERT" <<'EOP'
import configparser, sys
conf = configparser.ConfigParser()
conf.read("/etc/pip.conf")
conf.setdefault("global", {})["cert"] = sys.argv[1]
with open("/etc/pip.conf", "w") as handle:
    conf.write(handle)
EOP
  echo "setup-host: added cert = $PIP_CERT to /etc/pip.conf"
fi

# Test-machine prerequisite: container test nodes share this host's kernel, and the kubelet's protectKernelDefaults
# compares these parameters with what it expects. Set them here (persistently and live) so it can be shown end to
# end in containers. A host that refuses (read-only /proc/sys, no CAP_SYS_ADMIN) is logged, not fatal.
kubelet_sysctls=(vm.overcommit_memory=1 vm.panic_on_oom=0 kernel.panic=10 kernel.panic_on_oops=1
                 kernel.keys.root_maxkeys=1000000 kernel.keys.root_maxbytes=25000000)
sysctl_conf=/etc/sysctl.d/90-secure-cluster-k8s-testhost.conf
sysctl_text=$(printf '# Written by secure_cluster.k8s scripts/setup-host.sh: what the kubelet checks with protectKernelDefaults.\n'
              printf '%s\n' "${kubelet_sysctls[@]/=/ = }")
if [ "$(cat "$sysctl_conf" 2>/dev/null)" != "$sysctl_text" ]; then
  if printf '%s\n' "$sysctl_text" > "$sysctl_conf" 2>/dev/null; then
    echo "setup-host: wrote $sysctl_conf"
  else
    echo "setup-host: WARNING: cannot write $sysctl_conf"
  fi
fi
for kv in "${kubelet_sysctls[@]}"; do
  [ "$(sysctl -n "${kv%%=*}" 2>/dev/null)" = "${kv#*=}" ] && continue
  if sysctl -q -w "$kv" >/dev/null 2>&1; then
    echo "setup-host: set $kv"
  else
    echo "setup-host: WARNING: the kernel refused $kv; protectKernelDefaults cannot be shown in container test nodes"
  fi
done

# Every test node runs systemd, which holds inotify instances of root's; at Debian's default of 128 per user, systemd
# in about the 25th container (BENCH_NODES=30 make bench, or molecule next to it) waits forever to finish booting.
# Raised live (make runs this script first), never lowered.
for kv in fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=524288; do
  [ "$(sysctl -n "${kv%%=*}" 2>/dev/null || echo 0)" -ge "${kv#*=}" ] && continue
  if sysctl -q -w "$kv" >/dev/null 2>&1; then
    echo "setup-host: set $kv"
  else
    echo "setup-host: WARNING: the kernel refused $kv; more than about 20 test nodes at once may not boot"
  fi
done
