{{/*
Probes of the service's container: the probe bodies and the port number a gRPC probe needs.
*/}}

{{/*
Probe body (without the probe key) or "" when there is no probe.
Call with (dict "root" $ "probe" .Values.livenessProbe).
*/}}
{{- define "svc.probe" -}}
{{- $p := .probe -}}
{{- $v := .root.Values -}}
{{- $ports := include "svc.ports" $v | fromJsonArray -}}
{{- if $p.enabled -}}
{{- if $p.path }}
httpGet:
  path: {{ $p.path | quote }}
  port: {{ $v.probePort | quote }}
  {{- /* The pods serve TLS on this port (gateway.backendTLS): an HTTPS GET, which the kubelet
       sends without checking the certificate. */}}
  {{- $tls := include "svc.tlsPort" $v }}
  {{- if and $tls (eq $v.probePort $tls) }}
  scheme: HTTPS
  {{- end }}
{{- else if $p.command }}
exec:
  command:
    {{- range $p.command }}
    - {{ . | quote }}
    {{- end }}
{{- else if $p.grpc.enabled }}
{{- /* GRPCAction takes the port number, never its name. */}}
grpc:
  port: {{ include "svc.probePortNumber" $v }}
  {{- with $p.grpc.service }}
  service: {{ . | quote }}
  {{- end }}
{{- else if $ports }}
tcpSocket:
  port: {{ $v.probePort | quote }}
{{- end }}
{{- if or $p.path $p.command $ports }}
initialDelaySeconds: {{ int64 $p.initialDelaySeconds }}
periodSeconds: {{ int64 $p.periodSeconds }}
timeoutSeconds: {{ int64 $p.timeoutSeconds }}
failureThreshold: {{ int64 $p.failureThreshold }}
successThreshold: {{ int64 $p.successThreshold }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* containerPort of the port named probePort. Call with .Values. */}}
{{- define "svc.probePortNumber" -}}
{{- $want := .probePort -}}
{{- with index (.ports | default dict) $want -}}{{- int64 .containerPort -}}{{- end -}}
{{- end -}}
