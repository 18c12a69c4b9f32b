# rootguard's admission policy in Rego (OPA v1 syntax), for the admission benchmark's OPA target.
#
# Start (OPA from provision/install-opa.sh; cert and key e.g. from certs/generate.sh):
#
#   opa run --server --addr 127.0.0.1:PORT \
#     --tls-cert-file tls.crt --tls-private-key-file tls.key \
#     --set default_decision=rootguard/main \
#     --skip-version-check --log-level error \
#     bench/targets/opa/policy.rego
#
# Then POST the same AdmissionReview bodies as to rootguard's /validate, to path / :
#
#   curl --cacert ca.crt -H 'Content-Type: application/json' --data-binary @review.json https://127.0.0.1:PORT/
#
# OPA's query endpoint (POST /) takes the raw body as input and answers with the value of the
# default decision, data.rootguard.main, which is a complete AdmissionReview:
#   {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
#    "response": {"uid": <request.uid>, "allowed": ..., "status": {"code": 403, ...}, ...}}
# (The Data API, POST /v1/data/rootguard/main with {"input": <AdmissionReview>}, gives the same
# object wrapped in {"result": ...}.) --skip-version-check keeps OPA off the network;
# --log-level error turns off OPA's two access-log lines per request.
#
# Semantics follow rootguard's /validate with the default configuration (mode enforce, allowlist
# [NET_BIND_SERVICE], exempt namespaces kube-system, kube-public, kube-node-lease and rootguard):
#   run-as-root   effective runAsUser 0, or (no effective runAsUser and effective runAsNonRoot
#                 not true); on Windows pods an effective runAsNonRoot not true, or an effective
#                 windowsOptions.runAsUserName ContainerAdministrator (any case); skipped for
#                 hostUsers: false
#   root-group    effective runAsGroup 0, pod fsGroup 0, 0 in pod supplementalGroups
#   privileged    securityContext.privileged true (and windowsOptions.hostProcess true)
#   capabilities  capabilities.add entries outside the allowlist (case-insensitive, CAP_ optional)
#   required-ids  effective runAsUser and runAsGroup for every container, pod fsGroup
#   privilege-escalation  allowPrivilegeEscalation true (enforce), or unset (warn)
#   image-groups  warn only: pod supplementalGroupsPolicy not Strict
# "Effective" means the container's securityContext value, else the pod's. Rules cover
# containers, initContainers and ephemeralContainers of Pods and of the pod templates of
# Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController and
# PodTemplate, and pod fields on their behalf (a pod without containers has no violation). Windows
# pods (spec.os.name exactly windows) are only checked by run-as-root and privileged. Findings at the
# same field path are merged into one naming every container, and the violation lines, the denial
# message ("rootguard denied <Kind> <ns>/<name>: N violations" then "- [rule] path: message"),
# warnings and auditAnnotations match rootguard's, as does the shortcut that allows an UPDATE
# whose security fields did not change. Not modelled: rootguard's namespace-label modes and user
# exemptions (they need a cluster or configuration).
package rootguard

allowed_capabilities := {"NET_BIND_SERVICE"}

# rootguard.exemptions.namespaces default, plus the webhook's own namespace (rootguard.namespace).
exempt_namespaces := {"kube-system", "kube-public", "kube-node-lease", "rootguard"}

# What messages suggest (rootguard's mutation defaults).
suggested_id := 10000

# group/kind -> path of the pod spec inside the object
pod_spec_paths := {
	"/Pod": ["spec"],
	"/PodTemplate": ["template", "spec"],
	"/ReplicationController": ["spec", "template", "spec"],
	"apps/Deployment": ["spec", "template", "spec"],
	"apps/ReplicaSet": ["spec", "template", "spec"],
	"apps/StatefulSet": ["spec", "template", "spec"],
	"apps/DaemonSet": ["spec", "template", "spec"],
	"batch/Job": ["spec", "template", "spec"],
	"batch/CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
}

# ---- the decision ---------------------------------------------------------------------------

main := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": object.union({"uid": input.request.uid}, decision),
}

decision := {"allowed": true} if {
	not handled
} else := {"allowed": true} if {
	unchanged_update
} else := {"allowed": true, "auditAnnotations": {"exempt": sprintf("namespace %s is exempt", [namespace])}} if {
	namespace in exempt_namespaces
} else := {"allowed": true} if {
	not spec # a kind we check, but without a pod template
} else := {"allowed": true} if {
	count(violations) == 0
} else := object.union_n([{"allowed": true}, warnings_part, annotations_part]) if {
	count(enforced) == 0
} else := object.union_n([
	{"allowed": false, "status": {
		"apiVersion": "v1",
		"kind": "Status",
		"code": 403,
		"reason": "Forbidden",
		"status": "Failure",
		"message": denial_message,
	}},
	warnings_part,
	annotations_part,
])

