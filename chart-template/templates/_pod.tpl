{{/*
The pod template (metadata and spec) of the Deployment or StatefulSet, of the CronJobs and of the
release Job.
*/}}

{{/*
Pod template (metadata + spec) shared by the workload and the jobs.
Call with (dict "root" $ "component" "server"),
(dict "root" $ "component" "cronjob" "job" $job) or (dict "root" $ "component" "release"),
the release Job, which runs as its own hook ServiceAccount and reads its own hook copy of the
config files (on a first install the chart's own do not exist yet when it runs).
*/}}
{{- define "svc.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $isJob := has .component (list "cronjob" "release") -}}
{{- $isRelease := eq .component "release" -}}
{{- $annotations := dict -}}
{{- range $k, $val := $v.podAnnotations -}}
{{- $_ := set $annotations $k $val -}}
{{- end -}}
{{- /* The OpenTelemetry Operator instruments the service's pods only, not the jobs'. */ -}}
{{- if and $v.opentelemetry.enabled (eq .component "server") -}}
{{- $_ := set $annotations (printf "instrumentation.opentelemetry.io/inject-%s" $v.opentelemetry.language) $v.opentelemetry.instrumentation -}}
{{- if eq $v.opentelemetry.language "go" -}}
{{- $_ := set $annotations "instrumentation.opentelemetry.io/otel-go-auto-target-exe" $v.opentelemetry.executable -}}
{{- end -}}
{{- end -}}
{{- if $v.configFiles -}}
{{- /* Rolls the pods when the config files change, whoever changed them (spec or --set). */ -}}
{{- $_ := set $annotations "checksum/config" (include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum) -}}
{{- end -}}
metadata:
  {{- with $annotations }}
  annotations:
    {{- include "svc.stringMap" . | nindent 4 }}
  {{- end }}
  labels:
    {{- include "svc.podLabels" (dict "root" $root "component" .component) | nindent 4 }}
spec:
  {{- if $isJob }}
  restartPolicy: Never
  {{- else }}
  terminationGracePeriodSeconds: {{ int64 $v.workload.terminationGracePeriodSeconds }}
  {{- end }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  serviceAccountName: {{ include (ternary "svc.releaseServiceAccountName" "svc.serviceAccountName" $isRelease) $root | quote }}
  automountServiceAccountToken: {{ $v.automountServiceAccountToken | toJson }}
  {{- with $v.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- include "svc.stringMap" . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $spread := $v.topologySpread }}
  {{- if and (not $isJob) $spread.enabled $spread.topologyKeys (gt (int64 (include "svc.maxReplicas" $root)) 1) }}
  {{- /* Replicas spread over nodes and zones; pod-template-hash (Deployments) counts only the
       pods of the current revision, so a rollout does not skew the new ReplicaSet. */}}
  topologySpreadConstraints:
    {{- range $spread.topologyKeys }}
    - maxSkew: {{ int64 $spread.maxSkew }}
      topologyKey: {{ . | quote }}
      whenUnsatisfiable: {{ $spread.whenUnsatisfiable | quote }}
      labelSelector:
        matchLabels:
          {{- include "svc.selectorLabels" $root | nindent 10 }}
      {{- if not $v.persistence.volumes }}
      matchLabelKeys:
        - "pod-template-hash"
      {{- end }}
    {{- end }}
  {{- end }}
  {{- $secretFiles := and $v.secretEnv.keys $v.secretEnv.mountPath }}
  {{- $extraVolumes := ternary (list) $v.extraVolumes $isJob }}
  {{- if or $v.tmpDir.enabled $v.writablePaths $secretFiles $v.configFiles $extraVolumes }}
  volumes:
    {{- if $v.tmpDir.enabled }}
    - name: "tmp"
      {{- if ne (toString $v.tmpDir.sizeLimit) "" }}
      emptyDir:
        sizeLimit: {{ $v.tmpDir.sizeLimit | toJson }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- end }}
    {{- range $v.writablePaths }}
    - name: {{ include "svc.writableVolumeName" .mountPath | quote }}
      emptyDir:
        sizeLimit: {{ .sizeLimit | toJson }}
    {{- end }}
    {{- if $secretFiles }}
    {{- /* The Secret's keys as read-only files (0440, group fsGroup), not environment variables. */}}
    - name: "secrets"
      secret:
        secretName: {{ include "svc.secretName" $root | quote }}
        defaultMode: 288
        items:
          {{- range $v.secretEnv.keys }}
          - key: {{ . | quote }}
            path: {{ . | quote }}
          {{- end }}
    {{- end }}
    {{- if $v.configFiles }}
    {{- /* Read-only for everyone (0444): configuration, not secrets. */}}
    - name: "config-files"
      configMap:
        name: {{ include (ternary "svc.releaseConfigMapName" "svc.configMapName" $isRelease) $root | quote }}
        defaultMode: 292
    {{- end }}
    {{- with $extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- if and (not $isJob) (or $v.sidecars $v.initContainers) }}
  {{- /* Native sidecars first, so the init containers can already use them. */}}
  initContainers:
    {{- range $v.sidecars }}
    - {{ include "svc.container" (dict "root" $root "component" "sidecar" "extra" .) | indent 6 | trim }}
    {{- end }}
    {{- range $v.initContainers }}
    - {{ include "svc.container" (dict "root" $root "component" "init" "extra" .) | indent 6 | trim }}
    {{- end }}
  {{- end }}
  containers:
    - {{ include "svc.container" . | indent 6 | trim }}
{{- end -}}
