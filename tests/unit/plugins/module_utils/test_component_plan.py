# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The component planner computes what the roles' Jinja computed before it replaced them.

The oracle is the roles' former expressions, copied here verbatim (OLD: the set_fact tasks of
roles/<role>/tasks/flags.yml and roles/etcd/tasks/config.yml, and kubelet__fragments of roles/kubelet/vars/main.yml
as of the commit before the planner) and rendered by ansible-core's templar over the role's defaults with the
variations of each case. Compared as JSON text: same keys in the same order, same values of the same types.
"""
from __future__ import annotations

import json
import random

import pytest
import yaml

from ansible_collections.secure_cluster.k8s.plugins.module_utils import component_plan
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils.plain import plain
from ansible_collections.secure_cluster.k8s.tests.unit.plugins.module_utils.role_defaults import (
    public, render, role_file, trusted)

OLD_SCHEDULER = """
- ansible.builtin.set_fact:
    scheduler_flags: >-
      {{ {}
         | combine({'profiling': false} if scheduler_cis_1_4_1_enabled else {})
         | combine({'bind-address': scheduler_bind_address} if scheduler_cis_1_4_2_enabled else {})
         | combine(scheduler_extra_flags) }}
"""

OLD_CONTROLLER_MANAGER = """
- ansible.builtin.set_fact:
    controller_manager_flags: >-
      {{ {}
         | combine({'terminated-pod-gc-threshold': controller_manager_terminated_pod_gc_threshold}
                   if controller_manager_cis_1_3_1_enabled else {})
         | combine({'profiling': false} if controller_manager_cis_1_3_2_enabled else {})
         | combine({'use-service-account-credentials': true} if controller_manager_cis_1_3_3_enabled else {})
         | combine({'service-account-private-key-file': controller_manager_service_account_private_key_file}
                   if controller_manager_cis_1_3_4_enabled else {})
         | combine({'root-ca-file': controller_manager_root_ca_file} if controller_manager_cis_1_3_5_enabled else {})
         | combine({'feature-gates': {'RotateKubeletServerCertificate': true}}
                   if controller_manager_cis_1_3_6_enabled else {})
         | combine({'bind-address': controller_manager_bind_address} if controller_manager_cis_1_3_7_enabled else {})
         | combine(controller_manager_extra_flags) }}
"""

OLD_ETCD = """
- ansible.builtin.set_fact:
    etcd__flags: >-
      {{ {}
         | combine({'cert-file': etcd_cert_file, 'key-file': etcd_key_file} if etcd_cis_2_1_enabled else {})
         | combine({'client-cert-auth': true, 'trusted-ca-file': etcd_trusted_ca_file} if etcd_cis_2_2_enabled else {})
         | combine({'auto-tls': false} if etcd_cis_2_3_enabled else {})
         | combine({'peer-cert-file': etcd_peer_cert_file, 'peer-key-file': etcd_peer_key_file}
                   if etcd_cis_2_4_enabled else {})
         | combine({'peer-client-cert-auth': true, 'peer-trusted-ca-file': etcd_peer_trusted_ca_file}
                   if etcd_cis_2_5_enabled else {})
         | combine({'peer-auto-tls': false} if etcd_cis_2_6_enabled else {})
         | combine({'listen-client-urls': 'https://127.0.0.1:%d,https://%s:%d'
                                          | format(etcd_client_port | int, etcd__node_ip, etcd_client_port | int),
                    'listen-peer-urls': 'https://%s:%d' | format(etcd__node_ip, etcd_peer_port | int)}
                   if etcd_bind_enabled else {})
         | combine({'listen-metrics-urls': etcd_metrics_urls} if etcd_metrics_enabled else {})
         | combine({'auto-compaction-retention': etcd_auto_compaction_retention | string,
                    'quota-backend-bytes': etcd_quota_backend_bytes | int} if etcd_limits_enabled else {})
         | combine(etcd_extra_flags) }}
