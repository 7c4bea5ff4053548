{{/*
Sidecar mode: helpers an application chart includes to run guard inside its own pods.

The application chart declares this chart as a dependency (named `guard`, values under `guard:`
with `mode: sidecar`) and passes the dependency's own context, so names and defaults match what
the dependency rendered (its ConfigMaps and Secret):

  spec:
    containers:
      - name: app
        env:
          - name: OPENAI_BASE_URL
            value: {{ include "guard.sidecarBaseURL" .Subcharts.guard }}
      {{- include "guard.sidecarContainer" .Subcharts.guard | nindent 6 }}
    volumes:
      {{- include "guard.sidecarVolumes" .Subcharts.guard | nindent 6 }}

With `sidecar.native: true` include guard.sidecarContainer under initContainers instead: the
container then carries restartPolicy: Always (a Kubernetes native sidecar), starts before the
application and stops after it.
*/}}

{{/* The guard container (a one-item list), listening on the pod's loopback for the app. */}}
{{- define "guard.sidecarContainer" -}}
{{- if ne .Values.mode "sidecar" -}}
{{- fail "guard.sidecarContainer: set guard.mode to sidecar in the application's values" -}}
{{- end -}}
{{- include "guard.container" . -}}
{{- end -}}

{{/* The volumes the sidecar mounts (config, policies, scratch), to add to the pod's volumes. */}}
{{- define "guard.sidecarVolumes" -}}
{{- include "guard.volumes" . -}}
{{- end -}}

{{/* Pod annotations that roll the application's pods when guard.yaml changes. */}}
{{- define "guard.sidecarPodAnnotations" -}}
{{- include "guard.checksums" . -}}
{{- end -}}

{{/* The URL the application gives its OpenAI client: the sidecar on localhost. */}}
{{- define "guard.sidecarBaseURL" -}}
{{- printf "http://127.0.0.1:%d/v1" (int .Values.ports.data) -}}
{{- end -}}
