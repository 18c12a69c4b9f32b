#!/usr/bin/env python3
"""What rootguard's POST /validate should answer for an AdmissionReview, with the default policy.

A small, independent re-statement of rootguard's enforced rules (run-as-root, root-group,
privileged, capabilities, required-ids, and privilege-escalation for an explicit true) and of the
decisions around them (exempt system
namespaces, kinds and subresources that are let through, user-namespaced and Windows pods), used
by generate.py to label the benchmark corpus and by the benchmark to check sampled responses
(and an UPDATE that changes no field the rules read is allowed, as rootguard does).
It reports which rules fire and at which field paths; it does not reproduce the message texts.

    python3 bench/corpus/expected.py BODY.json [...]   prints one JSON line per body:
        {"file": ..., "uid": ..., "allowed": true|false, "rules": [...], "paths": [...]}

The warn-only findings (privilege-escalation where the field is unset, image-groups) never deny,
so they are left out.
"""
import json
import sys

# rootguard.exemptions.namespaces default, plus the webhook's own namespace (rootguard.namespace)
EXEMPT_NAMESPACES = {"kube-system", "kube-public", "kube-node-lease", "rootguard"}
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
RULES = ("run-as-root", "root-group", "privileged", "capabilities", "required-ids", "privilege-escalation")

