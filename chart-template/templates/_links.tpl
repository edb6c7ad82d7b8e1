{{/*
Opta's links (values `links`): the env vars of each linked module, read from one Secret per link
that the user creates, and the preflight check of those Secrets. Kept apart from _container.tpl
and _checks.tpl, which only include these.
*/}}

{{/* The Secret of a link: its secretName, else "<fullname>-link-<module in lowercase>".
     Call with (dict "root" $ "name" $module "link" $link). */}}
{{- define "svc.linkSecretName" -}}
{{- default (printf "%s-link-%s" (include "svc.fullname" .root) (lower .name)) .link.secretName -}}
{{- end -}}

{{/* The env entries of every link, by module name (a YAML list at column 0; empty without
     links). */}}
{{- define "svc.linkEnv" -}}
{{- range $name, $l := .Values.links }}
{{- $secret := include "svc.linkSecretName" (dict "root" $ "name" $name "link" $l) }}
{{- range $l.env }}
- name: {{ .name | quote }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret | quote }}
      key: {{ .key | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The kubectl command that makes a link's Secret. Call as svc.linkSecretName. */}}
{{- define "svc.linkSecretCommand" -}}
{{- $literals := list -}}
{{- range .link.env -}}{{- $literals = append $literals (printf "--from-literal=%s=..." .key) -}}{{- end -}}
kubectl --namespace {{ .root.Release.Namespace }} create secret generic {{ include "svc.linkSecretName" . }} {{ join " " $literals }}
{{- end -}}

{{/* links (preflight): every link's Secret exists, with every key its variables read. */}}
{{- define "svc.check.preflightLinks" -}}
{{- if and .Values.links (include "svc.preflight" .) -}}
{{- $ns := .Release.Namespace -}}
{{- range $module, $l := .Values.links -}}
{{- $ctx := dict "root" $ "name" $module "link" $l -}}
{{- $name := include "svc.linkSecretName" $ctx -}}
{{- $secret := lookup "v1" "Secret" $ns $name -}}
{{- if not $secret -}}
{{- fail (printf "links.%s (%s): the Secret %q does not exist in namespace %q; the pods cannot start without it. Create it first: %s %s" $module $l.type $name $ns (include "svc.linkSecretCommand" $ctx) (include "svc.preflightSkip" $)) -}}
{{- end -}}
{{- $data := default (dict) $secret.data -}}
{{- range $l.env -}}
{{- if not (hasKey $data .key) -}}
{{- fail (printf "links.%s (%s): the Secret %q in namespace %q has no key %q (for %s; its keys: %s); the pods cannot start without it %s" $module $l.type $name $ns .key .name (keys $data | sortAlpha | toJson) (include "svc.preflightSkip" $)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
