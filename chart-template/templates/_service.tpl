{{/*
The ports of the Services (service.yaml and service-headless.yaml).
*/}}

{{/* Service appProtocol for a port entry ("" => omit). Call with (dict "port" $entry "root" $).
     kubernetes.io/h2c and kubernetes.io/ws (KEP-3726, Gateway API GEP-1911) name cleartext
     protocols: on the port where the pods serve TLS (gateway.backendTLS) they would contradict the
     BackendTLSPolicy, so that port names none and the Gateway negotiates HTTP/2 or HTTP/1.1 (and
     the websocket upgrade) inside TLS by ALPN, as a GRPCRoute or HTTPRoute asks. */}}
{{- define "svc.appProtocol" -}}
{{- $p := .port -}}
{{- if and (eq $p.type "http") (ne $p.name (include "svc.tlsPort" .root.Values)) -}}
{{- if eq $p.protocol "grpc" -}}kubernetes.io/h2c
{{- else if eq $p.protocol "websocket" -}}kubernetes.io/ws
{{- else -}}http
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of the port on which the pods serve TLS (gateway.backendTLS: the routed port,
     ingress.port), "" when none. Its probes are HTTPS GETs (_probes.tpl), it names no cleartext
     appProtocol (svc.appProtocol), and the kubelet's gRPC check is refused on it (_checks.tpl).
     Call with .Values. */}}
{{- define "svc.tlsPort" -}}
{{- if .gateway.backendTLS.enabled -}}{{- .ingress.port -}}{{- end -}}
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