"""

OLD_KUBELET = """
- vars:
    kubelet__fragments:
      - "{{ {'authentication': {'anonymous': {'enabled': false}, 'webhook': {'enabled': true}}}
            if kubelet_cis_4_2_1_enabled else {} }}"
      - "{{ {'authentication': {'webhook': {'enabled': true}}, 'authorization': {'mode': 'Webhook'}}
            if kubelet_cis_4_2_2_enabled else {} }}"
      - "{{ {'authentication': {'x509': {'clientCAFile': kubelet_client_ca_file}}} if kubelet_cis_4_2_3_enabled else {} }}"
      - "{{ {'readOnlyPort': 0} if kubelet_cis_4_2_4_enabled else {} }}"
      - "{{ {'streamingConnectionIdleTimeout': kubelet_streaming_connection_idle_timeout}
            if kubelet_cis_4_2_5_enabled else {} }}"
      - "{{ {'makeIPTablesUtilChains': true} if kubelet_cis_4_2_6_enabled else {} }}"
      - "{{ {'eventRecordQPS': kubelet_event_record_qps} if kubelet_cis_4_2_8_enabled else {} }}"
      - "{{ {'tlsCertFile': kubelet_tls_cert_file, 'tlsPrivateKeyFile': kubelet_tls_private_key_file}
            if kubelet_cis_4_2_9_enabled and kubelet_tls_cert_file and kubelet_tls_private_key_file else {} }}"
      - "{{ {'rotateCertificates': true} if kubelet_cis_4_2_10_enabled else {} }}"
      - "{{ {'serverTLSBootstrap': true, 'featureGates': {'RotateKubeletServerCertificate': true}}
            if kubelet_cis_4_2_11_enabled else {} }}"
      - "{{ {'tlsMinVersion': kubelet_tls_min_version, 'tlsCipherSuites': kubelet_tls_cipher_suites}
            if kubelet_cis_4_2_12_enabled else {} }}"
      - "{{ {'podPidsLimit': kubelet_pod_pids_limit} if kubelet_cis_4_2_13_enabled else {} }}"
      - "{{ {'seccompDefault': true} if kubelet_cis_4_2_14_enabled else {} }}"
      - "{{ {'protectKernelDefaults': kubelet_protect_kernel_defaults | bool} }}"
  ansible.builtin.set_fact:
    kubelet__settings: "{{ (kubelet__fragments + [kubelet_extra_settings]) | combine(recursive=true) }}"
"""

OLD_APISERVER = """
- ansible.builtin.set_fact:
    apiserver__enable_plugins: >-
      {{ ((apiserver__cur['enable-admission-plugins'] | default('', true)).split(',') | select
          | reject('in', ['AlwaysAdmit'] if apiserver_cis_1_2_10_enabled else []) | list)
         + apiserver_admission_plugins
         + (['NodeRestriction'] if apiserver_cis_1_2_14_enabled else [])
         + (['DenyServiceExternalIPs'] if apiserver_cis_1_2_3_enabled else [])
         + (['EventRateLimit'] if apiserver_cis_1_2_9_enabled else [])
         + (['AlwaysPullImages'] if apiserver_cis_1_2_11_enabled else []) }}
    apiserver__disable_plugins: >-
      {{ (apiserver__cur['disable-admission-plugins'] | default('', true)).split(',') | select
         | reject('in', (['ServiceAccount'] if apiserver_cis_1_2_12_enabled else [])
                        + (['NamespaceLifecycle'] if apiserver_cis_1_2_13_enabled else [])
                        + (['AlwaysAdmit'] if apiserver_cis_1_2_10_enabled else []))
         | list }}
    apiserver__authorizers: >-
      {{ (['Node'] if apiserver_cis_1_2_7_enabled else [])
         + ((apiserver__cur['authorization-mode'] | default('', true)).split(',') | select
            | reject('in', ['AlwaysAllow'] if apiserver_cis_1_2_6_enabled else []) | list)
         + (['RBAC'] if apiserver_cis_1_2_8_enabled else []) }}
  vars:
    apiserver__cur: "{{ apiserver__pod.flags }}"

