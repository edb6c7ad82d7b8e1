{{/*
The container image reference, used by every container that has no image of its own and by
NOTES.txt.
*/}}

{{/* Container image: repository[:tag][@digest]; tag defaults to appVersion. */}}
{{- define "svc.image" -}}
{{- /* Never empty when rendered: svc.check.image (_checks.tpl) requires it first. */ -}}
{{- $repo := default "" .Values.image.repository -}}
{{- $tag := toString (default .Chart.AppVersion .Values.image.tag) -}}
{{- $image := $repo -}}
{{- if $tag -}}
{{- $image = printf "%s:%s" $image $tag -}}
{{- end -}}
{{- with .Values.image.digest -}}
{{- $image = printf "%s@%s" $image . -}}
{{- end -}}
{{- $image -}}
{{- end -}}
