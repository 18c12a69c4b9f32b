#!/usr/bin/env python3
"""Checks admission targets against the corpus, body by body, over one keep-alive HTTPS connection
per target.

    python3 bench/targets/compare.py --cacert CA INDEX URL [URL2]

INDEX is an index.json from bench/corpus/generate.py (or edge_cases.py). Every body is POSTed to
URL (e.g. https://127.0.0.1:8443/validate for rootguard, https://127.0.0.1:8181/ for the OPA
target); each answer must be HTTP 200 with an AdmissionReview whose response.uid is the request
uid and whose response.allowed is the index's expected decision. With URL2, the two answers must
also be the same JSON (rootguard and bench/targets/opa/policy.rego give identical answers,
messages, warnings and auditAnnotations included). Prints a summary; exits 1 on any difference.
"""
import argparse
import http.client
import json
import os
import ssl
import sys
import urllib.parse


def connect(url, ctx):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "https":
        raise SystemExit(f"compare.py: {url}: only https URLs")
    return http.client.HTTPSConnection(u.hostname, u.port or 443, context=ctx, timeout=30), u.path or "/"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cacert", required=True, help="CA bundle that signed the targets' certificate")
    ap.add_argument("--show", type=int, default=3, help="differences to print in full (default 3)")
    ap.add_argument("index")
    ap.add_argument("url")
    ap.add_argument("url2", nargs="?")
    a = ap.parse_args(argv)
    ctx = ssl.create_default_context(cafile=a.cacert)
    targets = [connect(u, ctx) for u in [a.url] + ([a.url2] if a.url2 else [])]
    with open(a.index, encoding="utf-8") as fh:
        bodies = json.load(fh)["bodies"]
    base = os.path.dirname(os.path.abspath(a.index))
    problems = identical = 0

    def report(msg):
        nonlocal problems
        problems += 1
        if problems <= a.show:
            print(msg)

    for e in bodies:
        with open(os.path.join(base, e["file"]), "rb") as fh:
            body = fh.read()
        answers = []
        for (conn, path), url in zip(targets, [a.url, a.url2]):
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                report(f"{e['file']}: {url} answered HTTP {r.status}: {data[:300]!r}")
                answers.append(None)
                continue
            review = json.loads(data)
            resp = review.get("response") or {}
            if resp.get("uid") != e["uid"] or resp.get("allowed") != e["allowed"]:
                report(f"{e['file']}: {url} answered uid {resp.get('uid')} allowed {resp.get('allowed')}, "
                       f"expected uid {e['uid']} allowed {e['allowed']} (rules {e.get('rules')})")
            answers.append(review)
        if len(answers) == 2 and None not in answers:
            if answers[0] == answers[1]:
                identical += 1
            else:
                report(f"{e['file']}: answers differ\n  {a.url}: {json.dumps(answers[0])[:2000]}\n"
                       f"  {a.url2}: {json.dumps(answers[1])[:2000]}")
    line = f"compare.py: {len(bodies)} bodies, {problems} problems"
    if a.url2:
        line += f", {identical} identical answers"
    print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
