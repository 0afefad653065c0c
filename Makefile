# secure_cluster.k8s — developer and CI entry points. Run as root on Debian/Ubuntu.
#   make test   lint, sanity, unit tests, the built collection installed and run, integration, molecule scenarios,
#               then the same collection on real Kubernetes (the newest and the oldest supported minor)
#   make demo   audit SSH-reachable real Kubernetes test nodes (kubeadm init/join), harden them with site.yml, audit
#               again
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
# Outside this git checkout: ansible-test lists files with git when it finds a repository around the collection.
COLL_ROOT ?= /var/tmp/secure_cluster_k8s-$(shell printf %s '$(CURDIR)' | md5sum | cut -c1-8)/collections
COLL_DIR := $(COLL_ROOT)/ansible_collections/secure_cluster/k8s
MOLECULE_SCENARIOS ?= default multinode audit kubelet control_plane apiserver containerd kernel_container etcd etcd_backup kernel
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
# Per checkout: molecule's prerun installs the collection under ANSIBLE_HOME, and a stale copy there from another
# checkout would shadow this one.
export ANSIBLE_HOME := $(CURDIR)/.cache/ansible
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0

.PHONY: help host venv image k8s-bins real-image real-test vm-image lint yamllint ansible-lint docs docs-check changelog-lint collection sanity unit build \
  collection-install-test integration molecule test demo demo-nodes demo-down bench clean

help:
	@echo "make test    lint + sanity + unit tests + collection install test + integration + molecule scenarios ($(MOLECULE_SCENARIOS)) + real Kubernetes ($(K8S_BIN_MINORS): flag data, acceptance test)"
	@echo "make demo    audit SSH-reachable real Kubernetes test nodes, harden them (site.yml), audit again (make demo-down removes them)"
	@echo "make bench   ping, audit, site.yml (first run, rerun), remediate.yml on N test nodes (docs/performance.md)"
	@echo "make docs    regenerate the variables section of every roles/*/README.md from meta/argument_specs.yml"
	@echo "make build   the collection tarball $(COLLECTION_TARBALL)"
	@echo "make image   build the podman test-node image"
	@echo "make k8s-bins build the real Kubernetes and etcd binaries (K8S_BIN_MINORS), cached outside the checkout"
	@echo "make real-image test-node images node:<minor> with the real binaries (kubeadm init at first boot)"
	@echo "make real-test flag data checked against the real binaries, the acceptance test on node:<minor> (REAL_TEST_MINORS), molecule $(REAL_MOLECULE_SCENARIOS) on node:<newest>"
	@echo "make vm-image build the VM test node of the kernel role"

host:
	scripts/setup-host.sh

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.stamp

image: host
	tests/testbed/build-image.sh

# The real Kubernetes binaries (kubeadm, control plane, kubelet, kube-proxy, kubectl) and kubeadm's etcd, built
# from the Go module proxy and cached in /var/tmp/sck8s-k8s-bins by version and build inputs
# (K8S_BIN_MINORS="1.37 1.34", default the CI minors of tests/testbed/releases.json; "all" for every one).
K8S_BIN_MINORS ?= $(shell python3 -c 'import json; print(" ".join(json.load(open("tests/testbed/releases.json"))["ci_minors"]))')
k8s-bins:
	python3 tests/testbed/k8s_bins.py build $(K8S_BIN_MINORS)

# Test-node images node:<minor> with those binaries, written by the real kubeadm at first boot.
real-image: host k8s-bins
	K8S_REAL_MINORS="$(K8S_BIN_MINORS)" tests/testbed/build-image.sh

# The real binaries against the product's tables (tests/testbed/flags/<minor>.json must match what they print),
# the acceptance test on a real-kubeadm control plane and worker (tests/integration/test_real_cluster.py) and the
# fresh real nodes audited against generated ones (test_real_fresh_audit.py)
# on each of REAL_TEST_MINORS (default the CI minors: the newest and the oldest supported), then the molecule
# scenarios that run on the image of the newest minor (REAL_MOLECULE_SCENARIOS, K8S_REAL_VERSION).
REAL_MOLECULE_SCENARIOS ?= apiserver
REAL_TEST_MINORS ?= $(K8S_BIN_MINORS)
K8S_REAL_VERSION ?= $(shell python3 -c 'import json; print(json.load(open("tests/testbed/releases.json"))["default_minor"])')
real-test: venv real-image collection
	python3 tests/testbed/flag_data.py check $(K8S_BIN_MINORS)
	@# the minors side by side (their nodes mostly wait on health gates), each with its own log, printed after
	@mkdir -p .cache && $(COLL_DIR)/tests/testbed/nodes.sh key
	@cd $(COLL_DIR) && for m in $(REAL_TEST_MINORS); do \
	  ( K8S_REAL_VERSION=$$m $(BIN)/python -m pytest -q -rs -p no:cacheprovider --basetemp=/tmp/sck8s-real-test-$$m \
	      tests/integration/test_real_cluster.py tests/integration/test_real_fresh_audit.py \
	      >$(CURDIR)/.cache/real-test-$$m.log 2>&1; echo $$? >$(CURDIR)/.cache/real-test-$$m.rc ) & done; wait; \
	  failed=0; for m in $(REAL_TEST_MINORS); do \
	    echo "== real Kubernetes $$m: tests/integration/test_real_cluster.py, test_real_fresh_audit.py"; \
	    cat $(CURDIR)/.cache/real-test-$$m.log; [ "$$(cat $(CURDIR)/.cache/real-test-$$m.rc)" = 0 ] || failed=1; done; \
	  exit $$failed
	cd $(COLL_DIR) && for s in $(REAL_MOLECULE_SCENARIOS); do \
	  echo "== molecule test -s $$s (real Kubernetes $(K8S_REAL_VERSION))"; \
	  SCK8S_NODE_IMAGE=localhost/secure-cluster-k8s/node:$(K8S_REAL_VERSION) K8S_VERSION=$(K8S_REAL_VERSION) \
	    $(BIN)/molecule test -s $$s || exit 1; done