- ansible.builtin.set_fact:
    apiserver__flags: >-
      {{ {}
         | combine({'authentication-config': apiserver_authentication_config_file, 'anonymous-auth': none}
                   if apiserver__use_authn_config else {})
         | combine({'anonymous-auth': false}
                   if apiserver_cis_1_2_1_enabled and apiserver__anonymous_mode == 'disabled' else {})
         | combine({'token-auth-file': none} if apiserver_cis_1_2_2_enabled else {})
         | combine({'enable-admission-plugins': apiserver__enable_plugins | unique,
                    'admission-control-config-file': apiserver_admission_config_file})
         | combine({'disable-admission-plugins': (apiserver__disable_plugins | reject('in', apiserver__enable_plugins)
                                                 | unique | list) or none}
                   if 'disable-admission-plugins' in apiserver__cur else {})
         | combine({'authorization-mode': apiserver__authorizers | unique}
                   if 'authorization-config' not in apiserver__cur else {})
         | combine(apiserver__presence)
         | combine({'kubelet-certificate-authority': apiserver_kubelet_certificate_authority}
                   if apiserver_cis_1_2_5_enabled and not apiserver__kubelet_ca_deferred | bool else {})
         | combine({'profiling': false} if apiserver_cis_1_2_15_enabled else {})
         | combine({'audit-log-path': apiserver_audit_log_path, 'audit-policy-file': apiserver_audit_policy_file}
                   if apiserver_cis_1_2_16_enabled else {})
         | combine({'audit-log-maxage': apiserver_audit_log_maxage} if apiserver_cis_1_2_17_enabled else {})
         | combine({'audit-log-maxbackup': apiserver_audit_log_maxbackup} if apiserver_cis_1_2_18_enabled else {})
         | combine({'audit-log-maxsize': apiserver_audit_log_maxsize} if apiserver_cis_1_2_19_enabled else {})
         | combine({'request-timeout': apiserver_request_timeout} if apiserver_cis_1_2_20_enabled else {})
         | combine({'service-account-lookup': true} if apiserver_cis_1_2_21_enabled else {})
         | combine({'encryption-provider-config': apiserver_encryption_config_file}
                   if apiserver_cis_1_2_27_enabled else {})
         | combine({'tls-cipher-suites': apiserver_tls_cipher_suites, 'tls-min-version': apiserver_tls_min_version}
                   if apiserver_cis_1_2_29_enabled else {})
         | combine({'service-account-extend-token-expiration': false} if apiserver_cis_1_2_30_enabled else {})
         | combine(apiserver__oidc_flags if apiserver__oidc_enabled and not apiserver__use_authn_config else {})
         | combine(apiserver_extra_flags) }}
    apiserver__volumes: >-
      {{ ([{'name': 'sck8s-audit-policy', 'hostPath': apiserver_audit_policy_file | dirname,
            'type': 'DirectoryOrCreate'},
           {'name': 'sck8s-audit-log', 'hostPath': apiserver_audit_log_path | dirname, 'readOnly': false,
            'type': 'DirectoryOrCreate'}] if apiserver_cis_1_2_16_enabled else [])
         + ([{'name': 'sck8s-encryption', 'hostPath': apiserver_encryption_config_file | dirname,
              'type': 'DirectoryOrCreate'}] if apiserver_cis_1_2_27_enabled else [])
         + [{'name': 'sck8s-admission', 'hostPath': apiserver_admission_config_file | dirname,
             'type': 'DirectoryOrCreate'}]
         + ([{'name': 'sck8s-authn', 'hostPath': apiserver_authentication_config_file | dirname,
              'type': 'DirectoryOrCreate'}] if apiserver__use_authn_config else [])
         + apiserver_extra_volumes }}
  vars:
    apiserver__cur: "{{ apiserver__pod.flags }}"
    apiserver__presence_ids:
      kubelet-client-certificate: apiserver_cis_1_2_4_enabled
      kubelet-client-key: apiserver_cis_1_2_4_enabled
      service-account-key-file: apiserver_cis_1_2_22_enabled
      etcd-certfile: apiserver_cis_1_2_23_enabled
      etcd-keyfile: apiserver_cis_1_2_23_enabled
      tls-cert-file: apiserver_cis_1_2_24_enabled
      tls-private-key-file: apiserver_cis_1_2_24_enabled
      client-ca-file: apiserver_cis_1_2_25_enabled
      etcd-cafile: apiserver_cis_1_2_26_enabled
    apiserver__presence: >-
      {{ ({}
          | combine(apiserver_kubeadm_files | dict2items
                    | selectattr('key', 'in', apiserver__presence_ids)
                    | selectattr('key', 'in', apiserver__presence_ids | dict2items
                                 | selectattr('value', 'in', apiserver__presence_on) | map(attribute='key') | list)
                    | rejectattr('key', 'in', apiserver__cur) | items2dict)) }}
    apiserver__presence_on: >-
      {{ (['apiserver_cis_1_2_4_enabled'] if apiserver_cis_1_2_4_enabled else [])
         + (['apiserver_cis_1_2_22_enabled'] if apiserver_cis_1_2_22_enabled else [])
         + (['apiserver_cis_1_2_23_enabled'] if apiserver_cis_1_2_23_enabled else [])
         + (['apiserver_cis_1_2_24_enabled'] if apiserver_cis_1_2_24_enabled else [])
         + (['apiserver_cis_1_2_25_enabled'] if apiserver_cis_1_2_25_enabled else [])
         + (['apiserver_cis_1_2_26_enabled'] if apiserver_cis_1_2_26_enabled else []) }}
    apiserver__oidc_flags: >-
      {{ {'oidc-issuer-url': apiserver_oidc.issuer_url | default(''),
          'oidc-client-id': apiserver_oidc.client_id | default(''),
          'oidc-username-claim': apiserver_oidc.username_claim | default('sub'),
          'oidc-groups-claim': apiserver_oidc.groups_claim | default('groups'),
          'oidc-username-prefix': apiserver_oidc.username_prefix | default('oidc:'),
          'oidc-groups-prefix': apiserver_oidc.groups_prefix | default('oidc:')}
         | combine({'oidc-ca-file': apiserver_oidc.ca_file} if apiserver_oidc.ca_file | default('') else {}) }}
