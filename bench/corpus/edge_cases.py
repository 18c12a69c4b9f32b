#!/usr/bin/env python3
"""Writes small AdmissionReview bodies for the corners of rootguard's semantics, in the same layout
as generate.py (one JSON file each, index.tsv and index.json with the expected decision), for
checking that another implementation (bench/targets/opa/policy.rego) answers exactly as rootguard:

    python3 bench/corpus/edge_cases.py OUTDIR
    python3 bench/targets/compare.py --cacert CA OUTDIR/index.json https://127.0.0.1:8443/validate https://127.0.0.1:8181/

Covers: pod values inherited by several containers (merged findings), container overrides,
empty and missing container lists, Windows pods and hostProcess, capability spellings and null
entries, runAsNonRoot false/true mixes, subresources, generateName and namespace fallbacks,
exempt namespaces, every workload kind and an unknown group, objects without a pod template,
user namespaces, supplemental groups, unnamed containers, UPDATEs with and without security
changes, and explicit nulls. Not meant for throughput: the bodies are tiny.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expected  # noqa: E402


def cases():
    out = []

    def review(kind, group, obj, ns="default", name="x", sub=None, op="CREATE", old=None):
        req = {"uid": f"edge-{len(out) + 1:03d}", "kind": {"group": group, "version": "v1", "kind": kind},
               "operation": op, "namespace": ns, "object": obj}
        if name is not None:
            req["name"] = name
        if sub:
            req["subResource"] = sub
        if old is not None:
            req["oldObject"] = old
        out.append({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})

    def pod(spec, meta=None):
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta or {"name": "p"}, "spec": spec}

    def c(name, **sc):
        return {"name": name, "image": "i", **({"securityContext": sc} if sc else {})}

    ids = {"runAsUser": 1, "runAsGroup": 1, "fsGroup": 1}
    review("Pod", "", pod({"securityContext": {"runAsUser": 0, "runAsGroup": 1, "fsGroup": 1},
                           "containers": [c("a"), c("b", runAsUser=1000), c("c"), c("d", runAsUser=0)]}))
    review("Pod", "", pod({"securityContext": {"runAsUser": 0, "runAsGroup": 0, "fsGroup": 0},
                           "containers": [c("a", runAsUser=0, runAsGroup=0), c("b"), c("c")], "initContainers": [c("i")]}))
    review("Pod", "", pod({"containers": []}))
    review("Pod", "", pod({}))
    review("Pod", "", pod({"os": {"name": "Windows"}, "securityContext": {"windowsOptions": {"hostProcess": True}},
                           "containers": [c("w", windowsOptions={"hostProcess": True}, privileged=True, runAsUser=0)]}))
    review("Pod", "", pod({"securityContext": ids, "containers": [c("a", capabilities={"add": [
        None, "ALL", " cap_net_bind_service ", "Net_Bind_Service", "CAP_SYS_ADMIN", ""]})]}))
    review("Pod", "", pod({"securityContext": {"runAsGroup": 1, "fsGroup": 1}, "containers": [c("a"), c("b", runAsNonRoot=False)]}))
    review("Pod", "", pod({"securityContext": {"runAsGroup": 1, "fsGroup": 1},
                           "containers": [c("a"), c("b", runAsUser=5), c("c", runAsNonRoot=True)]}))
    review("Pod", "", pod({"securityContext": {"runAsGroup": 1, "fsGroup": 1, "runAsNonRoot": False}, "containers": [c("a"), c("b")]}))
    review("Pod", "", pod({"containers": [c("a", privileged=True)]}), sub="status")
    review("Pod", "", pod({"securityContext": ids, "containers": [c("a")], "ephemeralContainers": [c("dbg", privileged=True)]}),
           sub="ephemeralcontainers")
    review("Pod", "", pod({"containers": [c("a")]}, {"generateName": "gen-", "namespace": "team"}), ns="", name=None)
    review("Pod", "", pod({"containers": [c("a")]}, {"generateName": "gen-"}), ns="kube-system", name="")
    review("Pod", "", pod({"containers": [c("a")]}, {"name": "z", "namespace": "kube-public"}), ns="", name="")
    for kind, group, wrap in [
            ("ReplicaSet", "apps", lambda s: {"spec": {"template": {"spec": s}}}),
            ("ReplicationController", "", lambda s: {"spec": {"template": {"spec": s}}}),
            ("PodTemplate", "", lambda s: {"template": {"spec": s}}),
            ("CronJob", "batch", lambda s: {"spec": {"jobTemplate": {"spec": {"template": {"spec": s}}}}}),
            ("Deployment", "apps", lambda s: {"spec": {"template": {"spec": s}}}),
            ("Deployment", "extensions", lambda s: {"spec": {"template": {"spec": s}}})]:
        review(kind, group, {"apiVersion": "x", "kind": kind, "metadata": {"name": "w"},
                             **wrap({"containers": [c("a", runAsUser=0, privileged=True)]})})
    review("ConfigMap", "", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}})
    review("Deployment", "apps", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}})
    review("Pod", "", pod({"hostUsers": False, "securityContext": {"runAsUser": 0, "runAsGroup": 0, "fsGroup": 1}, "containers": [c("a")]}))
    review("Pod", "", pod({"securityContext": {**ids, "supplementalGroups": [0, 5, 0]},
                           "containers": [c("a", privileged=True, windowsOptions={"hostProcess": True}),
                                          c("b", privileged=False, allowPrivilegeEscalation=True)]}))
    review("Pod", "", pod({"containers": [c("a", runAsUser=0)]}), ns="rootguard")
    review("Pod", "", pod({"securityContext": ids, "containers": [{"image": "noname"}, c("b", runAsUser=0)]}))
    root = pod({"securityContext": {"runAsUser": 0}, "containers": [c("a")]})
    review("Pod", "", root, op="UPDATE", old=root)
    review("Pod", "", root, op="UPDATE", old=pod({"securityContext": {"runAsUser": 1}, "containers": [c("a")]}))
    review("Pod", "", pod({"securityContext": {"runAsUser": 1, "runAsGroup": 2},
                           "containers": [c("a", runAsGroup=0), c("b"), c("c", runAsUser=0)], "initContainers": [c("i", runAsUser=None)]}))
    review("Pod", "", pod({"securityContext": None, "containers": [{"name": "a", "securityContext": None}]}))
    return out


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    outdir = argv[0]
    os.makedirs(outdir, exist_ok=True)
    entries = []
    for i, review in enumerate(cases()):
        kind = review["request"]["kind"]["kind"]
        data = json.dumps(review, separators=(",", ":")).encode()
        fname = f"edge-{i + 1:03d}-{kind.lower()}.json"
        with open(os.path.join(outdir, fname), "wb") as fh:
            fh.write(data)
        entries.append({"file": fname, "uid": review["request"]["uid"], "kind": kind, "case": "edge", "bytes": len(data),
                        **expected.expect(review)})
    with open(os.path.join(outdir, "index.tsv"), "w", encoding="utf-8") as fh:
        fh.write("file\tallowed\tuid\tkind\tcase\tbytes\trules\n")
        for e in entries:
            fh.write(f"{e['file']}\t{str(e['allowed']).lower()}\t{e['uid']}\t{e['kind']}\t{e['case']}\t{e['bytes']}\t"
                     f"{','.join(e['rules']) or '-'}\n")
    with open(os.path.join(outdir, "index.json"), "w", encoding="utf-8") as fh:
        json.dump({"count": len(entries), "bodies": entries}, fh, indent=1)
        fh.write("\n")
    print(f"edge_cases.py: wrote {len(entries)} bodies to {outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
