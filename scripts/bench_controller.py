"""Controller-side cost of the audit, profiled: catalog load, CIS evaluation and report writing for H hosts.

Part of `make bench` (scripts/bench.sh), never a timed test. Replays the node_facts of real test nodes (a JSON file
of host -> node_facts, captured by the bench) for H = 1, 10, 100 and 1000 hosts through the same code the action
plugins run (cis_audit: evaluate; cis_report: per-host JSON and JUnit, the summary, the gate), prints the time per
host of each step, and writes a cProfile of a 100-host audit. Per-host time that stays flat as H grows is
O(hosts x controls). Needs the collection on PYTHONPATH (ansible_collections/...).

    bench_controller.py FACTS.json OUT_DIR [H ...]
"""
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time

from ansible_collections.secure_cluster.k8s.plugins.action import cis_report as report_action
from ansible_collections.secure_cluster.k8s.plugins.module_utils import cis_catalog, cis_eval
from ansible_collections.secure_cluster.k8s.plugins.plugin_utils import catalog as catalog_data

WAIVERS = [{"id": "1.2.5", "reason": "bench", "expires": "2099-01-01"}]


def run(facts_by_host, hosts, report_dir):
    """One audit of ``hosts`` hosts; returns the CPU seconds of each controller step (this process; wall time
    on a busy machine would measure the neighbours)."""
    samples = list(facts_by_host.values())
    # the benchmark cis_audit's auto picks for the sampled nodes, loaded uncached: the load is what is measured
    version = (samples[0].get("version") or {}).get("kubernetes")
    benchmark = cis_catalog.select_benchmark(version, catalog_data.load_mapping())[0]
    t0 = time.process_time()
    catalog = catalog_data.load_catalog(catalog_data.catalog_path(benchmark))
    t1 = time.process_time()
    evaluations = [cis_eval.evaluate(samples[i % len(samples)], catalog, host="node-%04d" % i,
                                     waivers=WAIVERS, parse_yaml=catalog_data.safe_load)
                   for i in range(hosts)]
    t2 = time.process_time()
    gate = report_action.fleet_gate(evaluations, {}, "any", 0)
    report_action.write_reports(report_dir, evaluations, {}, gate, report_action.FORMATS)
    t3 = time.process_time()
    return {"catalog": t1 - t0, "evaluate": t2 - t1, "reports": t3 - t2,
            "controls": sum(len(e["controls"]) for e in evaluations)}


def main(argv):
    facts_file, out_dir = argv[1], argv[2]
    sizes = [int(h) for h in argv[3:]] or [1, 10, 100, 1000]
    with open(facts_file, encoding="utf-8") as f:
        facts_by_host = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    print("| hosts | controls judged | catalog load (CPU s) | evaluate (CPU ms/host) | reports (CPU ms/host) "
          "| total (CPU s) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for hosts in sizes:
        with tempfile.TemporaryDirectory(dir=out_dir) as report_dir:
            t = run(facts_by_host, hosts, report_dir)
        print("| %d | %d | %.3f | %.2f | %.2f | %.2f |" % (
            hosts, t["controls"], t["catalog"], 1000 * t["evaluate"] / hosts, 1000 * t["reports"] / hosts,
            t["catalog"] + t["evaluate"] + t["reports"]))
    profiled = min(100, max(sizes))
    with tempfile.TemporaryDirectory(dir=out_dir) as report_dir:
        prof = cProfile.Profile()
        prof.runcall(run, facts_by_host, profiled, report_dir)
    stream = io.StringIO()
    pstats.Stats(prof, stream=stream).sort_stats("cumulative").print_stats(25)
    with open(os.path.join(out_dir, "controller-profile.txt"), "w", encoding="utf-8") as f:
        f.write("cProfile of the controller-side audit of %d hosts (cumulative time)\n\n" % profiled)
        f.write(stream.getvalue())
    print("\nA cProfile of %d hosts is in %s." % (profiled,
          os.path.join(out_dir, "controller-profile.txt")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