"""

# component: (the old tasks, the facts they set that the roles use: the plan's keys)
OLD = {
    "scheduler": (OLD_SCHEDULER, {"scheduler_flags": "flags"}),
    "controller_manager": (OLD_CONTROLLER_MANAGER, {"controller_manager_flags": "flags"}),
    "etcd": (OLD_ETCD, {"etcd__flags": "flags"}),
    "kubelet": (OLD_KUBELET, {"kubelet__settings": "settings"}),
    "apiserver": (OLD_APISERVER, {"apiserver__flags": "flags", "apiserver__volumes": "volumes"}),
}


def run_old(component, variables):
    """The facts the old set_fact tasks set, each task's vars visible to its own expressions only."""
    tasks, wanted = OLD[component]
    facts = {}
    for task in yaml.safe_load(tasks):
        scope = dict(variables, **facts)
        scope.update(trusted(task.get("vars", {})))
        for name, expression in task["ansible.builtin.set_fact"].items():
            facts[name] = render(scope, expression)
    return dict((name, facts[name]) for name in wanted)


def as_json(value):
    return json.dumps(plain(value))


# ---------------------------------------------------------------------------------------------------------------
# representative variations, drawn with a fixed seed
# ---------------------------------------------------------------------------------------------------------------

EXTRA_FLAGS = [{}, {"profiling": None}, {"bind-address": "0.0.0.0", "v": 2},
               {"feature-gates": {"Foo": True}, "tls-min-version": "VersionTLS13"}, {"profiling": True}]


