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
