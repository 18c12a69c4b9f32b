#!/usr/bin/env python3
"""Writes a deterministic corpus of admission.k8s.io/v1 AdmissionReview request bodies for the
admission benchmark.

    python3 bench/corpus/generate.py OUTDIR [--count N] [--seed S]

Writes OUTDIR/NNNN-<kind>-<case>.json (one compact JSON body each, as the API server sends them)
and two indexes listing them in order:

  OUTDIR/index.tsv   header line, then: file<TAB>allowed<TAB>uid<TAB>kind<TAB>case<TAB>bytes<TAB>rules
                     (file relative to OUTDIR; allowed is true/false; rules comma-separated or -)
                     read by bench/targets/post.lua
  OUTDIR/index.json  {"count", "seed", "bodies": [{file, uid, kind, case, bytes, allowed, rules, paths}]}

"allowed" and "rules" are what rootguard's POST /validate must answer with the default policy,
as computed by expected.py (which also checks the case builders here: a compliant case that
expected.py would deny stops the generator). Cases: compliant, root, root-group, privileged,
capabilities, missing-ids, large (20 containers, half of them with one violation) and edge
(exempt namespace, user namespaces, Windows, allowed capability spellings, ephemeral
containers). Kinds: Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, all CREATE. Every
body has its own request uid. The same --count and --seed give byte-identical files.
"""
import argparse
import json
import os
import random
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expected  # noqa: E402

