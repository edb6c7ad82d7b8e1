{{/*
The ports of the Services (service.yaml and service-headless.yaml).
*/}}

{{/* Service appProtocol for a port entry ("" => omit). */}}
{{- define "svc.appProtocol" -}}
{{- if eq .type "http" -}}
{{- if eq .protocol "grpc" -}}kubernetes.io/h2c
{{- else if eq .protocol "websocket" -}}kubernetes.io/ws
{{- else -}}http
{{- end -}}
{{- end -}}
{{- end -}}

{{/* service.trafficDistribution when the cluster has it ("" otherwise): PreferClose is GA in
     Kubernetes 1.33, PreferSameZone in 1.35. Older clusters skip it (NOTES.txt says so) rather
     than fail: the Service works without it, only zone-locality is lost. */}}
{{- define "svc.trafficDistribution" -}}
{{- $d := .Values.service.trafficDistribution -}}
{{- if $d -}}
{{- $min := ternary ">=1.35.0-0" ">=1.33.0-0" (eq $d "PreferSameZone") -}}
{{- if semverCompare $min .Capabilities.KubeVersion.Version -}}{{- $d -}}{{- end -}}
{{- end -}}
{{- end -}}
