{{/*
Helpers of the chart's templates. These files are identical for every generated chart, so every
define is prefixed "svc." (never the chart name, which varies). Only keys of the values contract
are read. User strings always go through `quote`, structures through `toYaml`/`toJson`; `tpl` is
never used. The helpers are grouped by what they serve:

  _names.tpl      names of the objects (fullname, ServiceAccount, Secret, ConfigMap, StatefulSet,
                  the release Job and its hook ServiceAccount and ConfigMap)
  _labels.tpl     labels and selectors of the objects and of the pod templates
  _image.tpl      the container image reference
  _probes.tpl     the liveness, readiness and startup probes of the service's container
  _container.tpl  a container: the service's, a cron job's, the release Job's, an init
                  container's or a sidecar's
  _pod.tpl        the pod template of the Deployment or StatefulSet, the CronJobs and the
                  release Job
  _hooks.tpl      the hook annotations of the release phase (Helm and Argo CD)
  _service.tpl    the ports of the Services
  _checks.tpl     the render-time checks of the values, run by validate.yaml (and only there)
  _helpers.tpl    this file: value formatting, the workload's replica bounds and its replica
                  count (read from the cluster with lookup)

The objects' templates are named after their kind (deployment.yaml, service.yaml, ...);
validate.yaml renders nothing: it runs the checks of _checks.tpl.
*/}}

{{/* A map of strings (annotations, labels, nodeSelector) as YAML lines, every
     key and value quoted (more robust than toYaml for odd strings: "=",
     U+0085/U+2028, trailing newlines). Keys are sorted. */}}
{{- define "svc.stringMap" -}}
{{- $lines := list -}}
{{- range $k, $v := . -}}
{{- $lines = append $lines (printf "%s: %s" (quote $k) (quote $v)) -}}
{{- end -}}
{{- join "\n" $lines -}}
{{- end -}}

{{/* The cron jobs as a JSON list sorted by name, each entry of cronJobs (a mapping by name, so
     `--set cronJobs.NAME.suspend=true` reaches one) with its name and every field it leaves out
     (or sets to null: helm drops a default key set to null) given the chart's default, so a new
     entry needs only schedule and command. A null entry (`--set cronJobs.NEW=null`) is no job.
     Call with .Values. */}}
{{- define "svc.cronJobs" -}}
{{- $defaults := dict "args" (list) "timeZone" "" "suspend" false "concurrencyPolicy" "Forbid" "startingDeadlineSeconds" 300 "activeDeadlineSeconds" nil "backoffLimit" 2 "successfulJobsHistoryLimit" 3 "failedJobsHistoryLimit" 1 "ttlSecondsAfterFinished" 86400 -}}
{{- $out := list -}}
{{- range $name, $given := .cronJobs -}}
{{- if not (kindIs "invalid" $given) -}}
{{- $job := dict "name" $name "schedule" $given.schedule "command" $given.command -}}
{{- range $key, $default := $defaults -}}
{{- $value := index $given $key -}}
{{- $_ := set $job $key (ternary $default $value (kindIs "invalid" $value)) -}}
{{- end -}}
{{- $out = append $out $job -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The service's ports as a JSON list sorted by name, each entry of ports (a mapping by name, so
     `--set ports.NAME.servicePort=8080` reaches one) with its name and the defaults of what it
     leaves out: type tcp, protocol "", servicePort 80 for an http port and containerPort for a
     tcp one (the spec's). A null entry (`--set ports.NEW=null`) is no port. Nothing depends on
     the order. Call with .Values. */}}
{{- define "svc.ports" -}}
{{- $out := list -}}
{{- range $name, $given := .ports -}}
{{- if not (kindIs "invalid" $given) -}}
{{- $type := $given.type | default "tcp" -}}
{{- $servicePort := index $given "servicePort" -}}
{{- if kindIs "invalid" $servicePort -}}
{{- $servicePort = ternary 80 $given.containerPort (eq $type "http") -}}
{{- end -}}
{{- $out = append $out (dict "name" $name "containerPort" $given.containerPort "servicePort" $servicePort "type" $type "protocol" ($given.protocol | default "")) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* int-or-string value (e.g. maxSurge): strings quoted, numbers as integers. */}}
{{- define "svc.intOrString" -}}
{{- if kindIs "string" . -}}
{{- quote . -}}
{{- else -}}
{{- int64 . | toJson -}}
{{- end -}}
{{- end -}}