KINDS = {
    # kind: (group, version, resource)
    "Pod": ("", "v1", "pods"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
}
# One cycle of 25 cases; the corpus repeats it and shuffles the order.
CASE_CYCLE = (["compliant"] * 7 + ["root"] * 4 + ["root-group"] * 2 + ["privileged"] * 3 + ["capabilities"] * 3
              + ["missing-ids"] * 3 + ["large"] * 2 + ["edge"])
NAMESPACES = ["default", "team-a", "team-b", "payments", "ci", "monitoring"]
USERS = ["alice@example.com", "bob@example.com", "system:serviceaccount:ci:deployer",
         "system:serviceaccount:argocd:argocd-application-controller"]
IMAGES = ["registry.example.com/shop/api:1.4.2", "registry.example.com/shop/web:2.0.1", "nginxinc/nginx-unprivileged:1.25",
          "registry.example.com/base/busybox:1.36", "ghcr.io/example/worker@sha256:" + "ab" * 32,
          "registry.example.com/platform/envoy:v1.29.1", "quay.io/example/exporter:0.15.0"]
BAD_CAPS = ["SYS_ADMIN", "NET_ADMIN", "cap_sys_ptrace", "ALL", "NET_RAW", "SYS_TIME"]


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    # ---- building blocks -------------------------------------------------------------------

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def word(self):
        return self.rng.choice(["api", "web", "worker", "cache", "sidecar", "proxy", "metrics", "batch", "sync", "agent"])

    def container(self, name, ids_at_container=False, init=False):
        r = self.rng
        c = {
            "name": name,
            "image": r.choice(IMAGES),
            "imagePullPolicy": "IfNotPresent",
            "resources": {"requests": {"cpu": f"{r.choice([50, 100, 250])}m", "memory": f"{r.choice([64, 128, 256])}Mi"},
                          "limits": {"cpu": "1", "memory": f"{r.choice([256, 512])}Mi"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
        }
        if init:
            c["command"] = ["/bin/sh", "-c", "until nslookup db; do sleep 2; done"]
        else:
            c["ports"] = [{"name": "http", "containerPort": r.choice([8080, 8443, 9090]), "protocol": "TCP"}]
            c["env"] = [{"name": f"VAR_{i}", "value": f"value-{r.randrange(10**6)}"} for i in range(r.randint(1, 6))]
            c["env"].append({"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}})
            c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"}, "periodSeconds": 10,
                                   "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
            c["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "config", "mountPath": "/etc/app", "readOnly": True}]
        if ids_at_container:
            c["securityContext"].update({"runAsUser": 10000 + r.randrange(1000), "runAsGroup": 10000 + r.randrange(1000),
                                         "runAsNonRoot": True})
        return c

    def pod_spec(self, n_containers, n_init=0, ids_at_container=False):
        r = self.rng
        spec = {
            "containers": [self.container(f"{self.word()}-{i}", ids_at_container) for i in range(n_containers)],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 10000 + r.randrange(1000), "seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "config", "configMap": {"name": "app-config", "defaultMode": 420}}],
        }
        if not ids_at_container:
            spec["securityContext"].update({"runAsUser": 10000 + r.randrange(1000), "runAsGroup": 10000 + r.randrange(1000),
                                            "runAsNonRoot": True})
        if n_init:
            spec["initContainers"] = [self.container(f"init-{i}", ids_at_container, init=True) for i in range(n_init)]
        return spec

    def any_container(self, spec):
        lists = [spec["containers"]] + ([spec["initContainers"]] if spec.get("initContainers") else [])
        return self.rng.choice(self.rng.choice(lists))

    def base(self, large=False):
        r = self.rng
        if large:
            return self.pod_spec(20, n_init=r.choice([0, 0, 1]), ids_at_container=r.random() < 0.3)
        return self.pod_spec(r.choice([1, 1, 1, 2, 2, 3]), n_init=r.choice([0, 0, 0, 1]), ids_at_container=r.random() < 0.25)

    # ---- violations, each applied to a compliant spec ----------------------------------------

    def make_root(self, spec):
        psc, r = spec["securityContext"], self.rng
        v = r.randrange(4)
        if v == 0:  # pod-level UID 0
            psc["runAsUser"] = 0
            psc.pop("runAsNonRoot", None)
            for c in spec["containers"] + spec.get("initContainers", []):
                c["securityContext"].pop("runAsUser", None)
                c["securityContext"].pop("runAsNonRoot", None)
        elif v == 1:  # one container overrides to UID 0
            c = self.any_container(spec)
            c["securityContext"]["runAsUser"] = 0
            c["securityContext"].pop("runAsNonRoot", None)
        elif v == 2:  # no UID anywhere and no runAsNonRoot: the image decides (also required-ids)
            psc.pop("runAsUser", None)
            psc.pop("runAsNonRoot", None)
            for c in spec["containers"] + spec.get("initContainers", []):
                c["securityContext"].pop("runAsUser", None)
                c["securityContext"].pop("runAsNonRoot", None)
        else:  # a container turns runAsNonRoot off and has no UID of its own or from the pod
            psc.pop("runAsUser", None)
            for c in spec["containers"] + spec.get("initContainers", []):
                c["securityContext"].pop("runAsUser", None)
            self.any_container(spec)["securityContext"]["runAsNonRoot"] = False

    def make_root_group(self, spec):
        psc, r = spec["securityContext"], self.rng
        v = r.randrange(4)
        if v == 0 and "runAsGroup" in psc:
            psc["runAsGroup"] = 0
        elif v == 1:
            psc["fsGroup"] = 0
        elif v == 2:
            psc["supplementalGroups"] = [r.randrange(1000, 2000), 0]
        else:
            self.any_container(spec)["securityContext"]["runAsGroup"] = 0

    def make_privileged(self, spec):
        c = self.any_container(spec)
        c["securityContext"]["privileged"] = True
        c["securityContext"]["allowPrivilegeEscalation"] = True
        if self.rng.random() < 0.3:
            c["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN"]}

    def make_capabilities(self, spec):
        c = self.any_container(spec)
        add = [self.rng.choice(BAD_CAPS)]
        if self.rng.random() < 0.5:
            add.insert(0, "NET_BIND_SERVICE")
        c["securityContext"]["capabilities"] = {"add": add, "drop": ["ALL"]}

    def make_missing_ids(self, spec):
        psc, r = spec["securityContext"], self.rng
        v = r.randrange(3)
        if v == 0:  # runAsNonRoot: true keeps run-as-root quiet, but no UID is set
            psc.pop("runAsUser", None)
            psc["runAsNonRoot"] = True
            for c in spec["containers"] + spec.get("initContainers", []):
                c["securityContext"].pop("runAsUser", None)
        elif v == 1:
            psc.pop("fsGroup", None)
        else:  # one container lacks a GID
            psc.pop("runAsGroup", None)
            for c in spec["containers"] + spec.get("initContainers", []):
                c["securityContext"].setdefault("runAsGroup", 10000)
            self.any_container(spec)["securityContext"].pop("runAsGroup", None)

    def violate(self, spec):
        self.rng.choice([self.make_root, self.make_root_group, self.make_privileged, self.make_capabilities,
                         self.make_missing_ids])(spec)

    # ---- objects and reviews ------------------------------------------------------------------

    def workload(self, kind, name, namespace, spec):
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}
        meta = {"name": name, "namespace": namespace, "labels": dict(labels)}
        template = {"metadata": {"labels": dict(labels)}, "spec": spec}
        group, version, _ = KINDS[kind]
        api = f"{group}/{version}" if group else version
        if kind == "Pod":
            obj = {"metadata": meta, "spec": spec}
        elif kind in ("Deployment", "StatefulSet", "DaemonSet"):
            s = {"selector": {"matchLabels": dict(labels)}, "template": template}
            if kind != "DaemonSet":
                s["replicas"] = self.rng.choice([1, 2, 3, 5])
            if kind == "StatefulSet":
                s["serviceName"] = name
            obj = {"metadata": meta, "spec": s}
        elif kind == "Job":
            spec["restartPolicy"] = "Never"
            obj = {"metadata": meta, "spec": {"backoffLimit": 4, "template": template}}
        else:  # CronJob
            spec["restartPolicy"] = "OnFailure"
            obj = {"metadata": meta, "spec": {"schedule": f"{self.rng.randrange(60)} * * * *", "concurrencyPolicy": "Forbid",
                                              "jobTemplate": {"spec": {"backoffLimit": 2, "template": template}}}}
        obj = {"apiVersion": api, "kind": kind, **obj}
        if self.rng.random() < 0.3:  # kubectl apply leaves the whole object in an annotation
            meta["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(obj, separators=(",", ":")) + "\n"}
        return obj

    def review(self, kind, namespace, obj, sub_resource=None):
        group, version, resource = KINDS[kind]
        gvk = {"group": group, "version": version, "kind": kind}
        gvr = {"group": group, "version": version, "resource": resource}
        user = self.rng.choice(USERS)
        req = {
            "uid": self.uid(),
            "kind": gvk, "resource": gvr, "requestKind": dict(gvk), "requestResource": dict(gvr),
            "name": obj["metadata"]["name"], "namespace": namespace, "operation": "CREATE",
            "userInfo": {"username": user, "uid": self.uid(), "groups": ["system:authenticated"]},
            "object": obj, "oldObject": None, "dryRun": False,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-client-side-apply"},
        }
        if sub_resource:
            req["subResource"] = sub_resource
        return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": req}

    def case(self, case, kind):
        """(review, intended allowed or None when it depends on the random draw)."""
        r = self.rng
        namespace = r.choice(NAMESPACES)
        name = f"{self.word()}-{r.randrange(16**6):06x}"
        intended = False
        if case == "compliant":
            spec = self.base()
            if r.random() < 0.3:  # allowed spellings of the allowed capability
                self.any_container(spec)["securityContext"]["capabilities"]["add"] = [
                    r.choice(["NET_BIND_SERVICE", "net_bind_service", "CAP_NET_BIND_SERVICE", "cap_net_bind_service"])]
            intended = True
        elif case == "large":
            spec = self.base(large=True)
            if r.random() < 0.5:
                intended = True
            else:
                self.violate(spec)
        elif case == "edge":
            v = r.randrange(6)
            spec = self.base()
            if v == 0:  # a root pod in an exempt namespace
                namespace = r.choice(sorted(expected.EXEMPT_NAMESPACES))
                self.make_root(spec)
                intended = True
            elif v == 1:  # UID 0 in a user namespace is allowed; the other rules still apply
                spec["hostUsers"] = False
                spec["securityContext"]["runAsUser"] = 0
                spec["securityContext"].pop("runAsNonRoot", None)
                for c in spec["containers"] + spec.get("initContainers", []):
                    c["securityContext"].pop("runAsUser", None)
                    c["securityContext"].pop("runAsNonRoot", None)
                intended = True
            elif v == 2:  # Windows pod: runAsNonRoot is all run-as-root asks of it; no Linux identity fields
                spec = {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": True},
                        "containers": [{"name": "win", "image": "mcr.microsoft.com/windows/nanoserver:ltsc2022"}]}
                intended = True
            elif v == 3:  # Windows host process
                spec = {"os": {"name": "windows"}, "securityContext": {"windowsOptions": {"hostProcess": True, "runAsUserName": "NT AUTHORITY\\SYSTEM"}},
                        "hostNetwork": True, "containers": [{"name": "win", "image": "mcr.microsoft.com/windows/nanoserver:ltsc2022"}]}
            elif v == 4:  # a privileged ephemeral (debug) container on a Pod
                kind = "Pod"
                spec["ephemeralContainers"] = [{"name": "debugger", "image": "registry.example.com/base/busybox:1.36",
                                                "stdin": True, "tty": True, "securityContext": {"privileged": True}}]
            else:  # root in an init container only
                c = self.container("init-root", init=True)
                c["securityContext"]["runAsUser"] = 0
                spec.setdefault("initContainers", []).append(c)
        else:
            spec = self.base()
            {"root": self.make_root, "root-group": self.make_root_group, "privileged": self.make_privileged,
             "capabilities": self.make_capabilities, "missing-ids": self.make_missing_ids}[case](spec)
        return kind, self.review(kind, namespace, self.workload(kind, name, namespace, spec)), intended


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20240601)
    a = ap.parse_args(argv)
    if a.count < 1:
        ap.error("--count must be at least 1")
    g = Gen(a.seed)
    cases = (CASE_CYCLE * (a.count // len(CASE_CYCLE) + 1))[:a.count]
    g.rng.shuffle(cases)
    kinds = list(KINDS)
    os.makedirs(a.outdir, exist_ok=True)
    entries, uids = [], set()
    for i, case in enumerate(cases):
        kind, review, intended = g.case(case, kinds[g.rng.randrange(len(kinds))])
        e = expected.expect(review)
        if intended and not e["allowed"]:
            raise SystemExit(f"generate.py: bug: case {case} #{i} meant to be allowed but expected.py denies it: {e}")
        if case not in ("compliant", "large", "edge") and e["allowed"]:
            raise SystemExit(f"generate.py: bug: case {case} #{i} meant to be denied but expected.py allows it")
        uid = review["request"]["uid"]
        assert uid not in uids
        uids.add(uid)
        data = json.dumps(review, separators=(",", ":")).encode()
        fname = f"{i:04d}-{kind.lower()}-{case}.json"
        with open(os.path.join(a.outdir, fname), "wb") as fh:
            fh.write(data)
        entries.append({"file": fname, "uid": uid, "kind": kind, "case": case, "bytes": len(data), **e})
    with open(os.path.join(a.outdir, "index.tsv"), "w", encoding="utf-8") as fh:
        fh.write("file\tallowed\tuid\tkind\tcase\tbytes\trules\n")
        for e in entries:
            fh.write(f"{e['file']}\t{str(e['allowed']).lower()}\t{e['uid']}\t{e['kind']}\t{e['case']}\t{e['bytes']}\t"
                     f"{','.join(e['rules']) or '-'}\n")
    with open(os.path.join(a.outdir, "index.json"), "w", encoding="utf-8") as fh:
        json.dump({"count": len(entries), "seed": a.seed, "bodies": entries}, fh, indent=1)
        fh.write("\n")
    allowed = sum(e["allowed"] for e in entries)
    total = sum(e["bytes"] for e in entries)
    print(f"generate.py: wrote {len(entries)} bodies to {a.outdir} ({allowed} allowed, {len(entries) - allowed} denied, "
          f"{total} bytes, largest {max(e['bytes'] for e in entries)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
