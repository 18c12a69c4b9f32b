#!/usr/bin/env python3
"""Parses wrk output and writes the benchmark results (Markdown table and PNG chart).

  report.py parse-wrk FILE      -> rps, p50, p90, p99, max (ms), requests, errors (tab-separated)
  report.py write --http TSV --footprint TSV --apiserver TSV --audit TXT --out MD --png PNG
"""
import argparse
import csv
import os
import platform
import re
import subprocess
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    if not m:
        raise ValueError("not a duration: " + text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", text)
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    res = re.search(r"post\.lua: result requests=(\d+) non200=(\d+) checked=(\d+) bad=(\d+) socket_errors=(\d+)", text)
    errors = int(res.group(2)) + int(res.group(4)) + int(res.group(5))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors = max(errors, int(non2xx.group(1)))
    return [f"{rps:.0f}", f"{ms(dist['50']):.3f}", f"{ms(dist['90']):.3f}", f"{ms(dist['99']):.3f}", f"{ms(lat.group(3)):.3f}",
            str(requests), str(errors)]


def rows(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except Exception as e:  # report what is known, never fail the report on a version string
        return f"unknown ({e.__class__.__name__})"


def peak(http, target):
    best = None
    for r in http:
        if r["target"] == target and (best is None or float(r["rps"]) > float(best["rps"])):
            best = r
    return best


def at(http, target, concurrency):
    for r in http:
        if r["target"] == target and r["concurrency"] == concurrency:
            return r
    return None


def write(args):
    http = rows(args.http)
    foot = rows(args.footprint)
    api = rows(args.apiserver)
    audit = open(args.audit).read().strip() if args.audit and os.path.exists(args.audit) else "not run"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [f"# rootguard benchmark ({args.mode})", "",
             "Measured in one run on one machine; absolute numbers depend on the machine (often a shared 2-core one), "
             "ratios within the run are what compare.", "",
             "## Machine", "",
             f"- commit {commit}, {platform.platform()}, {os.cpu_count()} cores, "
             f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB",
             f"- {version(['java', '-version'])}",
             f"- {version(['nginx', '-v'])}; {version([args.opa, 'version'])}; {version(['wrk', '--version'])}",
             "", "## HTTPS admission throughput and latency (wrk, keep-alive, corpus of varied AdmissionReviews)", "",
             "| target | connections | req/s | p50 ms | p90 ms | p99 ms | max ms | requests | errors | RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in http:
        lines.append(f"| {r['target']} | {r['concurrency']} | {r['rps']} | {r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} | "
                     f"{r['max_ms']} | {r['requests']} | {r['errors']} | {r['rss_mb']} |")
    rg, limit, opa = peak(http, "rootguard-validate"), peak(http, "nginx-limit"), peak(http, "opa-peer")
    lines += ["", "## Ratios (peak throughput over the concurrency levels; p99 at the same number of connections)", ""]
    if rg and limit and opa:
        c = rg["concurrency"]
        lim_c, opa_c = at(http, "nginx-limit", c), at(http, "opa-peer", c)
        lines.append(f"- rootguard /validate peak {rg['rps']} req/s = {float(rg['rps']) / float(limit['rps']):.0%} of the limit "
                     f"({limit['rps']} req/s) and {float(rg['rps']) / float(opa['rps']):.1f}x OPA ({opa['rps']} req/s)")
        if lim_c and opa_c:
            lines.append(f"- p99 at {c} connections: rootguard {rg['p99_ms']} ms, limit {lim_c['p99_ms']} ms, OPA {opa_c['p99_ms']} ms")
    paced = rows(args.paced) if args.paced and os.path.exists(args.paced) else []
    for r in paced:
        lines.append(f"- paced at half of peak (offered ~{r['offered_rps']} req/s over {r['connections']} connections, each "
                     f"waiting {r['pace_ms']} ms between requests): served {r['rps']} req/s, p50 {r['p50_ms']} ms, "
                     f"p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms, errors {r['errors']}")
    lines += ["", "## Through the real kube-apiserver (pod creates)", "",
              "| phase | clients | pods | seconds | creates/s | failures | create p50 ms | create p99 ms | mutate p50 ms | "
              "mutate p99 ms | validate p50 ms | validate p99 ms | inside rootguard: mutate mean ms | inside rootguard: validate mean ms |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in api:
        lines.append(f"| {r['phase']} | {r['clients']} | {r['pods']} | {r['seconds']} | {r['creates_per_s']} | {r['failures']} | "
                     f"{r['create_p50_ms']} | {r['create_p99_ms']} | {r['mutate_p50_ms']} | {r['mutate_p99_ms']} | "
                     f"{r['validate_p50_ms']} | {r['validate_p99_ms']} | {r.get('inside_mutate_ms', '-')} | {r.get('inside_validate_ms', '-')} |")
    lines += [""]
    for r in api:
        if r["phase"] == "with-webhooks":
            base = next((b for b in api if b["phase"] == "no-webhooks" and b["clients"] == r["clients"]), None)
            if base:
                lines.append(f"- {r['clients']} client(s): both webhooks add {float(r['create_p50_ms']) - float(base['create_p50_ms']):.2f} ms "
                             f"to the p50 create ({base['create_p50_ms']} -> {r['create_p50_ms']} ms) and "
                             f"{float(r['create_p99_ms']) - float(base['create_p99_ms']):.2f} ms to the p99"
                             + (f"; rootguard's own handling of the two calls is {float(r['inside_mutate_ms']) + float(r['inside_validate_ms']):.3f} ms "
                                "of that (mean of each, body in to response out); the rest is outside the handler: the API server calling out, and TLS and HTTP at both ends"
                                if r.get('inside_mutate_ms', '-') not in ('-', '') and r.get('inside_validate_ms', '-') not in ('-', '') else ""))
    for r in api:
        if r["phase"] == "echo-webhooks":
            base = next((b for b in api if b["phase"] == "no-webhooks" and b["clients"] == r["clients"]), None)
            ours = next((b for b in api if b["phase"] == "with-webhooks" and b["clients"] == r["clients"]), None)
            if base and ours:
                floor = float(r['create_p50_ms']) - float(base['create_p50_ms'])
                added = float(ours['create_p50_ms']) - float(base['create_p50_ms'])
                lines.append(f"- {r['clients']} client(s): the floor, a webhook with no policy (provision/echo-webhook) registered the "
                             f"same way, adds {floor:.2f} ms to the p50 create; rootguard adds {added:.2f} ms, {added - floor:.2f} ms "
                             "above the floor")
    lines += ["", "The targets take turns: each level runs in rounds, and in every round each target (no webhook, the floor, "
              "rootguard) creates its share of the pods in its own namespace, in an order that rotates from round to round, so the "
              "shared machine's slow spells fall on all of them alike. "
              "Create latencies are what each client measured; webhook latencies are the API server's own "
              "apiserver_admission_webhook_admission_duration_seconds (interpolated inside its histogram buckets, whose first "
              "ends at 5 ms, so coarse). 'Inside rootguard' is the mean of rootguard's own rootguard_admission_duration_seconds over "
              "the same rounds (its sum over its count): decoding, deciding and encoding, without TLS and HTTP.", "",
              "## Footprint", ""]
    for r in foot:
        lines.append(f"- ready {r['ready_ms']} ms after process start; RSS {r['idle_rss_mb']} MB idle, "
                     f"{r['after_rss_mb']} MB after {r['requests']} requests")
    trend = rows(args.rss_trend) if args.rss_trend and os.path.exists(args.rss_trend) else []
    if len(trend) > 2:
        # The second half only: the first includes JIT warm-up and heap sizing, not a trend.
        pts = [(float(r["second"]), float(r["rss_mb"])) for r in trend[1:]][(len(trend) - 1) // 2:]
        n = len(pts)
        mx, my = sum(x for x, _ in pts) / n, sum(y for _, y in pts) / n
        var = sum((x - mx) ** 2 for x, _ in pts)
        slope = sum((x - mx) * (y - my) for x, y in pts) / var if var else 0.0
        lines.append("- RSS during that run (second: MB): " + ", ".join(f"{r['second']}: {r['rss_mb']}" for r in trend)
                     + f"; least-squares slope over the second half {slope * 60:+.2f} MB/min")
    images = rows(args.images)
    if images:
        lines += ["", "## Image lookups (rule image-user)", "",
                  "One /validate at a time against the packaged webhook and a real registry on loopback, for a pod that leaves its "
                  "user to the image. no-lookup: an image of a registry not looked up; cold: a tag never seen (manifest and config "
                  "fetched); cached: the same image again; fallback-no-answer: a registry that accepts connections and never answers "
                  "(budget 250 ms: the first requests wait it, then the registry holds its share of the lookup threads and the next "
                  "are refused at once); fallback-down-cached: a registry that refuses connections (the failure is remembered).", "",
                  "| case | requests | p50 ms | p99 ms | added p50 ms | decided without the image (budget spent) | wrong answers |",
                  "|---|---|---|---|---|---|---|"]
        for r in images:
            lines.append(f"| {r['case']} | {r['requests']} | {r['p50_ms']} | {r['p99_ms']} | {r['added_p50_ms']} | "
                         f"{r['budget_fallbacks']} | {r['wrong']} |")
    lines += ["", "## Offline audit", "", f"- {audit}", ""]
    if args.notes and os.path.exists(args.notes):
        lines += ["## What changed the numbers", "", open(args.notes).read().strip(), ""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    chart(http, args.png)


def chart(http, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    targets = sorted({r["target"] for r in http})
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for t in targets:
        rs = [r for r in http if r["target"] == t]
        xs = [int(r["concurrency"]) for r in rs]
        a.plot(xs, [float(r["rps"]) for r in rs], marker="o", label=t)
        b.plot(xs, [float(r["p99_ms"]) for r in rs], marker="o", label=t)
    a.set_title("throughput (req/s)")
    b.set_title("p99 latency (ms)")
    for ax in (a, b):
        ax.set_xlabel("connections")
        ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
    b.set_yscale("log")
    a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=100)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "parse-wrk":
        print("\t".join(parse_wrk(sys.argv[2])))
        return
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["write"])
    p.add_argument("--mode", default="full")
    p.add_argument("--http")
    p.add_argument("--footprint")
    p.add_argument("--apiserver")
    p.add_argument("--images")
    p.add_argument("--audit")
    p.add_argument("--rss-trend")
    p.add_argument("--paced")
    p.add_argument("--notes", help="Markdown appended as the 'What changed the numbers' section")
    p.add_argument("--opa", default="opa")
    p.add_argument("--out", required=True)
    p.add_argument("--png", required=True)
    write(p.parse_args())


if __name__ == "__main__":
    main()
