{{/*
Names of the objects. Kubernetes names are at most 63 characters (52 where a controller appends
a suffix to make pod or job names); every name is cut to fit.
*/}}

{{/* Chart name (nameOverride or .Chart.Name), max 63 chars. */}}
{{- define "svc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified app name (helm create logic): fullnameOverride, else the
release name when it already contains the name, else "<release>-<name>";
max 63 chars.
*/}}
{{- define "svc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<suffix>" with the fullname shortened so the total is <= max.
     Call with (dict "root" $ "suffix" "-headless" "max" 63). */}}
{{- define "svc.fullnameWithSuffix" -}}
{{- $base := include "svc.fullname" .root | trunc (int (sub (int .max) (len .suffix))) | trimSuffix "-" -}}
{{- printf "%s%s" $base .suffix -}}
{{- end -}}

{{/* Name of the ServiceAccount used by the pods. */}}
{{- define "svc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "svc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Name of the (user-created) Secret holding secretEnv.keys. */}}
{{- define "svc.secretName" -}}
{{- default (printf "%s-secrets" (include "svc.fullname" .)) .Values.secretEnv.secretName -}}
{{- end -}}

{{/* Name of the generated ConfigMap holding configFiles. */}}
{{- define "svc.configMapName" -}}
{{- include "svc.fullnameWithSuffix" (dict "root" . "suffix" "-config" "max" 63) -}}
{{- end -}}

{{/* Headless Service name (StatefulSet serviceName). */}}
{{- define "svc.headlessName" -}}
{{- include "svc.fullnameWithSuffix" (dict "root" . "suffix" "-headless" "max" 63) -}}
{{- end -}}

{{/* StatefulSet name: <= 52 chars so the controller-revision-hash pod label
     ("<name>-<hash>") stays within 63 chars. */}}
{{- define "svc.statefulSetName" -}}
{{- include "svc.fullname" . | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* Volume name of a writablePaths entry, from its mount path: "w-", the path as a DNS label
     (lowercased, other characters as "-", at most 40 characters) and the first 8 hex digits
     of the path's sha256, so that two paths never share a name. At most 51 characters.
     Call with the mount path. */}}
{{- define "svc.writableVolumeName" -}}
{{- $slug := regexReplaceAll "[^a-z0-9]+" (lower .) "-" | trimAll "-" | trunc 40 | trimSuffix "-" -}}
{{- printf "w-%s-%s" $slug (sha256sum . | trunc 8) -}}
{{- end -}}

{{/* The release phase (releaseJob): the Job, and when the chart makes the pods' ServiceAccount
     (serviceAccount.create), the hook ServiceAccount the Job runs as; else the Job runs as
     serviceAccount.name, which exists beforehand. */}}
{{- define "svc.releaseJobName" -}}
{{- include "svc.fullnameWithSuffix" (dict "root" . "suffix" "-release" "max" 63) -}}
{{- end -}}
{{- define "svc.releaseServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- include "svc.fullnameWithSuffix" (dict "root" . "suffix" "-release" "max" 63) -}}
{{- else -}}
{{- include "svc.serviceAccountName" . -}}
{{- end -}}
{{- end -}}

{{/* The release Job's own copy of the config files (a hook, like the Job). */}}
{{- define "svc.releaseConfigMapName" -}}
{{- include "svc.fullnameWithSuffix" (dict "root" . "suffix" "-release-config" "max" 63) -}}
{{- end -}}

{{/*
The TLS Secret of a host: ingress.tls.secrets.<key> when given, else ingress.tls.secretName (one
existing Secret for every host, kept as given), else "<fullname>-<host>-tls", which cert-manager
writes: dots as dashes and "*." as "wildcard-", so a reader sees the host it serves. Named by the
release, so two releases of the chart in one namespace never share (and cert-manager never fights
over) a Secret; by the host, so it follows a host given at install time. One Secret per host, not
one for the release: cert-manager makes one Certificate per Ingress and Secret, so Ingresses that
shared a Secret for different hosts would each rewrite it with their own host. Longer than 63
characters (kept a valid label value, as cert-manager's own labels need): a hash of the host
replaces its tail. Call with (dict "root" $ "key" KEY "host" HOST).
*/}}
{{- define "svc.tlsSecretName" -}}
{{- $tls := .root.Values.ingress.tls -}}
{{- $given := index (default dict $tls.secrets) .key | default $tls.secretName -}}
{{- if $given -}}
{{- $given -}}
{{- else -}}
{{- $base := printf "%s-%s" (include "svc.fullname" .root) (.host | replace "*." "wildcard." | replace "." "-") -}}
{{- if le (len $base) 59 -}}
{{- printf "%s-tls" $base -}}
{{- else -}}
{{- printf "%s-%s-tls" ($base | trunc 50 | trimSuffix "-") (.host | sha256sum | trunc 8) -}}
{{- end -}}
{{- end -}}
{{- end -}}