{{/* "true" when an int-or-string value is zero (0 or "0%"). */}}
{{- define "svc.isZero" -}}
{{- if has (toString .) (list "0" "0%") -}}true{{- end -}}
{{- end -}}

{{/* "true" when an optional int-or-string value is given (not null, not ""). */}}
{{- define "svc.isSet" -}}
{{- if not (or (kindIs "invalid" .) (eq (toString .) "")) -}}true{{- end -}}
{{- end -}}

{{/* The fewest and the most replicas of the workload that can run (the HPA's bounds, or
     workload.replicas without autoscaling). */}}
{{- define "svc.minReplicas" -}}
{{- if .Values.autoscaling.enabled -}}{{- int64 .Values.autoscaling.minReplicas -}}{{- else -}}{{- int64 .Values.workload.replicas -}}{{- end -}}
{{- end -}}
{{- define "svc.maxReplicas" -}}
{{- if .Values.autoscaling.enabled -}}{{- int64 .Values.autoscaling.maxReplicas -}}{{- else -}}{{- int64 .Values.workload.replicas -}}{{- end -}}
{{- end -}}

{{/* The workload's spec.replicas, or nothing: then the field is left out and the HPA alone sets
     it. A fixed count (no autoscaling) is workload.replicas. Autoscaled, with
     autoscaling.manageReplicas, the count the workload must not go below while helm applies it:
     - nothing live (a first install; and helm template, Argo CD, --dry-run=client, where lookup
       finds nothing): autoscaling.minReplicas, so it starts at its floor;
     - the workload live, under this release's HPA: its live count, exactly, so the apply never
       moves what the HPA set (server-side apply would conflict with the HPA's field manager);
       the HPA itself raises it to a new minReplicas within seconds;
     - the workload live without the HPA (a fixed count until now): the larger of its count and
       autoscaling.minReplicas, so switching to autoscaling never removes a pod.
     Leaving the field out instead would make helm remove it from a live object, which resets
     it to 1 (the API server's default). The lookups read only kinds this chart renders (the
     workload and the HPA), which helm itself must read to install or upgrade them. */}}
{{- define "svc.replicas" -}}
{{- $v := .Values -}}
{{- if not $v.autoscaling.enabled -}}
{{- int64 $v.workload.replicas -}}
{{- else if $v.autoscaling.manageReplicas -}}
{{- $stateful := not (empty $v.persistence.volumes) -}}
{{- $kind := ternary "StatefulSet" "Deployment" $stateful -}}
{{- $name := ternary (include "svc.statefulSetName" .) (include "svc.fullname" .) $stateful -}}
{{- $live := lookup "apps/v1" $kind .Release.Namespace $name -}}
{{- $hpa := dict -}}
{{- if $live -}}
{{- $hpa = lookup "autoscaling/v2" "HorizontalPodAutoscaler" .Release.Namespace (include "svc.fullname" .) -}}
{{- end -}}
{{- include "svc.replicasFrom" (dict "min" $v.autoscaling.minReplicas "live" $live "hpa" $hpa) -}}
{{- end -}}
{{- end -}}

{{/* The autoscaled count from what lookup found (see svc.replicas). Call with
     (dict "min" N "live" <the live workload or {}> "hpa" <the live HPA or {}>). */}}
{{- define "svc.replicasFrom" -}}
{{- $min := int64 .min -}}
{{- $spec := dig "spec" (dict) .live -}}
{{- if hasKey $spec "replicas" -}}
{{- $count := int64 $spec.replicas -}}
{{- if .hpa -}}{{- $count -}}{{- else -}}{{- max $min $count -}}{{- end -}}
{{- else -}}
{{- $min -}}
{{- end -}}
{{- end -}}

{{/* "true" when the cluster keeps an HPA's behavior.scaleUp/scaleDown.tolerance (KEP-4951: beta
     and on by default from Kubernetes 1.35; before, the field is dropped or unknown). */}}
{{- define "svc.hpaTolerance" -}}
{{- if semverCompare ">=1.35.0-0" .Capabilities.KubeVersion.Version -}}true{{- end -}}
{{- end -}}
