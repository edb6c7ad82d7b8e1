{{/*
Labels and selectors: the standard labels of every object, the selector labels of the workload,
and the labels of the pod templates.
*/}}

{{/* Chart label value: "<name>-<version>". */}}
{{- define "svc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels shared by every object of the release (name, instance). */}}
{{- define "svc.baseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "svc.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* Selector labels of the workload (Deployment/StatefulSet pods). The
     component label keeps CronJob pods out of the Service. */}}
{{- define "svc.selectorLabels" -}}
{{ include "svc.baseSelectorLabels" . }}
app.kubernetes.io/component: "server"
{{- end -}}

{{/* Standard labels for every object (no component label). The version label
     is .Chart.AppVersion made label-safe ("+" etc. -> "_", max 63 chars). */}}
{{- define "svc.labels" -}}
helm.sh/chart: {{ include "svc.chart" . | quote }}
{{ include "svc.baseSelectorLabels" . }}
{{- with (regexReplaceAll "[^-A-Za-z0-9_.]" (toString .Chart.AppVersion) "_" | trunc 63 | trimAll "-_.") }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end -}}

{{/* Pod template labels: podLabels, then the standard labels and the
     component (standard keys win so selectors always match).
     Call with (dict "root" $ "component" "server"|"cronjob"). */}}
{{- define "svc.podLabels" -}}
{{- $labels := dict -}}
{{- range $k, $v := .root.Values.podLabels -}}
{{- $_ := set $labels $k (toString $v) -}}
{{- end -}}
{{- range $k, $v := (include "svc.labels" .root | fromYaml) -}}
{{- $_ := set $labels $k $v -}}
{{- end -}}
{{- range $k, $v := (include "svc.datadogLabels" .root | fromYaml) -}}
{{- $_ := set $labels $k $v -}}
{{- end -}}
{{- $_ := set $labels "app.kubernetes.io/component" .component -}}
{{- include "svc.stringMap" $labels -}}
{{- end -}}

{{/* Datadog's unified service tags (datadogTags.enabled), on the workload and its pods: service
     is the chart's name, env the release's namespace unless given, version the image tag (else
     appVersion) made label-safe, as app.kubernetes.io/version is. */}}
{{- define "svc.datadogLabels" -}}
{{- $d := .Values.datadogTags -}}
{{- if $d.enabled -}}
{{- $version := $d.version | default (regexReplaceAll "[^-A-Za-z0-9_.]" (toString (default .Chart.AppVersion .Values.image.tag)) "_" | trunc 63 | trimAll "-_.") -}}
tags.datadoghq.com/service: {{ include "svc.name" . | quote }}
tags.datadoghq.com/env: {{ $d.env | default .Release.Namespace | quote }}
{{- with $version }}
tags.datadoghq.com/version: {{ . | quote }}
{{- end }}
{{- end -}}
{{- end -}}