denial_message := sprintf("rootguard denied %s %s: %d %s\n%s", [
	input.request.kind.kind,
	qualified_name,
	count(enforced),
	plural(count(enforced), "violation"),
	concat("\n", [concat("", ["- ", line(v)]) | some v in enforced]),
])

plural(1, word) := word

plural(n, word) := concat("", [word, "s"]) if n != 1

line(v) := sprintf("[%s] %s: %s", [v.rule, v.path, v.message])

enforced := [v | some v in violations; v.action == "enforce"]

warnings := [line(v) | some v in violations; v.action == "warn"]

warnings_part := {"warnings": warnings} if {
	count(warnings) > 0
} else := {}

annotations_part := {"auditAnnotations": {
	"mode": "enforce",
	"violations": concat("; ", [sprintf("%s(%s) %s", [v.rule, v.action, v.path]) | some v in violations]),
}}

# ---- the request ----------------------------------------------------------------------------

req := input.request

string_or_empty(x) := x if {
	is_string(x)
} else := ""

# As Java prints a missing string in a message.
text_or_null(x) := x if {
	is_string(x)
} else := "null"

kind_key := concat("/", [string_or_empty(req.kind.group), req.kind.kind])

subresource := string_or_empty(object.get(req, "subResource", ""))

subresource_ok if subresource == ""

subresource_ok if {
	subresource == "ephemeralcontainers"
	kind_key == "/Pod"
}

# A kind and subresource rootguard checks, with an object.
handled if {
	subresource_ok
	pod_spec_paths[kind_key]
	is_object(req.object)
}

spec_segments := pod_spec_paths[kind_key]

spec := s if {
	handled
	s := object.get(req.object, spec_segments, null)
	is_object(s)
}

spec_path := concat(".", spec_segments)

request_namespace := string_or_empty(object.get(req, "namespace", ""))

namespace := request_namespace if {
	request_namespace != ""
} else := string_or_empty(object.get(req.object, ["metadata", "namespace"], ""))

display_name := req.name if {
	is_string(req.name)
	req.name != ""
} else := n if {
	n := object.get(req.object, ["metadata", "name"], "")
	is_string(n)
	n != ""
} else := concat("", [n, "*"]) if {
	n := object.get(req.object, ["metadata", "generateName"], null)
	is_string(n)
} else := ""

qualified_name := display_name if {
	request_namespace == ""
} else := concat("/", [request_namespace, display_name])

# An UPDATE that changes nothing the rules read is allowed without evaluation, as rootguard does
# (e.g. scaling a Deployment that predates the policy).
unchanged_update if {
	req.operation == "UPDATE"
	old_spec := object.get(req.oldObject, spec_segments, null)
	is_object(old_spec)
	fingerprint(old_spec) == fingerprint(spec)
}

# What any rule reads: pod securityContext, os, hostUsers, and each container's list, name,
# image and securityContext.
fingerprint(s) := {
	"securityContext": object.get(s, "securityContext", null),
	"os": object.get(s, "os", null),
	"hostUsers": object.get(s, "hostUsers", null),
	"containers": [[field, object.get(x, "name", null), object.get(x, "image", null), object.get(x, "securityContext", null)] |
		some field in ["containers", "initContainers", "ephemeralContainers"]
		some x in object.get(s, field, [])
	],
}

# ---- the pod spec ---------------------------------------------------------------------------

object_or_empty(x) := x if {
	is_object(x)
} else := {}

psc := object_or_empty(object.get(spec, "securityContext", {}))

# Exactly "windows", as rootguard and Pod Security Admission compare it (the API server accepts only
# "linux" and "windows").
windows if string_or_empty(object.get(spec, ["os", "name"], "")) == "windows"

user_namespaced if object.get(spec, "hostUsers", null) == false

pod_field(f) := concat("", [spec_path, ".securityContext.", f])

