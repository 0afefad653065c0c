#!/usr/bin/env bash
# Build the VM test node of the kernel role (run as root; idempotent): a debootstrapped bookworm with Debian's
# linux-image-amd64, booted by qemu with -kernel/-initrd from a raw ext4 disk (tests/vm/README.md).
#
# Output, outside the git checkout, keyed by the sha256 of the recipe (the part of this script between the
# "recipe" markers) and the SSH public key:
#   $SCK8S_VM_CACHE/img-<sha>/{node.raw,vmlinux,initrd.img}     (default SCK8S_VM_CACHE=/var/tmp/sck8s-vm)
#   $SCK8S_VM_CACHE/id_ed25519{,.pub}                            root's key for the VMs (made once)
# Rebuilt only when that directory is missing; older img-* directories are removed after a build.
#
#   build-vm-image.sh            build if needed, print the image directory
#   build-vm-image.sh --path     print the image directory without building (exit 1 when it is not built)
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), SCK8S_VM_CACHE.
set -euo pipefail

CACHE=${SCK8S_VM_CACHE:-/var/tmp/sck8s-vm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEY=$CACHE/id_ed25519
SELF=$(readlink -f "${BASH_SOURCE[0]}")

log() { printf '[build-vm-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

image_dir() {
    local sha
    sha=$( (sed -n '/^# >>> recipe/,/^# <<< recipe/p' "$SELF"; cat "$KEY.pub") | sha256sum | cut -c1-16)
    printf '%s/img-%s\n' "$CACHE" "$sha"
}

if [ "${1:-}" = --path ]; then
    [ -f "$KEY.pub" ] || die "no VM key $KEY.pub: run tests/vm/build-vm-image.sh (make vm-image)"
    dir=$(image_dir)
    [ -f "$dir/node.raw" ] || die "no VM image in $dir: run tests/vm/build-vm-image.sh (make vm-image)"
    echo "$dir"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root"
for cmd in debootstrap mkfs.ext4 ssh-keygen python3; do
    command -v "$cmd" >/dev/null || die "$cmd is not installed (make host)"
done
# What running the VMs needs (tests/vm/vm.sh): about 15 MB to download.
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then
    log "installing qemu-system-x86 and qemu-utils"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-system-x86 qemu-utils >&2 ||
        { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            qemu-system-x86 qemu-utils >&2; }
fi
mkdir -p "$CACHE"
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C sck8s-vm -f "$KEY"

OUT=$(image_dir)
if [ -f "$OUT/node.raw" ]; then
    log "$OUT is up to date"
    echo "$OUT"
    exit 0
fi

# >>> recipe (its text keys the cached image)
TMP=$(mktemp -d "$CACHE/build.XXXXXX")
R=$TMP/rootfs
# shellcheck disable=SC2064
trap "rm -rf --one-file-system '$TMP'" EXIT
log "debootstrap bookworm + linux-image-amd64 from $DEBIAN_MIRROR"
debootstrap --variant=minbase \
    --include=linux-image-amd64,systemd-sysv,udev,dbus,kmod,auditd,openssh-server,python3,python3-apt,iproute2,procps \
    bookworm "$R" "$DEBIAN_MIRROR" >"$TMP/debootstrap.log" 2>&1 || { tail -20 "$TMP/debootstrap.log" >&2; die "debootstrap failed"; }

echo sck8s-vm > "$R/etc/hostname"
printf '127.0.0.1 localhost sck8s-vm\n' > "$R/etc/hosts"
printf '/dev/vda / ext4 defaults,noatime 0 1\n' > "$R/etc/fstab"
: > "$R/etc/machine-id"
install -d -m 0700 "$R/root/.ssh"
install -m 0600 "$KEY.pub" "$R/root/.ssh/authorized_keys"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' \
    > "$R/etc/ssh/sshd_config.d/sck8s-vm.conf"
# qemu user networking always gives 10.0.2.15/24, gateway .2, DNS .3: static, no DHCP wait.
printf '[Match]\nType=ether\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\nDNS=10.0.2.3\n' \
    > "$R/etc/systemd/network/10-slirp.network"
echo 'nameserver 10.0.2.3' > "$R/etc/resolv.conf"
chroot "$R" systemctl enable systemd-networkd.service >/dev/null 2>&1
# Slim boot under TCG: nothing that waits or runs periodically.
chroot "$R" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
    dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer getty@tty1.service \
    systemd-timesyncd.service >/dev/null 2>&1
# initramfs with only the virtio root drivers (6.5 MB instead of 36 MB; unpacking is slow under TCG).
sed -i 's/^MODULES=.*/MODULES=list/' "$R/etc/initramfs-tools/initramfs.conf"
printf 'virtio_pci\nvirtio_blk\nvirtio_mmio\next4\n' >> "$R/etc/initramfs-tools/modules"
chroot "$R" update-initramfs -u -k all >"$TMP/initramfs.log" 2>&1 || { tail -20 "$TMP/initramfs.log" >&2; die "update-initramfs failed"; }
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin "$R"/var/lib/apt/lists/*
mkdir -p "$R/var/lib/apt/lists/partial"
rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/*

mkdir -p "$TMP/img"
cp "$R"/boot/initrd.img-* "$TMP/img/initrd.img"
# The uncompressed vmlinux: qemu boots it through PVH, skipping SeaBIOS and the xz decompressor.
python3 - "$R"/boot/vmlinuz-* "$TMP/img/vmlinux" <<'EOP'
import lzma, sys
data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit("no xz payload in " + sys.argv[1])
with open(sys.argv[2], "wb") as out:
    out.write(lzma.LZMADecompressor().decompress(data[start:]))
EOP
truncate -s 4G "$TMP/img/node.raw"
mkfs.ext4 -q -F -L root -d "$R" "$TMP/img/node.raw"
rm -rf --one-file-system "$R"
mv "$TMP/img" "$OUT"
# <<< recipe
for old in "$CACHE"/img-*; do
    [ "$old" = "$OUT" ] || rm -rf --one-file-system "$old"
done
log "built $OUT ($(du -sh "$OUT" | cut -f1))"
echo "$OUT"