# The VM test node of the kernel role (qemu, Debian's kernel), cached in /var/tmp/sck8s-vm by a hash of its inputs.
vm-image: host
	tests/vm/build-vm-image.sh

yamllint: venv
	$(BIN)/yamllint -s .

ansible-lint: venv collection
	$(BIN)/ansible-lint --offline

# Role READMEs: the variables section is generated from meta/argument_specs.yml (scripts/role_docs.py).
docs: venv
	$(BIN)/python scripts/role_docs.py --write

docs-check: venv
	$(BIN)/python scripts/role_docs.py --check

# Changelog fragments as antsibull-changelog reads them (it needs the ansible_collections/<ns>/<name> copy).
changelog-lint: venv collection
	cd $(COLL_DIR) && $(BIN)/antsibull-changelog lint

lint: yamllint ansible-lint docs-check changelog-lint

# ansible-test and molecule need the collection under an ansible_collections/<ns>/<name> path.
collection:
	@# molecule's prerun installs a copy under ANSIBLE_HOME; left there it shadows this one for ansible-lint
	@rm -rf $(ANSIBLE_HOME)/collections/ansible_collections/secure_cluster
	@mkdir -p $(COLL_DIR)
	@git ls-files --cached --others --exclude-standard -z | \
	  rsync -a --delete --ignore-missing-args --from0 --files-from=- ./ $(COLL_DIR)/
	@# --delete only removes files inside listed dirs; drop stale files from a previous sync too
	@cd $(COLL_DIR) && comm -z -23 <(find . -type f -printf '%P\0' | sort -z) \
	  <(cd $(CURDIR) && git ls-files --cached --others --exclude-standard -z | sort -z) | xargs -0 -r rm -f

# ansible-test fetches a pip bootstrap script from a host these machines cannot reach; give it ours.
ANSIBLE_TEST_GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
$(ANSIBLE_TEST_GET_PIP): tests/sanity/get_pip_offline.py
	install -D -m 0644 $< $@

sanity: venv collection $(ANSIBLE_TEST_GET_PIP)
	cd $(COLL_DIR) && $(BIN)/ansible-test sanity --venv --python 3.11 --requirements --color no

unit: venv collection
	cd $(COLL_DIR) && PYTHONPATH=$(COLL_ROOT) $(BIN)/python -m pytest -q tests/unit

COLLECTION_TARBALL := build/secure_cluster-k8s-$(shell sed -n 's/^version: *//p' galaxy.yml).tar.gz

# Built from the git-listed copy, so nothing untracked in the checkout can end up in the tarball.
build: venv collection
	$(BIN)/ansible-galaxy collection build $(COLL_DIR) --output-path build --force

# The tarball installed offline into an empty path and used from there alone (ansible-doc, playbooks, a module).
collection-install-test: build
	scripts/test-collection-install.sh $(COLLECTION_TARBALL)

molecule: venv image vm-image collection
	cd $(COLL_DIR) && for s in $(MOLECULE_SCENARIOS); do \
	  echo "== molecule test -s $$s"; $(BIN)/molecule test -s $$s || exit 1; done

# Playbook-level tests over SSH against test nodes (remediate.yml on a drifted node); the real-binary one is
# make real-test's.
integration: venv image collection
	cd $(COLL_DIR) && $(BIN)/python -m pytest -q -p no:cacheprovider tests/integration \
	  --ignore-glob='tests/integration/test_real_*.py'

# The demo runs on the real binaries of the newest minor (K8S_REAL_VERSION): only that minor is built for it.
demo-nodes: venv collection
	$(MAKE) --no-print-directory real-image K8S_BIN_MINORS=$(K8S_REAL_VERSION)
	K8S_VERSION=$(K8S_REAL_VERSION) scripts/demo.sh nodes

demo: venv collection
	$(MAKE) --no-print-directory real-image K8S_BIN_MINORS=$(K8S_REAL_VERSION)
	K8S_VERSION=$(K8S_REAL_VERSION) scripts/demo.sh run

demo-down:
	scripts/demo.sh down

# Speed against a one-task ping on the same nodes (docs/performance.md); reported, never asserted (BENCH_NODES=N).
bench: venv image collection
	scripts/bench.sh

# Building the real binaries is CPU-bound while the stand-in stages mostly wait on containers, so make test starts
# that build at once in the background (niced, log in .cache/k8s-bins.log) and real-test joins it through
# k8s_bins.py's cache lock. A failed stage stops the build with it. Within CI's time make test runs real-test's flag
# check and acceptance test on both CI minors, not its molecule scenarios (make real-test runs those).
test: host venv
	@mkdir -p .cache
	@setsid -w nice -n 15 python3 tests/testbed/k8s_bins.py build $(K8S_BIN_MINORS) >.cache/k8s-bins.log 2>&1 & \
	  bins=$$!; trap 'kill -- -$$bins 2>/dev/null || true' EXIT; \
	  $(MAKE) --no-print-directory image lint sanity unit collection-install-test integration molecule; \
	  if ! wait $$bins; then tail -n 50 .cache/k8s-bins.log; echo "make test: building the real binaries failed"; \
	    exit 1; fi; trap - EXIT
	$(MAKE) --no-print-directory real-test REAL_MOLECULE_SCENARIOS=
	@echo "make test: all stages passed"

clean:
	rm -rf build .cache $(dir $(COLL_ROOT))
