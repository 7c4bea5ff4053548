{{/*
Names and labels. Every helper here takes the chart's own context, so an application chart gets
the same names by calling them with `.Subcharts.guard` (see _sidecar.tpl).
*/}}

{{- define "guard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "guard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "guard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "guard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "guard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "guard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Values.mode }}
app.kubernetes.io/part-of: guard
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "guard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "guard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "guard.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "guard.configName" -}}{{ include "guard.fullname" . }}-config{{- end -}}

{{- define "guard.policiesName" -}}
{{- default (printf "%s-policies" (include "guard.fullname" .)) .Values.policies.existingConfigMap -}}
{{- end -}}

{{- define "guard.adminSecretName" -}}
{{- default (printf "%s-admin" (include "guard.fullname" .)) .Values.adminTokens.existingSecret -}}
{{- end -}}

{{- define "guard.adminSecretKey" -}}
{{- if .Values.adminTokens.existingSecret -}}{{ .Values.adminTokens.existingSecretKey }}{{- else -}}tokens{{- end -}}
{{- end -}}

{{/* Whether the release has admin tokens at all (a Secret to mount). */}}
{{- define "guard.hasAdminTokens" -}}
{{- if or .Values.adminTokens.existingSecret .Values.adminTokens.tokens -}}true{{- end -}}
{{- end -}}

{{/*
Refuse value combinations that would deploy something broken. values.schema.json checks each
value; these rules span several.
*/}}
{{- define "guard.validate" -}}
{{- if and .Values.redis.url .Values.redis.existingSecret -}}
{{- fail "redis: set either url or existingSecret, not both" -}}
{{- end -}}
{{- $redis := or .Values.redis.url .Values.redis.existingSecret -}}
{{- $scaled := or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled -}}
{{- if and (eq .Values.mode "service") $scaled (not $redis) -}}
{{- fail "more than one replica needs redis.url or redis.existingSecret: without Redis each replica keeps its own kill switch state, so engaging a switch would stop only one pod" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail "autoscaling: minReplicas must not exceed maxReplicas" -}}
{{- end -}}
{{- if and (eq .Values.mode "sidecar") (or .Values.autoscaling.enabled .Values.metrics.serviceMonitor.enabled) -}}
{{- fail "mode sidecar: autoscaling and metrics.serviceMonitor belong to the application's chart (its pods run guard)" -}}
{{- end -}}
{{- if eq .Values.ports.data .Values.ports.admin -}}
{{- fail "ports: data and admin must differ" -}}
{{- end -}}
{{- if .Values.stateVolume.persistence.enabled -}}
{{- if eq .Values.mode "sidecar" -}}
{{- fail "stateVolume.persistence: in sidecar mode the application's chart owns the pod's volumes (mount a claim as guard-state there)" -}}
{{- end -}}
{{- if $scaled -}}
{{- fail "stateVolume.persistence: one ReadWriteOnce volume cannot hold the state of several replicas; more than one replica shares its state through Redis" -}}
{{- end -}}
{{- end -}}
{{- include "guard.stateBudget" . -}}
{{- end -}}