# Every container, in rootguard's order (containers, initContainers, ephemeralContainers), with
# its effective runAsUser, runAsGroup and runAsNonRoot worked out once.
ctrs := [c |
	some field in ["containers", "initContainers", "ephemeralContainers"]
	some i, x in spec[field]
	sc := object_or_empty(object.get(x, "securityContext", {}))
	path := sprintf("%s.%s[%d]", [spec_path, field, i])
	c := {
		"name": text_or_null(object.get(x, "name", null)),
		"path": path,
		"sc": sc,
		"uid": effective(sc, "runAsUser"),
		"gid": effective(sc, "runAsGroup"),
		"non_root": effective(sc, "runAsNonRoot").value,
	}
]

ctr_field(c, f) := concat("", [c.path, ".securityContext.", f])

# The container's value, else the pod's (pod: true); value null when neither has one.
effective(sc, f) := {"value": v, "pod": false} if {
	v := sc[f]
	v != null
} else := {"value": v, "pod": true} if {
	v := psc[f]
	v != null
} else := {"value": null, "pod": false}

# Where container c's effective value e of field f came from.
effective_path(c, f, e) := pod_field(f) if {
	e.pod
} else := ctr_field(c, f)

has_value(o, k) if o[k] != null

# ---- findings -------------------------------------------------------------------------------
# Each rule lists {path, message} in rootguard's order. Findings at the same path are merged into
# one naming every container, as rootguard does; the only paths shared by several containers are
# pod-level values they inherit (runAsUser: 0 and runAsGroup: 0 set on the pod), so such a
# finding is emitted once, at the first container that inherits the value.

names_text(ns) := sprintf("container \"%s\"", [ns[0]]) if {
	count(ns) == 1
} else := concat("", ["containers ", concat(", ", [sprintf("\"%s\"", [n]) | some n in ns])])

# The containers named by a finding about value e of container c (inheriting_text names every
# container that inherits the pod value).
named(c, e, inheriting_text) := inheriting_text if {
	e.pod
} else := names_text([c.name])

first_path(cs) := cs[0].path if {
	count(cs) > 0
} else := ""

with_rule(rule, action, findings) := [{"rule": rule, "action": action, "path": f.path, "message": f.message} | some f in findings]

# Rules check containers, and pod fields on their behalf: a pod without containers gives none.
violations := [] if {
	count(ctrs) == 0
} else := array.concat(
	array.concat(array.concat(run_as_root, root_group), array.concat(privileged, capabilities)),
	array.concat(array.concat(required_ids, privilege_escalation), image_groups),
)

# ---- run-as-root ----------------------------------------------------------------------------

run_as_root := with_rule("run-as-root", "enforce", array.concat(uid_zero, undecided_findings)) if {
	not windows
	not user_namespaced
} else := with_rule("run-as-root", "enforce", array.concat(windows_found, windows_missing_findings)) if {
	windows
	not user_namespaced
} else := []

# Windows: the container's windowsOptions.runAsUserName, else the pod's.
windows_user(c) := {"value": v, "pod": false} if {
	v := object.get(object_or_empty(object.get(c.sc, "windowsOptions", {})), "runAsUserName", null)
	v != null
} else := {"value": v, "pod": true} if {
	v := object.get(object_or_empty(object.get(psc, "windowsOptions", {})), "runAsUserName", null)
	v != null
} else := {"value": null, "pod": false}

windows_admin(c) if {
	u := windows_user(c).value
	is_string(u)
	lower(u) == "containeradministrator"
}

# A container's own finding: ContainerAdministrator, else an effective runAsNonRoot that is set but not true.
windows_hit(c) := {"kind": "admin", "path": effective_path(c, "windowsOptions.runAsUserName", windows_user(c))} if {
	windows_admin(c)
} else := {"kind": "false", "path": effective_path(c, "runAsNonRoot", effective(c.sc, "runAsNonRoot"))} if {
	effective(c.sc, "runAsNonRoot").value != null
	effective(c.sc, "runAsNonRoot").value != true
}

windows_hits := [{"name": c.name, "user": windows_user(c).value, "kind": h.kind, "path": h.path} |
	some c in ctrs
	h := windows_hit(c)
]

windows_earlier(i, p) if {
	some j, h in windows_hits
	j < i
	h.path == p
}

windows_paths := [h.path | some i, h in windows_hits; not windows_earlier(i, h.path)]

# Findings at one path are merged, naming every container, in the order their paths first appear.
windows_found := [windows_finding([h | some h in windows_hits; h.path == p]) | some p in windows_paths]

windows_finding(hs) := {"path": hs[0].path, "message": sprintf(
	"runAsUserName: %s runs %s as the Windows root account; set runAsUserName to ContainerUser or another non-administrator account",
	[hs[0].user, names_text([h.name | some h in hs])],
)} if {
	hs[0].kind == "admin"
} else := {"path": hs[0].path, "message": sprintf(
	"runAsNonRoot: false lets the image run %s as ContainerAdministrator; set runAsNonRoot: true",
	[names_text([h.name | some h in hs])],
)}

