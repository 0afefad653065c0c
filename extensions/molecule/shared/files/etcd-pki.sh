# shellcheck shell=bash
# Test fixture: a dedicated etcd CA and, per member, the certificates kubeadm's external-etcd guide asks for
# (server, peer, healthcheck-client), plus one apiserver-etcd-client pair for the control plane.
# Usage: etcd-pki.sh DIR NAME=IP [NAME=IP ...]    (idempotent: existing files are kept)
# Layout: DIR/ca.{crt,key}, DIR/apiserver-etcd-client.{crt,key}, DIR/<NAME>/{ca.crt,server,peer,healthcheck-client}.*
set -euo pipefail
dir=$1; shift
umask 077
mkdir -p "$dir"
cd "$dir"

if [ ! -s ca.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=etcd-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature \
    2>/dev/null
fi

# issue OUT CN EKU [SAN]   (kept when it exists and still carries the SAN's last entry, e.g. the member's IP)
issue() {
  local out=$1 cn=$2 eku=$3 san=${4:-}
  if [ -s "$out.crt" ]; then
    if [ -z "$san" ] || openssl x509 -in "$out.crt" -noout -ext subjectAltName 2>/dev/null \
        | grep -q "IP Address:${ip:-none}\(,\|$\)"; then
      return 0
    fi
  fi
  echo "issued $out"
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$out.key" -out "$out.csr" -subj "/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -extfile "$ext" \
    -out "$out.crt" 2>/dev/null
  rm -f "$out.csr" "$ext"
}

issue apiserver-etcd-client kube-apiserver-etcd-client clientAuth
for member in "$@"; do
  name=${member%%=*}; ip=${member#*=}
  mkdir -p "$name"
  cp ca.crt "$name/ca.crt"
  san="DNS:$name,DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,IP:$ip"
  issue "$name/server" "$name" serverAuth,clientAuth "$san"
  issue "$name/peer" "$name" serverAuth,clientAuth "$san"
  issue "$name/healthcheck-client" kube-etcd-healthcheck-client clientAuth
done