{{/*
Refuse a state volume smaller than what guard's incident limits let it write there, as
guard/incidents/budget.py counts it: journal_keep_bytes, plus rotate_bytes per worker (the file
each one writes, never pruned), plus spool_max_bytes per sink (log, journal, Redis) and worker,
plus 128 KiB of kill switch state. Defaults are guard's own. Skipped when the journal has no
size limit (journal_keep_bytes null: then nothing bounds it) or the claim is one you manage.
*/}}
{{- define "guard.stateBudget" -}}
{{- $incidents := .Values.config.incidents | default dict -}}
{{- $journal := ternary $incidents.journal true (hasKey $incidents "journal") -}}
{{- $log := ternary $incidents.log true (hasKey $incidents "log") -}}
{{- $keep := $incidents.journal_keep_bytes -}}
{{- $existing := and .Values.stateVolume.persistence.enabled .Values.stateVolume.persistence.existingClaim -}}
{{- if not (or $existing (and $journal (kindIs "invalid" $keep))) -}}
{{- $workers := int64 .Values.workers -}}
{{- $rotate := int64 (ternary $incidents.rotate_bytes 67108864 (hasKey $incidents "rotate_bytes")) -}}
{{- $spool := int64 (ternary $incidents.spool_max_bytes 1073741824 (hasKey $incidents "spool_max_bytes")) -}}
{{- $sinks := 0 -}}
{{- range (list $log $journal (or .Values.redis.url .Values.redis.existingSecret)) -}}
{{- if . -}}{{- $sinks = add1 $sinks -}}{{- end -}}
{{- end -}}
{{- $journalBytes := 0 -}}
{{- if $journal -}}{{- $journalBytes = add (int64 $keep) (mul $rotate $workers) -}}{{- end -}}
{{- $needs := add $journalBytes (mul $spool $sinks $workers) 131072 -}}
{{- $field := ternary "stateVolume.persistence.size" "stateVolume.sizeLimit" .Values.stateVolume.persistence.enabled -}}
{{- $size := ternary .Values.stateVolume.persistence.size .Values.stateVolume.sizeLimit .Values.stateVolume.persistence.enabled -}}
{{- $has := include "guard.bytes" $size | int64 -}}
{{- if gt $needs $has -}}
{{- fail (printf "%s %v (%d MiB) cannot hold what guard may write to it, %d MiB: config.incidents.journal_keep_bytes %d MiB + rotate_bytes %d MiB x %d workers (the file each writes) + spool_max_bytes %d MiB x %d sinks x %d workers + kill switch state; a full state volume stops saving kill switches and incidents (an emptyDir past its sizeLimit evicts the pod). Raise %s or lower those settings" $field $size (div $has 1048576) (div $needs 1048576) (div (int64 (default 0 $keep)) 1048576) (div $rotate 1048576) $workers (div $spool 1048576) $sinks $workers $field) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Bytes of a Kubernetes quantity (k M G T decimal, Ki Mi Gi Ti binary, m thousandths). */}}
{{- define "guard.bytes" -}}
{{- $quantity := toString . -}}
{{- $suffix := regexFind "[a-zA-Z]+$" $quantity -}}
{{- $scales := dict "" 1.0 "m" 0.001 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 -}}
{{- if not (hasKey $scales $suffix) -}}{{- $suffix = "" -}}{{- end -}}
{{- mulf (float64 (trimSuffix $suffix $quantity)) (get $scales $suffix) | floor | int64 -}}
{{- end -}}

{{/* The claim that holds state_dir when stateVolume.persistence is on. */}}
{{- define "guard.stateClaimName" -}}
{{- .Values.stateVolume.persistence.existingClaim | default (printf "%s-state" (include "guard.fullname" .)) -}}
{{- end -}}

{{/*
guard.yaml. The chart owns the keys that depend on the pod's layout; config supplies the rest.
*/}}
{{- define "guard.configYaml" -}}
{{- $host := "0.0.0.0" -}}
{{- if eq .Values.mode "sidecar" -}}{{- $host = .Values.sidecar.listenHost -}}{{- end -}}
{{- $managed := dict
    "listen" (printf "%s:%d" $host (int .Values.ports.data))
    "admin_listen" (printf "0.0.0.0:%d" (int .Values.ports.admin))
    "policies" "/etc/guard/policies"
    "state_dir" "/var/lib/guard"
    "admin_tokens_env" "GUARD_ADMIN_TOKENS"
-}}
{{- $config := merge $managed (deepCopy .Values.config) -}}
# guard.yaml rendered by the guard chart. redis_url and admin tokens come from the environment.
{{ toYaml $config }}
{{- end -}}

{{/* The policy files: bundled ones (minus *_test.yaml), then values' files on top. */}}
{{- define "guard.policyFiles" -}}
{{- $files := dict -}}
{{- if .Values.policies.builtin -}}
{{- range $path, $_ := .Files.Glob "files/policies/*.yaml" -}}
{{- if not (hasSuffix "_test.yaml" $path) -}}
{{- $_ := set $files (base $path) ($.Files.Get $path) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name, $text := .Values.policies.files -}}
{{- $_ := set $files $name $text -}}
{{- end -}}
{{- toYaml $files -}}
{{- end -}}