windows_missing := [c | some c in ctrs; not windows_admin(c); effective(c.sc, "runAsNonRoot").value == null]

windows_missing_findings := [{"path": pod_field("runAsNonRoot"), "message": sprintf(
	"runAsNonRoot is not set, so the image's user decides and may be ContainerAdministrator; set %s: true",
	[pod_field("runAsNonRoot")],
)}] if {
	count(windows_missing) > 0
	count(windows_missing) == count(ctrs)
} else := [{"path": ctr_field(c, "runAsNonRoot"), "message": sprintf(
	"%s sets no runAsNonRoot (here or in %s), so the image's user decides and may be ContainerAdministrator; set runAsNonRoot: true",
	[names_text([c.name]), pod_field("runAsNonRoot")],
)} |
	some c in windows_missing
]

uid_zero_inheriting := [c | some c in ctrs; c.uid.pod; c.uid.value == 0]

uid_zero_first_path := first_path(uid_zero_inheriting)

uid_zero_inheriting_text := names_text([c.name | some c in uid_zero_inheriting])

uid_zero := [{"path": effective_path(c, "runAsUser", c.uid), "message": sprintf("runAsUser: 0 runs %s as root; set a non-zero UID such as %d", [named(c, c.uid, uid_zero_inheriting_text), suggested_id])} |
	some c in ctrs
	c.uid.value == 0
	first_or_own(c, c.uid, uid_zero_first_path)
]

undecided := [c |
	some c in ctrs
	c.uid.value == null
	c.non_root != true
]

undecided_findings := [{"path": pod_field("runAsUser"), "message": sprintf(
	"no runAsUser is set and runAsNonRoot is not true, so the image's USER decides and may be root; set %s to a non-zero UID such as %d (or %s: true)",
	[pod_field("runAsUser"), suggested_id, pod_field("runAsNonRoot")],
)}] if {
	count(undecided) > 0
	count(undecided) == count(ctrs)
	not undecided_sets_non_root
} else := [{"path": ctr_field(c, "runAsUser"), "message": sprintf(
	"%s sets no runAsUser (here or in %s) and runAsNonRoot is not true, so the image's USER decides and may be root; set runAsUser to a non-zero UID such as %d, or runAsNonRoot: true",
	[names_text([c.name]), pod_field("runAsUser"), suggested_id],
)} |
	some c in undecided
]

undecided_sets_non_root if {
	some c in undecided
	has_value(c.sc, "runAsNonRoot")
}

# Whether container c reports its value e: always its own value; an inherited pod value only at
# the first container that inherits it (first_path).
first_or_own(_, e, _) if not e.pod

first_or_own(c, e, first_path) if {
	e.pod
	c.path == first_path
}

# ---- root-group -----------------------------------------------------------------------------

root_group := with_rule("root-group", "enforce", array.concat(gid_zero, array.concat(fs_group_zero, supplemental_zero))) if {
	not windows
} else := []

gid_zero_inheriting := [c | some c in ctrs; c.gid.pod; c.gid.value == 0]

gid_zero_first_path := first_path(gid_zero_inheriting)

gid_zero_inheriting_text := names_text([c.name | some c in gid_zero_inheriting])

gid_zero := [{"path": effective_path(c, "runAsGroup", c.gid), "message": sprintf("runAsGroup: 0 runs %s with the root group; set a non-zero GID such as %d", [named(c, c.gid, gid_zero_inheriting_text), suggested_id])} |
	some c in ctrs
	c.gid.value == 0
	first_or_own(c, c.gid, gid_zero_first_path)
]

fs_group_zero := [{"path": pod_field("fsGroup"), "message": sprintf("fsGroup: 0 makes volumes owned by the root group; set a non-zero GID such as %d", [suggested_id])} |
	psc.fsGroup == 0
]

supplemental_zero := [{"path": pod_field(sprintf("supplementalGroups[%d]", [i])), "message": "supplemental group 0 adds the root group to every container; remove it"} |
	some i, g in psc.supplementalGroups
	g == 0
]

# ---- privileged (also for Windows pods) -----------------------------------------------------

privileged := with_rule("privileged", "enforce", array.concat(privileged_containers, host_process_pod))

privileged_containers := [f |
	some c in ctrs
	some check in ["privileged", "hostProcess"]
	f := privileged_finding(c, check)
]