# group/kind -> path of the pod spec inside the object
POD_SPEC_PATHS = {
    "/Pod": ("spec",),
    "/PodTemplate": ("template", "spec"),
    "/ReplicationController": ("spec", "template", "spec"),
    "apps/Deployment": ("spec", "template", "spec"),
    "apps/ReplicaSet": ("spec", "template", "spec"),
    "apps/StatefulSet": ("spec", "template", "spec"),
    "apps/DaemonSet": ("spec", "template", "spec"),
    "batch/Job": ("spec", "template", "spec"),
    "batch/CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def normalize_capability(name):
    n = (name or "").strip().upper()
    return n[4:] if n.startswith("CAP_") else n


def pod_spec(request):
    """(spec, path) of the object's pod spec, or (None, None) when the request is not checked."""
    kind = request.get("kind") or {}
    key = (kind.get("group") or "") + "/" + (kind.get("kind") or "")
    sub = request.get("subResource") or ""
    if sub and not (sub == "ephemeralcontainers" and key == "/Pod"):
        return None, None
    segs = POD_SPEC_PATHS.get(key)
    obj = request.get("object")
    if segs is None or not isinstance(obj, dict):
        return None, None
    node = obj
    for s in segs:
        node = node.get(s) if isinstance(node, dict) else None
        if node is None:
            return None, None
    return node, ".".join(segs)


def containers(spec, path):
    out = []
    for field in ("containers", "initContainers", "ephemeralContainers"):
        for i, c in enumerate(spec.get(field) or []):
            out.append({"name": c.get("name"), "path": f"{path}.{field}[{i}]", "sc": c.get("securityContext") or {}})
    return out


def violations(spec, path):
    """[(rule, path)] for the enforced rules, in rootguard's rule order."""
    psc = spec.get("securityContext") or {}
    cs = containers(spec, path)
    pod_field = lambda f: f"{path}.securityContext.{f}"
    out = []

    def effective(c, field):
        if c["sc"].get(field) is not None:
            return c["sc"][field], f"{c['path']}.securityContext.{field}"
        if psc.get(field) is not None:
            return psc[field], pod_field(field)
        return None, f"{c['path']}.securityContext.{field}"

    def add(rule, p):
        if (rule, p) not in out:
            out.append((rule, p))

    if not cs:
        return out  # rules check containers, and pod fields on their behalf
    windows = (spec.get("os") or {}).get("name") == "windows"  # exactly, as the API server spells it
    if windows and spec.get("hostUsers") is not False:
        # run-as-root on Windows: ContainerAdministrator (any case) is root; else runAsNonRoot must be true
        missing = []
        for c in cs:
            own = (c["sc"].get("windowsOptions") or {}).get("runAsUserName")
            user = own if own is not None else (psc.get("windowsOptions") or {}).get("runAsUserName")
            non_root, p = effective(c, "runAsNonRoot")
            if user is not None and user.lower() == "containeradministrator":
                add("run-as-root", f"{c['path']}.securityContext.windowsOptions.runAsUserName" if own is not None
                    else pod_field("windowsOptions.runAsUserName"))
            elif non_root is None:
                missing.append(c)
            elif non_root is not True:
                add("run-as-root", p)
        if missing and len(missing) == len(cs):
            add("run-as-root", pod_field("runAsNonRoot"))
        else:
            for c in missing:
                add("run-as-root", f"{c['path']}.securityContext.runAsNonRoot")
    if not windows:
        # run-as-root (skipped for user-namespaced pods)
        if spec.get("hostUsers") is not False:
            undecided = []
            for c in cs:
                uid, p = effective(c, "runAsUser")
                if uid is not None:
                    if uid == 0:
                        add("run-as-root", p)
                elif effective(c, "runAsNonRoot")[0] is not True:
                    undecided.append(c)
            if undecided and len(undecided) == len(cs) and not any(c["sc"].get("runAsNonRoot") is not None for c in undecided):
                add("run-as-root", pod_field("runAsUser"))
            else:
                for c in undecided:
                    add("run-as-root", f"{c['path']}.securityContext.runAsUser")
        # root-group
        for c in cs:
            gid, p = effective(c, "runAsGroup")
            if gid == 0:
                add("root-group", p)
        if psc.get("fsGroup") == 0:
            add("root-group", pod_field("fsGroup"))
        for i, g in enumerate(psc.get("supplementalGroups") or []):
            if g == 0:
                add("root-group", pod_field(f"supplementalGroups[{i}]"))
    # privileged (also for Windows pods)
    for c in cs:
        if c["sc"].get("privileged") is True:
            add("privileged", f"{c['path']}.securityContext.privileged")
        if (c["sc"].get("windowsOptions") or {}).get("hostProcess") is True:
            add("privileged", f"{c['path']}.securityContext.windowsOptions.hostProcess")
    if (psc.get("windowsOptions") or {}).get("hostProcess") is True:
        add("privileged", pod_field("windowsOptions.hostProcess"))
    if not windows:
        # capabilities
        for c in cs:
            for i, name in enumerate((c["sc"].get("capabilities") or {}).get("add") or []):
                if normalize_capability(name) not in ALLOWED_CAPABILITIES:
                    add("capabilities", f"{c['path']}.securityContext.capabilities.add[{i}]")
        # required-ids
        for field in ("runAsUser", "runAsGroup"):
            missing = [c for c in cs if effective(c, field)[0] is None]
            if missing and len(missing) == len(cs):
                add("required-ids", pod_field(field))
            else:
                for c in missing:
                    add("required-ids", f"{c['path']}.securityContext.{field}")
        if psc.get("fsGroup") is None:
            add("required-ids", pod_field("fsGroup"))
        # privilege-escalation: an explicit true is enforced (unset is only a warning)
        for c in cs:
            if c["sc"].get("allowPrivilegeEscalation") is True:
                add("privilege-escalation", f"{c['path']}.securityContext.allowPrivilegeEscalation")
    return out


def fingerprint(spec):
    """What any rule reads: rootguard allows an UPDATE that leaves it unchanged without evaluation."""
    return (spec.get("securityContext"), spec.get("os"), spec.get("hostUsers"),
            [(f, c.get("name"), c.get("image"), c.get("securityContext"))
             for f in ("containers", "initContainers", "ephemeralContainers") for c in spec.get(f) or []])


def unchanged_update(request):
    if request.get("operation") != "UPDATE" or not isinstance(request.get("oldObject"), dict):
        return False
    new, _ = pod_spec(request)
    old, _ = pod_spec({**request, "object": request["oldObject"]})
    return new is not None and old is not None and fingerprint(old) == fingerprint(new)


def expect(review):
    """{"allowed", "rules", "paths"} for an AdmissionReview dict."""
    request = review.get("request") or {}
    namespace = request.get("namespace") or ((request.get("object") or {}).get("metadata") or {}).get("namespace") or ""
    spec, path = pod_spec(request)
    if spec is None or namespace in EXEMPT_NAMESPACES or unchanged_update(request):
        return {"allowed": True, "rules": [], "paths": []}
    found = violations(spec, path)
    return {"allowed": not found, "rules": sorted({r for r, _ in found}), "paths": [p for _, p in found]}


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for f in argv[1:]:
        with open(f, encoding="utf-8") as fh:
            review = json.load(fh)
        e = expect(review)
        print(json.dumps({"file": f, "uid": (review.get("request") or {}).get("uid"), **e}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