def toggles(rng, variables, component):
    """Every toggle of the role switched at random."""
    prefix = component + "_"
    out = {}
    for name in variables:
        if name.startswith(prefix) and name.endswith("_enabled") and (
                "_cis_" in name or name in ("etcd_bind_enabled", "etcd_metrics_enabled", "etcd_limits_enabled")):
            out[name] = rng.random() < 0.6
    return out


def members(rng, pool):
    return ",".join(rng.sample(pool, rng.randint(0, len(pool))))


def vary_apiserver(rng):
    cur = {}
    kubeadm = ["kubelet-client-certificate", "kubelet-client-key", "service-account-key-file", "etcd-certfile",
               "etcd-keyfile", "tls-cert-file", "tls-private-key-file", "client-ca-file", "etcd-cafile"]
    for flag in rng.sample(kubeadm, rng.randint(0, len(kubeadm))):
        cur[flag] = "/somewhere/" + flag
    if rng.random() < 0.8:
        cur["enable-admission-plugins"] = members(rng, ["NodeRestriction", "AlwaysAdmit", "PodSecurity",
                                                        "EventRateLimit", "LimitRanger"])
    if rng.random() < 0.5:
        cur["disable-admission-plugins"] = members(rng, ["ServiceAccount", "NamespaceLifecycle", "AlwaysAdmit",
                                                         "PodSecurity", "DefaultStorageClass"])
    if rng.random() < 0.8:
        cur["authorization-mode"] = members(rng, ["Node", "AlwaysAllow", "RBAC", "Webhook"])
    if rng.random() < 0.2:
        cur["authorization-config"] = "/etc/kubernetes/authz.yaml"
    overrides = {
        "apiserver_admission_plugins": rng.choice([["NodeRestriction", "PodSecurity"], [],
                                                   ["PodSecurity", "EventRateLimit"]]),
        "apiserver_oidc": rng.choice([{}, {"issuer_url": "https://idp", "client_id": "k8s"},
                                      {"issuer_url": "https://idp", "client_id": "k8s", "ca_file": "/etc/idp.crt",
                                       "username_claim": "email", "groups_prefix": ""}]),
        "apiserver_extra_flags": rng.choice(EXTRA_FLAGS + [{"anonymous-auth": True, "authorization-mode": "RBAC"}]),
        "apiserver_extra_volumes": rng.choice([[], [{"name": "extra", "hostPath": "/srv/x", "type": "Directory"}]]),
    }
    # the role's own derivations (vars/main.yml) of the rest, over the mode the version would give
    named = {"apiserver__pod": {"flags": cur}, "apiserver__anonymous_mode": rng.choice(["disabled", "rbac", "restricted"]),
             "apiserver__kubelet_ca_deferred": rng.random() < 0.3}
    return overrides, cur, None, named


def apiserver_derived(variables):
    scope = dict(role_file("apiserver", "vars"), **variables)
    return dict((key, render(scope, "{{ apiserver__%s }}" % key)) for key in component_plan.DERIVED["apiserver"])


def vary_etcd(rng):
    node_ip = rng.choice(["10.89.0.2", "192.168.1.10"])
    overrides = {"etcd_client_port": rng.choice([2379, "12379"]), "etcd_peer_port": rng.choice([2380, "12380"]),
                 "etcd_auto_compaction_retention": rng.choice(["8", 8, "1h"]),
                 "etcd_quota_backend_bytes": rng.choice([8589934592, "2147483648"]),
                 "etcd_pki_dir": rng.choice(["/etc/kubernetes/pki/etcd", "/etc/etcd/pki"]),
                 "etcd_extra_flags": rng.choice([{}, {"auto-tls": None}, {"snapshot-count": 5000}])}
    return overrides, None, {"node_ip": node_ip}, {"etcd__node_ip": node_ip}


