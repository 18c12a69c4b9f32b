{{/* Name of the chart. */}}
{{- define "rootguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-based unless overridden. */}}
{{- define "rootguard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rootguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels. */}}
{{- define "rootguard.labels" -}}
helm.sh/chart: {{ include "rootguard.chart" . }}
{{ include "rootguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rootguard
{{- end }}

{{- define "rootguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rootguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rootguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rootguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Secret holding the serving certificate. */}}
{{- define "rootguard.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- .Values.tls.secret.name }}
{{- else }}
{{- printf "%s-tls" (include "rootguard.fullname" .) }}
{{- end }}
{{- end }}

{{/* Namespaces neither webhook is ever called for: the release namespace, kube-system, and the exemptions. */}}
{{- define "rootguard.excludedNamespaces" -}}
{{- $list := list .Release.Namespace "kube-system" }}
{{- range .Values.policy.exemptions.namespaces }}
{{- $list = append $list . }}
{{- end }}
{{- toJson (uniq $list) }}
{{- end }}

{{/* application.properties for the webhook, from .Values.policy. */}}
{{- define "rootguard.properties" -}}
rootguard.mode={{ .Values.policy.mode }}
{{- range $id, $rule := .Values.policy.rules }}
{{- range $key, $value := $rule }}
{{- if kindIs "slice" $value }}
{{- /* An empty capability allowlist is written out: it means none, while leaving the key out would mean the default. */}}
{{- if or $value (eq $key "allowed") }}
rootguard.rules.{{ $id }}.{{ $key }}={{ join "," $value }}
{{- end }}
{{- else if ne (toString $value) "" }}
rootguard.rules.{{ $id }}.{{ $key }}={{ $value }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key, $value := .Values.policy.defaults }}
rootguard.defaults.{{ $key }}={{ $value }}
{{- end }}
rootguard.mutation.enabled={{ .Values.policy.mutation.enabled }}
rootguard.exemptions.namespaces={{ join "," .Values.policy.exemptions.namespaces }}
{{- if .Values.policy.exemptions.users }}
rootguard.exemptions.users={{ join "," .Values.policy.exemptions.users }}
{{- end }}
rootguard.namespace-labels.enabled={{ .Values.policy.namespaceLabels }}
rootguard.allocator.enabled={{ .Values.allocator.enabled }}
rootguard.allocator.block={{ .Values.allocator.block }}
rootguard.allocator.range-size={{ int64 .Values.allocator.rangeSize }}
rootguard.tls.reload-period={{ .Values.tls.reloadPeriod }}
{{- with .Values.audit.interval }}
rootguard.audit.interval={{ . }}
{{- end }}
{{- with .Values.images }}
{{- if .registries }}
rootguard.images.registries={{ join "," .registries }}
{{- if .deniedRegistries }}
rootguard.images.denied-registries={{ join "," .deniedRegistries }}
{{- end }}
rootguard.images.budget={{ .budget }}
rootguard.images.timeout={{ .timeout }}
rootguard.images.tag-ttl={{ .tagTtl }}
rootguard.images.failure-ttl={{ .failureTtl }}
rootguard.images.cache-size={{ int64 .cacheSize }}
rootguard.images.threads={{ int64 .threads }}
rootguard.images.queue={{ int64 .queue }}
rootguard.images.platforms={{ join "," .platforms }}
{{- if .pullSecret }}
rootguard.images.docker-config=/etc/rootguard/registry-auth/config.json
{{- end }}
{{- if .caConfigMap }}
rootguard.images.ca-file=/etc/rootguard/registry-ca/{{ .caKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Webhook rules: every kind with a pod template. */}}
{{- define "rootguard.webhookRules" -}}
{{- $ops := .ops }}
- apiGroups: [""]
  apiVersions: ["v1"]
  operations: {{ toJson $ops }}
  resources: ["pods", "replicationcontrollers", "podtemplates"]
  scope: Namespaced
{{- if .ephemeral }}
- apiGroups: [""]
  apiVersions: ["v1"]
  operations: ["UPDATE"]
  resources: ["pods/ephemeralcontainers"]
  scope: Namespaced
{{- end }}
- apiGroups: ["apps"]
  apiVersions: ["v1"]
  operations: {{ toJson $ops }}
  resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
  scope: Namespaced
- apiGroups: ["batch"]
  apiVersions: ["v1"]
  operations: {{ toJson $ops }}
  resources: ["jobs", "cronjobs"]
  scope: Namespaced
{{- end }}
