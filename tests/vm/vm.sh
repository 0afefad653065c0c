#!/usr/bin/env bash
# Run VM test nodes from the image of tests/vm/build-vm-image.sh (no root needed; see tests/vm/README.md).
#
#   vm.sh up NAME [PORT]   boot a fresh copy-on-write overlay of the image, SSH on 127.0.0.1:PORT (a free port when
#                          omitted); returns when `ssh true` works
#   vm.sh port NAME        print the SSH port of a running VM
#   vm.sh ssh NAME [CMD]   SSH into it as root
#   vm.sh down NAME        stop it and remove its overlay (no error when it is not running)
#
# Environment: SCK8S_VM_CACHE (default /var/tmp/sck8s-vm), SCK8S_VM_ACCEL (auto|kvm|tcg), SCK8S_VM_MEM (MiB,
# default 1024), SCK8S_VM_SMP (default 2), SCK8S_VM_BOOT_TIMEOUT (seconds, default 300).
set -euo pipefail

CACHE=${SCK8S_VM_CACHE:-/var/tmp/sck8s-vm}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEY=$CACHE/id_ed25519
SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes
          -o ConnectTimeout=5 -i "$KEY")

log() { printf '[vm] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -ge 2 ] || die "usage: vm.sh up|down|port|ssh NAME [PORT|CMD...]"
cmd=$1 name=$2
shift 2
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad VM name '$name'"
run=$CACHE/run/$name

# /dev/kvm on these hosts is PVM (no VT-x/SVM): stock kernels hang under it, so KVM only with vmx/svm.
accel() {
    case ${SCK8S_VM_ACCEL:-auto} in
        kvm | tcg) echo "$SCK8S_VM_ACCEL" ;;
        auto)
            if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
                echo kvm
            else
                echo tcg
            fi ;;
        *) die "SCK8S_VM_ACCEL must be auto, kvm or tcg" ;;
    esac
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() { [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; }

up() {
    local img port acc machine_id accel_args
    img=$("$HERE/build-vm-image.sh" --path)
    command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed (make host)"
    running && die "VM $name is already running (vm.sh down $name)"
    rm -rf "$run"
    mkdir -p "$run"
    port=${1:-$(free_port)}
    echo "$port" > "$run/port"
    qemu-img create -q -f qcow2 -b "$img/node.raw" -F raw "$run/overlay.qcow2"
    acc=$(accel)
    if [ "$acc" = kvm ]; then
        accel_args=(-accel kvm -cpu host)
    else
        # tb-size in the same -accel: a second -accel would only be a fallback.
        accel_args=(-accel "tcg,thread=multi,tb-size=256" -cpu "max,-svm")
    fi
    machine_id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    log "booting $name ($acc) on 127.0.0.1:$port"
    qemu-system-x86_64 -nodefaults -display none "${accel_args[@]}" \
        -m "${SCK8S_VM_MEM:-1024}" -smp "${SCK8S_VM_SMP:-2}" \
        -kernel "$img/vmlinux" -initrd "$img/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0,115200 quiet mitigations=off systemd.machine_id=$machine_id systemd.hostname=$name" \
        -drive "file=$run/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
        -serial "file:$run/serial.log" -pidfile "$run/pid" -daemonize
    local start=$SECONDS timeout=${SCK8S_VM_BOOT_TIMEOUT:-300}
    until ssh "${SSH_OPTS[@]}" -p "$port" root@127.0.0.1 true 2>/dev/null; do
        running || die "qemu exited during boot; see $run/serial.log"
        ((SECONDS - start < timeout)) || die "no SSH on 127.0.0.1:$port after ${timeout}s; see $run/serial.log"
        sleep 1
    done
    log "$name is up after $((SECONDS - start))s"
}

down() {
    if running; then
        local pid
        pid=$(cat "$run/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -rf "$run"
}

case $cmd in
    up) up "$@" ;;
    down) down ;;
    port) [ -f "$run/port" ] || die "VM $name is not running"; cat "$run/port" ;;
    ssh) exec ssh "${SSH_OPTS[@]}" -p "$(cat "$run/port")" root@127.0.0.1 "$@" ;;
    *) die "unknown command $cmd" ;;
esac