def vary_kubelet(rng):
    tls = rng.choice([("", ""), ("/var/lib/kubelet/pki/kubelet.crt", "/var/lib/kubelet/pki/kubelet.key")])
    overrides = {
        "kubelet_tls_cert_file": tls[0], "kubelet_tls_private_key_file": tls[1],
        "kubelet_protect_kernel_defaults": rng.choice([True, False, "yes"]),
        "kubelet_event_record_qps": rng.choice([5, 0]),
        "kubelet_extra_settings": rng.choice([
            {}, {"readOnlyPort": None}, {"authentication": {"webhook": {"cacheTTL": "2m"}, "anonymous": None}},
            {"featureGates": {"Foo": False}, "tlsCipherSuites": ["TLS_AES_128_GCM_SHA256"]},
            {"authentication": {"x509": {"clientCAFile": None}}, "protectKernelDefaults": False}]),
    }
    return overrides, None, None, {}


def vary_flags(component):
    def vary(rng):
        return {"%s_extra_flags" % component: rng.choice(EXTRA_FLAGS),
                "%s_bind_address" % component: rng.choice(["127.0.0.1", "0.0.0.0"])}, None, None, {}
    return vary


VARY = {"apiserver": vary_apiserver, "etcd": vary_etcd, "kubelet": vary_kubelet,
        "scheduler": vary_flags("scheduler"), "controller_manager": vary_flags("controller_manager")}


def cases(component, count=40):
    rng = random.Random("component_plan:" + component)
    yield "defaults", {}, rng
    for index in range(count):
        yield "case %d" % index, None, rng


@pytest.mark.parametrize("component", component_plan.COMPONENTS)
def test_planner_equals_the_former_jinja(component):
    defaults = role_file(component, "defaults")
    seen = set()
    for label, fixed, rng in cases(component):
        overrides, current, derived, named = VARY[component](rng)
        if fixed is not None:  # the role's defaults, with only the node's values drawn
            overrides = {}
        else:
            overrides.update(toggles(rng, defaults, component))
        variables = dict(defaults, **trusted(overrides))
        variables.update(named)
        if component == "apiserver":
            derived = apiserver_derived(variables)
            variables.update(("apiserver__" + key, value) for key, value in derived.items())
        old = run_old(component, variables)
        plan = component_plan.desired(component, public(component, variables), current=current, derived=derived)
        for fact, key in OLD[component][1].items():
            assert as_json(plan[key]) == as_json(old[fact]), "%s, %s: %s differs" % (component, label, fact)
            seen.add(as_json(old[fact]))
        check_controls(component, plan, public(component, variables))
    assert len(seen) > 10, "the variations must reach many different plans"


def leaves(settings, prefix=""):
    out = set()
    for key, value in settings.items():
        if isinstance(value, dict) and value:
            out |= leaves(value, prefix + key + ".")
        else:
            out.add(prefix + key)
    return out


def check_controls(component, plan, variables):
    """Every planned flag (kubelet: every field) says where it comes from; a CIS id only when its toggle is on."""
    keys = leaves(plan["settings"]) if component == "kubelet" else set(plan["flags"])
    assert keys <= set(plan["controls"])
    for sources in plan["controls"].values():
        for source in sources:
            if source[0].isdigit():
                assert variables["%s_cis_%s_enabled" % (component, source.replace(".", "_"))] is True, source
            else:
                assert source in variables, source
    if component == "apiserver":
        assert [v["name"] for v in plan["volumes"]] == list(plan["volume_controls"])


def test_toggles_are_booleans():
    settings = {"scheduler_cis_1_4_1_enabled": "no", "scheduler_cis_1_4_2_enabled": "true",
                "scheduler_bind_address": "127.0.0.1", "scheduler_extra_flags": {}}
    assert component_plan.desired("scheduler", settings)["flags"] == {"bind-address": "127.0.0.1"}
    with pytest.raises(component_plan.PlanError, match="scheduler_cis_1_4_1_enabled"):
        component_plan.desired("scheduler", dict(settings, scheduler_cis_1_4_1_enabled="maybe"))
    with pytest.raises(component_plan.PlanError, match="unknown component"):
        component_plan.desired("kube-proxy", settings)
