{{/*
Right-sizing (rightSizing, vpa.yaml): the VPA's mode and resources, and the containers'
resizePolicy. Called with the root context.
*/}}

{{/* "true" when running pods can be resized in place: Kubernetes 1.35, where in-place pod resize
     (KEP 1287) is GA. */}}
{{- define "svc.inPlaceResize" -}}
{{- if semverCompare ">=1.35.0-0" .Capabilities.KubeVersion.Version -}}true{{- end -}}
{{- end -}}

{{/* The VPA's updateMode: rightSizing.updateMode, except that InPlaceOrRecreate on a cluster
     without in-place resize becomes Off (recommend only) rather than a VPA that evicts pods to
     resize them. NOTES.txt says so. */}}
{{- define "svc.vpaUpdateMode" -}}
{{- $mode := .Values.rightSizing.updateMode -}}
{{- if and (eq $mode "InPlaceOrRecreate") (not (include "svc.inPlaceResize" .)) -}}Off{{- else -}}{{- $mode -}}{{- end -}}
{{- end -}}

{{/* The resources the VPA controls, as a JSON list: cpu and memory, less those the autoscaler
     scales on by utilisation (the HPA's targets, or KEDA's cpu/memory triggers). Two controllers
     on one signal fight: the VPA raises the CPU request, the utilisation the HPA reads drops, the
     HPA removes pods, and round again. */}}
{{- define "svc.vpaResources" -}}
{{- $a := .Values.autoscaling -}}
{{- $taken := list -}}
{{- if $a.enabled -}}
{{- if $a.keda.enabled -}}
{{- range $a.keda.triggers -}}{{- $taken = append $taken .type -}}{{- end -}}
{{- else -}}
{{- if not (kindIs "invalid" (index $a "targetCPUUtilizationPercentage")) -}}{{- $taken = append $taken "cpu" -}}{{- end -}}
{{- if not (kindIs "invalid" (index $a "targetMemoryUtilizationPercentage")) -}}{{- $taken = append $taken "memory" -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- $out := list -}}
{{- range list "cpu" "memory" -}}{{- if not (has . $taken) -}}{{- $out = append $out . -}}{{- end -}}{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The container "app"'s resizePolicy, when the VPA resizes it in place: CPU without a restart
     (the kernel's CFS quota changes under a running process), memory with one. Most runtimes size
     themselves from the memory limit once, at start (the JVM's heap, Node's old space, Go's
     GOMEMLIMIT set from it), so a process resized in place keeps the old size, and a lowered
     limit below what it already holds would be refused or end in an OOM kill; a restart lets it
     read the new one. */}}
{{- define "svc.resizePolicy" -}}
{{- if and .Values.rightSizing.enabled (eq (include "svc.vpaUpdateMode" .) "InPlaceOrRecreate") -}}
- resourceName: cpu
  restartPolicy: NotRequired
- resourceName: memory
  restartPolicy: RestartContainer
{{- end -}}
{{- end -}}