privileged_finding(c, "privileged") := {"path": ctr_field(c, "privileged"), "message": sprintf("privileged: true gives %s full access to the host's devices and kernel; remove it or set privileged: false", [names_text([c.name])])} if {
	c.sc.privileged == true
}

privileged_finding(c, "hostProcess") := {"path": ctr_field(c, "windowsOptions.hostProcess"), "message": sprintf("hostProcess: true runs %s as a process on the Windows host; remove it", [names_text([c.name])])} if {
	c.sc.windowsOptions.hostProcess == true
}

host_process_pod := [{"path": pod_field("windowsOptions.hostProcess"), "message": "hostProcess: true runs every container as a process on the Windows host; remove it"} |
	psc.windowsOptions.hostProcess == true
]

# ---- capabilities ---------------------------------------------------------------------------

capabilities := with_rule("capabilities", "enforce", [{"path": ctr_field(c, sprintf("capabilities.add[%d]", [i])), "message": sprintf(
	"capability \"%s\" added to %s is not allowed (allowed: %s); remove it from capabilities.add",
	[text_or_null(name), names_text([c.name]), allowed_capabilities_text],
)} |
	some c in ctrs
	some i, name in c.sc.capabilities.add
	not normalize_capability(name) in allowed_capabilities
]) if {
	not windows
} else := []

allowed_capabilities_text := concat(", ", sort(allowed_capabilities))

normalize_capability(name) := substring(n, 4, -1) if {
	n := upper(trim_space(string_or_empty(name)))
	startswith(n, "CAP_")
} else := upper(trim_space(string_or_empty(name)))

# ---- required-ids ---------------------------------------------------------------------------

required_ids := with_rule("required-ids", "enforce", array.concat(array.concat(missing_ids("runAsUser", missing_uid), missing_ids("runAsGroup", missing_gid)), missing_fs_group)) if {
	not windows
} else := []

missing_uid := [c | some c in ctrs; c.uid.value == null]

missing_gid := [c | some c in ctrs; c.gid.value == null]

missing_ids(f, m) := [{"path": pod_field(f), "message": sprintf("%s is not set for any container (%s); set %s to an ID such as %d", [f, names_text([c.name | some c in m]), pod_field(f), suggested_id])}] if {
	count(m) > 0
	count(m) == count(ctrs)
} else := [{"path": ctr_field(c, f), "message": sprintf("%s is not set for %s (here or in %s); set it to an ID such as %d", [f, names_text([c.name]), pod_field(f), suggested_id])} |
	some c in m
]

missing_fs_group := [{"path": pod_field("fsGroup"), "message": sprintf("fsGroup is not set, so volumes keep the group the image or volume gives them; set %s to a GID such as %d", [pod_field("fsGroup"), suggested_id])} |
	not has_value(psc, "fsGroup")
]

# ---- privilege-escalation (explicit true: enforce; unset: warn) ------------------------------

privilege_escalation := array.concat(
	with_rule("privilege-escalation", "enforce", [{"path": ctr_field(c, "allowPrivilegeEscalation"), "message": sprintf("%s sets allowPrivilegeEscalation: true, so a setuid-root binary in the image can become UID 0; set allowPrivilegeEscalation: false", [names_text([c.name])])} |
		some c in ctrs
		object.get(c.sc, "allowPrivilegeEscalation", null) == true
	]),
	with_rule("privilege-escalation", "warn", [{"path": ctr_field(c, "allowPrivilegeEscalation"), "message": sprintf("%s does not set allowPrivilegeEscalation, so setuid binaries can gain privileges; set allowPrivilegeEscalation: false", [names_text([c.name])])} |
		some c in ctrs
		object.get(c.sc, "allowPrivilegeEscalation", null) == null
	]),
) if {
	not windows
} else := []

# ---- image-groups (warn) --------------------------------------------------------------------

groups_policy := object.get(psc, "supplementalGroupsPolicy", null)

groups_policy_text := "supplementalGroupsPolicy is not set" if {
	groups_policy == null
} else := sprintf("supplementalGroupsPolicy: %s", [groups_policy])

image_groups := with_rule("image-groups", "warn", [{"path": pod_field("supplementalGroupsPolicy"), "message": sprintf(
	"%s, so the groups the image's /etc/group gives the container's user (GID 0 included) are added to every container; set %s: Strict",
	[groups_policy_text, pod_field("supplementalGroupsPolicy")],
)}]) if {
	not windows
	groups_policy != "Strict"
} else := []
