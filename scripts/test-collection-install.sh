#!/usr/bin/env bash
# Install the built collection tarball into an empty path (offline) and use it from there alone:
# ansible-galaxy list, ansible-doc, a syntax check of a collection playbook, and a localhost play calling a filter
# and a module. Usage: scripts/test-collection-install.sh build/secure_cluster-k8s-<version>.tar.gz
set -euo pipefail

tarball=$(realpath "${1:?usage: $0 <collection tarball>}")
bin=$(dirname "$(command -v ansible-galaxy)")
work=$(mktemp -d /tmp/sck8s-collection-install.XXXXXX)
installed=$work/collections/ansible_collections/secure_cluster/k8s
trap 'rm -rf "$work"' EXIT

fail() { echo "test-collection-install: $*" >&2; exit 1; }

echo "== junk in $(basename "$tarball")"
listing=$(tar -tzf "$tarball")
junk=$(printf '%s\n' "$listing" | grep -E '(^|/)(\.venv|\.cache|\.pytest_cache|\.ansible|__pycache__|build|reports)(/|$)|(^|/)tests/output(/|$)|\.tar\.gz$|\.pyc$' || true)
[ -z "$junk" ] || fail "build junk in the tarball:"$'\n'"$junk"
grep -qx 'MANIFEST.json' <<<"$listing" || fail "no MANIFEST.json in the tarball"

# Only the install path and the collections bundled with the PyPI ansible package; no checkout, no ANSIBLE_HOME.
bundled=$("$bin/python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')
export ANSIBLE_COLLECTIONS_PATH="$work/collections:$bundled"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False
export ANSIBLE_HOME="$work/home"
export ANSIBLE_CONFIG="$work/ansible.cfg"  # none: keep an ansible.cfg in the caller's directory out
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
cd "$work"

echo "== ansible-galaxy collection install --offline"
"$bin/ansible-galaxy" collection install "$tarball" -p "$work/collections" --offline
grep -q "^# $work/collections/ansible_collections" <<<"$("$bin/ansible-galaxy" collection list secure_cluster.k8s)" \
  || fail "secure_cluster.k8s is not found in the install path"

echo "== ansible-doc from the install path"
check_docs() {  # ansible-doc -j of the plugins in "$@", found in the install path, with docs
  "$bin/ansible-doc" -j "$@" | "$bin/python" -c 'import json, sys
docs, names = json.load(sys.stdin), sys.argv[2:]
assert sorted(docs) == sorted(names), (sorted(docs), names)
for name, d in docs.items():
    assert d["doc"]["short_description"] and d["doc"]["options"], name
    assert d["doc"]["filename"].startswith(sys.argv[1]), d["doc"]["filename"]' "$installed" "${@:3}"
}
check_docs -t module secure_cluster.k8s.cis_file_permissions secure_cluster.k8s.static_pod_manifest
check_docs -t filter secure_cluster.k8s.cis_remediation_plan

echo "== playbooks from the install path"
"$bin/ansible-playbook" -i localhost, secure_cluster.k8s.audit --syntax-check
"$bin/ansible-playbook" -i localhost, secure_cluster.k8s.site --syntax-check
mkdir "$work/files"
"$bin/ansible-playbook" -i localhost, "$installed/tests/integration/collection_install/smoke.yml" \
  -e smoke_dir="$work/files" -e ansible_python_interpreter="$bin/python"
echo "test-collection-install: ok"
