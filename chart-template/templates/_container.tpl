{{/*
The container, as one define for every kind of container of the chart so they share the
environment, the mounts and the security context.
*/}}

{{/*
Container. Call with (dict "root" $ "component" "server") for the main
container "app", or (dict "root" $ "component" "cronjob" "job" $job) for a
cron job container "job" (no ports, no probes, no persistence mounts), or
(dict "root" $ "component" "release") for the release Job's container
"release" (releaseJob.command; like a cron job's), or
(dict "root" $ "component" "init"|"sidecar" "extra" $entry) for an entry of
initContainers or sidecars (its own name, image, command, args, resources and
ports; no probes; a sidecar restarts always). All share env and mounts.
*/}}
{{/*
The plain variables of `env` (a mapping NAME: value) as a JSON list of [name, value], in the order
Kubernetes needs for `$(NAME)`: it expands a reference only to a variable defined earlier, so the
values without "$(" come first, then those with it, each in name order (Go ranges a map sorted).
A null value (`--set env.NAME=null` of a name the chart does not have) is no variable. Numbers
and booleans (`--set env.PORT=8080`) become their text; a whole float64 (a number in a -f file)
is written as an integer, never 1e+06. Call with .Values.
*/}}
{{- define "svc.envList" -}}
{{- $out := list -}}
{{- range $late := list false true -}}
{{- range $name, $value := $.env -}}
{{- if not (kindIs "invalid" $value) -}}
{{- $text := ternary (toString (int64 $value)) (toString $value) (kindIs "float64" $value) -}}
{{- if eq $late (contains "$(" $text) -}}
{{- $out = append $out (list $name $text) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{- define "svc.container" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $isJob := has .component (list "cronjob" "release") -}}
{{- $extra := .extra -}}
{{- $command := $v.command -}}
{{- $args := $v.args -}}
{{- $ports := ternary (list) (include "svc.ports" $v | fromJsonArray) $isJob -}}
{{- $resources := $v.resources -}}
{{- if eq .component "cronjob" -}}
{{- $command = .job.command -}}
{{- $args = .job.args -}}
{{- else if eq .component "release" -}}
{{- $command = $v.releaseJob.command -}}
{{- $args = list -}}
{{- end -}}
{{- if $extra -}}
{{- $command = $extra.command -}}
{{- $args = $extra.args -}}
{{- $ports = default (list) $extra.ports -}}
{{- $resources = default $v.resources $extra.resources -}}
{{- end -}}
{{- if $extra }}
name: {{ $extra.name | quote }}
image: {{ default (include "svc.image" $root) $extra.image | quote }}
{{- else }}
name: {{ ternary (ternary "release" "job" (eq .component "release")) "app" $isJob }}
image: {{ include "svc.image" $root | quote }}
{{- end }}
imagePullPolicy: {{ $v.image.pullPolicy | quote }}
{{- if eq .component "sidecar" }}
restartPolicy: "Always"
{{- end }}
{{- with $command }}
command:
  {{- range . }}
  - {{ . | quote }}
  {{- end }}
{{- end }}
{{- with $args }}
args:
  {{- range . }}
  - {{ . | quote }}
  {{- end }}
{{- end }}
{{- with $ports }}
ports:
  {{- range . }}
  - name: {{ .name | quote }}
    containerPort: {{ int64 .containerPort }}
    protocol: TCP
  {{- end }}
{{- end }}
{{- $secretFiles := and $v.secretEnv.keys $v.secretEnv.mountPath }}
{{- $secretEnv := ternary (list) $v.secretEnv.keys (not (empty $secretFiles)) }}
{{- $plain := include "svc.envList" $v | fromJsonArray }}
{{- if or $v.envRefs $v.links $plain $secretEnv $v.extraEnv }}
env:
  {{- /* Keys of existing objects first, so plain values may use them as $(NAME). */}}
  {{- range $v.envRefs }}
  - name: {{ .name | quote }}
    valueFrom:
      {{- if .secret }}
      secretKeyRef:
        name: {{ .secret | quote }}
      {{- else }}
      configMapKeyRef:
        name: {{ .configMap | quote }}
      {{- end }}
        key: {{ .key | quote }}
        optional: {{ .optional | toJson }}
  {{- end }}
  {{- with include "svc.linkEnv" $root }}
  {{- . | trim | nindent 2 }}
  {{- end }}
  {{- range $plain }}
  - name: {{ index . 0 | quote }}
    value: {{ index . 1 | quote }}
  {{- end }}
  {{- $secretName := include "svc.secretName" $root }}
  {{- range $secretEnv }}
  - name: {{ . | quote }}
    valueFrom:
      secretKeyRef:
        name: {{ $secretName | quote }}
        key: {{ . | quote }}
  {{- end }}
  {{- with $v.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- if or $v.envFrom $v.extraEnvFrom }}
envFrom:
  {{- range $v.envFrom }}
  {{- if .prefix }}
  - prefix: {{ .prefix | quote }}
    {{- if .secret }}
    secretRef:
    {{- else }}
    configMapRef:
    {{- end }}
  {{- else if .secret }}
  - secretRef:
  {{- else }}
  - configMapRef:
  {{- end }}
      name: {{ default .configMap .secret | quote }}
      optional: {{ .optional | toJson }}
  {{- end }}
  {{- with $v.extraEnvFrom }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- if not (or $isJob $extra) }}
{{- with include "svc.probe" (dict "root" $root "probe" $v.livenessProbe) }}
livenessProbe:
  {{- . | trim | nindent 2 }}
{{- end }}
{{- with include "svc.probe" (dict "root" $root "probe" $v.readinessProbe) }}
readinessProbe:
  {{- . | trim | nindent 2 }}
{{- end }}
{{- with include "svc.probe" (dict "root" $root "probe" $v.startupProbe) }}
startupProbe:
  {{- . | trim | nindent 2 }}
{{- end }}
{{- with $v.workload.preStopDelaySeconds }}
{{- /* Keeps serving while endpoints and load balancers stop sending new connections. */}}
lifecycle:
  preStop:
    sleep:
      seconds: {{ int64 . }}
{{- end }}
{{- end }}
{{- with $resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and (eq .component "server") (not $extra) }}
{{- with include "svc.resizePolicy" $root }}
resizePolicy:
  {{- . | nindent 2 }}
{{- end }}
{{- end }}
{{- with $v.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $volumes := ternary (list) $v.persistence.volumes $isJob }}
{{- $extraMounts := ternary $v.extraVolumeMounts (list) (and (eq .component "server") (not $extra)) }}
{{- if or $v.tmpDir.enabled $v.writablePaths $volumes $secretFiles $v.configFiles $extraMounts }}
volumeMounts:
  {{- if $v.tmpDir.enabled }}
  - name: "tmp"
    mountPath: {{ $v.tmpDir.mountPath | quote }}
  {{- end }}
  {{- range $v.writablePaths }}
  - name: {{ include "svc.writableVolumeName" .mountPath | quote }}
    mountPath: {{ .mountPath | quote }}
  {{- end }}
  {{- if $secretFiles }}
  - name: "secrets"
    mountPath: {{ $v.secretEnv.mountPath | quote }}
    readOnly: true
  {{- end }}
  {{- range $v.configFiles }}
  - name: "config-files"
    mountPath: {{ .mountPath | quote }}
    subPath: {{ .key | quote }}
    readOnly: true
  {{- end }}
  {{- range $volumes }}
  - name: {{ .name | quote }}
    mountPath: {{ .mountPath | quote }}
  {{- end }}
  {{- with $extraMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}