{{/* Environment of the guard container. */}}
{{- define "guard.env" -}}
{{- if include "guard.hasAdminTokens" . }}
- name: GUARD_ADMIN_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ include "guard.adminSecretName" . }}
      key: {{ include "guard.adminSecretKey" . }}
{{- end }}
{{- if .Values.redis.existingSecret }}
- name: GUARD_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.existingSecretKey }}
{{- else if .Values.redis.url }}
- name: GUARD_REDIS_URL
  value: {{ .Values.redis.url | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The guard container, shared by the Deployment and the sidecar helper. Takes the chart's context.
*/}}
{{- define "guard.container" -}}
- name: guard
  image: {{ include "guard.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if and (eq .Values.mode "sidecar") .Values.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  args:
    - serve
    - --config
    - /etc/guard/guard.yaml
    - --workers
    - {{ .Values.workers | quote }}
  ports:
    - name: {{ if eq .Values.mode "sidecar" }}guard-http{{ else }}http{{ end }}
      containerPort: {{ .Values.ports.data }}
      protocol: TCP
    - name: {{ if eq .Values.mode "sidecar" }}guard-admin{{ else }}admin{{ end }}
      containerPort: {{ .Values.ports.admin }}
      protocol: TCP
  {{- $env := include "guard.env" . | trim }}
  {{- if $env }}
  env:
    {{- $env | nindent 4 }}
  {{- end }}
  {{- $portName := ternary "guard-admin" "admin" (eq .Values.mode "sidecar") }}
  {{- with .Values.livenessProbe }}
  livenessProbe:
    {{- include "guard.probe" (dict "probe" . "port" $portName) | nindent 4 }}
  {{- end }}
  {{- with .Values.readinessProbe }}
  readinessProbe:
    {{- include "guard.probe" (dict "probe" . "port" $portName) | nindent 4 }}
  {{- end }}
  {{- with .Values.startupProbe }}
  startupProbe:
    {{- include "guard.probe" (dict "probe" . "port" $portName) | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: guard-config
      mountPath: /etc/guard/guard.yaml
      subPath: guard.yaml
      readOnly: true
    # A whole-directory mount (never subPath), so ConfigMap edits reach the pod for hot reload.
    - name: guard-policies
      mountPath: /etc/guard/policies
      readOnly: true
    - name: guard-state
      mountPath: /var/lib/guard
    - name: guard-tmp
      mountPath: /tmp
{{- end -}}

{{/* A probe whose named admin port follows the mode (sidecar ports carry a guard- prefix). */}}
{{- define "guard.probe" -}}
{{- $probe := deepCopy .probe -}}
{{- if $probe.httpGet -}}
{{- $_ := set $probe.httpGet "port" .port -}}
{{- end -}}
{{- toYaml $probe -}}
{{- end -}}

{{/* The pod volumes the guard container mounts. */}}
{{- define "guard.volumes" -}}
- name: guard-config
  configMap:
    name: {{ include "guard.configName" . }}
- name: guard-policies
  configMap:
    name: {{ include "guard.policiesName" . }}
- name: guard-state
  {{- if .Values.stateVolume.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "guard.stateClaimName" . }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .Values.stateVolume.sizeLimit }}
  {{- end }}
- name: guard-tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end -}}

{{/* Pod annotations that roll the pods when guard.yaml or the chart's admin Secret changes. */}}
{{- define "guard.checksums" -}}
checksum/config: {{ include "guard.configYaml" . | sha256sum }}
{{- if and .Values.adminTokens.tokens (not .Values.adminTokens.existingSecret) }}
checksum/admin-tokens: {{ include "guard.adminTokensValue" . | sha256sum }}
{{- end }}
{{- end -}}

{{- define "guard.adminTokensValue" -}}
{{- $pairs := list -}}
{{- range $actor, $token := .Values.adminTokens.tokens -}}
{{- $pairs = append $pairs (printf "%s:%s" $actor $token) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
