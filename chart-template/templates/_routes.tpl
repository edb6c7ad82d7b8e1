{{/*
The routes of ingress.routes with their hosts resolved. A route names its host by a key, so that a
host is one value however many routes use it: "main" is ingress.host, another key an entry of
ingress.hosts, "" any host. `--set ingress.host=shop.example.com` thus moves every route of the main
host, its TLS section and its certificate's Secret (svc.tlsSecretName) at once.
*/}}

{{/* The host of a key ("" for any host, or for a key that names nothing: svc.check.hosts refuses it). */}}
{{- define "svc.hostOf" -}}
{{- $ing := .root.Values.ingress -}}
{{- if eq .key "main" -}}
{{- $ing.host -}}
{{- else if .key -}}
{{- index (default dict $ing.hosts) .key | default "" -}}
{{- end -}}
{{- end -}}

{{/* ingress.routes as a JSON list of {key, host, path, index}: include it and read it back
     with fromJsonArray. */}}
{{- define "svc.routes" -}}
{{- $out := list -}}
{{- range $i, $r := .Values.ingress.routes -}}
{{- $host := include "svc.hostOf" (dict "root" $ "key" $r.hostKey) -}}
{{- $out = append $out (dict "key" $r.hostKey "host" $host "path" $r.path "index" $i) -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* What is wrong with a host given as a value, or "" when nothing is: Kubernetes' rule for an
     Ingress host (a lowercase DNS name, "*." allowed first, not an IPv4 address as Go's
     net.ParseIP reads one: "0" is a name), plus a hint for the
     usual slips (a URL, a port, capitals). */}}
{{- define "svc.hostProblem" -}}
{{- $h := toString . -}}
{{- if not $h -}}
is empty: give a host name such as shop.example.com
{{- else if contains "://" $h -}}
is a URL: give the host name only, without the scheme (the routes keep their paths)
{{- else if contains "/" $h -}}
has a path: give the host name only (the routes keep their paths)
{{- else if contains ":" $h -}}
has a port (or is an IPv6 address): give the host name only
{{- else if gt (len $h) 253 -}}
is longer than 253 characters
{{- else if regexMatch "^(\\*\\.)?(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$" $h -}}
is an IP address: an Ingress host and an HTTPRoute hostname are DNS names
{{- else if or (not (regexMatch "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" (lower $h))) (regexMatch "[^.*]{64,}" $h) -}}
is not a host name: lowercase letters, digits, '-' and '.', each part at most 63 characters and starting and ending with a letter or digit, optionally "*." first (e.g. shop.example.com, *.example.com)
{{- else if ne $h (lower $h) -}}
has capitals: Kubernetes takes host names in lowercase ({{ lower $h }})
{{- end -}}
{{- end -}}
