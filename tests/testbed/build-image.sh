#!/usr/bin/env bash
# Build the podman images of the test node (run as root; idempotent).
#
#   1. localhost/secure-cluster-k8s/base:bookworm  debootstrap minbase + systemd, imported with podman import.
#      Built only when missing (remove it by hand to force a rebuild).
#   2. localhost/secure-cluster-k8s/node:latest    podman build -f tests/testbed/Containerfile FROM the base.
#      Rebuilt only when the sha256 of its inputs (Containerfile, tests/testbed/node/**,
#      plugins/module_utils/k8s_flags.py, k8s_flag_data.py, k8s_version.py and data/) differs from the image label
#      io.secure-cluster.inputs-sha.
#
# Also writes /etc/containers/containers.conf (runc, cgroupfs, file events, netavark, ulimits no higher
# than this shell's hard limits) when it does not already select runc: see tests/testbed/README.md.
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), FORCE_NODE_BUILD=1 to rebuild the node
# image even when the label matches, SCK8S_NODE_IMAGE to build the node image under another name (a branch that
# changes the test node, next to one that does not).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_IMAGE=localhost/secure-cluster-k8s/base:bookworm
NODE_IMAGE=${SCK8S_NODE_IMAGE:-localhost/secure-cluster-k8s/node:latest}
LABEL=io.secure-cluster.inputs-sha
CONTAINERS_CONF=/etc/containers/containers.conf

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"
command -v podman >/dev/null || die "podman is not installed"

require_containers_conf() {
    # podman on these hosts needs runc and host-compatible ulimits; scripts/setup-host.sh writes them.
    grep -Eqs '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONTAINERS_CONF" ||
        die "$CONTAINERS_CONF does not select runc: run scripts/setup-host.sh (make host) first"
}

build_base() {
    if podman image exists "$BASE_IMAGE"; then
        log "$BASE_IMAGE exists, not rebuilding"
        return 0
    fi
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    local rootfs
    rootfs=$(mktemp -d /var/tmp/sck8s-rootfs.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf --one-file-system '$rootfs'" EXIT
    log "debootstrap bookworm from $DEBIAN_MIRROR into $rootfs"
    debootstrap --variant=minbase \
        --include=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps \
        bookworm "$rootfs" "$DEBIAN_MIRROR"
    # Keep the image small: no .deb cache, no apt lists (run apt-get update first), no docs/man/locales,
    # and tell dpkg not to install them later either.
    rm -f "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin
    rm -rf "$rootfs"/var/lib/apt/lists/*
    mkdir -p "$rootfs"/var/lib/apt/lists/partial
    cat > "$rootfs"/etc/dpkg/dpkg.cfg.d/01-testbed-nodoc <<'EOD'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOD
    find "$rootfs"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find "$rootfs"/usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
    find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
    # No machine-id in an image: systemd creates one per container at boot.
    : > "$rootfs"/etc/machine-id
    rm -f "$rootfs"/var/lib/dbus/machine-id
    log "importing $BASE_IMAGE"
    tar -C "$rootfs" --numeric-owner -c . | podman import \
        --change 'CMD=["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' - "$BASE_IMAGE" >/dev/null
    rm -rf --one-file-system "$rootfs"
    trap - EXIT
}

# sha256 over every input of the node image: path, mode and content of files, target of symlinks.
inputs_sha() {
    local inputs=(tests/testbed/Containerfile tests/testbed/node plugins/module_utils/k8s_flags.py
                  plugins/module_utils/k8s_flag_data.py plugins/module_utils/k8s_version.py plugins/module_utils/data)
    (
        cd "$REPO_ROOT"
        for p in "${inputs[@]}"; do
            [ -e "$p" ] || die "missing build input $p"
        done
        find "${inputs[@]}" \( -name __pycache__ -o -name '*.pyc' \) -prune -o \( -type f -o -type l \) -print0 |
            LC_ALL=C sort -z |
            while IFS= read -r -d '' f; do
                if [ -L "$f" ]; then
                    printf 'L %s %s\n' "$f" "$(readlink "$f")"
                else
                    printf 'F %s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"
                fi
            done
    ) | sha256sum | cut -d' ' -f1
}

build_node() {
    local sha current
    sha=$(inputs_sha)
    current=$(podman image inspect --format "{{ index .Labels \"$LABEL\" }}" "$NODE_IMAGE" 2>/dev/null || true)
    if [ "$current" = "$sha" ] && [ "${FORCE_NODE_BUILD:-0}" != 1 ]; then
        log "$NODE_IMAGE is up to date ($LABEL=$sha)"
        return 0
    fi
    log "building $NODE_IMAGE ($LABEL=$sha, was '${current:-none}')"
    podman build --pull=never \
        --build-arg "DEBIAN_MIRROR=$DEBIAN_MIRROR" \
        --label "$LABEL=$sha" \
        -f "$REPO_ROOT/tests/testbed/Containerfile" -t "$NODE_IMAGE" "$REPO_ROOT"
    # The previous node:latest is now dangling; remove it (only if nothing uses it).
    podman image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
}

# 3. localhost/secure-cluster-k8s/node:<minor> for each minor whose real binaries are built (make k8s-bins):
#    FROM node:latest, with the real binaries and tests/testbed/real/ on top. Rebuilt when the label's sha256 of
#    the base image, the binaries and the overlay differs.
build_real() {
    local minor=$1 stage sha current image=${NODE_IMAGE%:*}:$1
    stage=$(mktemp -d /var/tmp/sck8s-real-stage.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$stage'" RETURN
    python3 "$REPO_ROOT/tests/testbed/k8s_bins.py" stage "$minor" "$stage" || return 1
    cp -a "$REPO_ROOT/tests/testbed/real" "$stage/overlay"
    sha=$( {
        podman image inspect --format '{{.Id}}' "$NODE_IMAGE"
        sha256sum "$REPO_ROOT/tests/testbed/Containerfile.real"
        (cd "$stage" && find bin overlay release.json -type f -print0 | LC_ALL=C sort -z |
            xargs -0 stat -c '%n %a' && find bin overlay release.json -type f -print0 | LC_ALL=C sort -z |
            xargs -0 sha256sum)
    } | sha256sum | cut -d' ' -f1)
    current=$(podman image inspect --format "{{ index .Labels \"$LABEL\" }}" "$image" 2>/dev/null || true)
    if [ "$current" = "$sha" ] && [ "${FORCE_NODE_BUILD:-0}" != 1 ]; then
        log "$image is up to date ($LABEL=$sha)"
        return 0
    fi
    log "building $image with the real binaries of $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("Kubernetes", r["kubernetes_version"], "etcd", r["etcd_version"])' "$stage/release.json")"
    podman build --pull=never --build-arg "BASE=$NODE_IMAGE" --label "$LABEL=$sha" \
        -f "$REPO_ROOT/tests/testbed/Containerfile.real" -t "$image" "$stage"
    podman image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
}

require_containers_conf
build_base
build_node
log "done: $(podman image inspect --format '{{.Size}}' "$NODE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}') $NODE_IMAGE"
# K8S_REAL_MINORS: the minors to build real-binary images of (default: none; `make image` passes the built ones).
for minor in ${K8S_REAL_MINORS:-}; do
    build_real "$minor"
    log "done: $(podman image inspect --format '{{.Size}}' "${NODE_IMAGE%:*}:$minor" | awk '{printf "%.0f MB", $1/1e6}') ${NODE_IMAGE%:*}:$minor"
done
