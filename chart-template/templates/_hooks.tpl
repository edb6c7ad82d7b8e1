{{/*
Hooks: the annotations that make an object part of the release phase (releaseJob), run before
the release's other objects are created or changed.
*/}}

{{/* Annotations of an object of the release phase: a Helm hook before install and upgrade and
     the Argo CD PreSync hook (Argo CD maps Helm hooks itself, but ignores them on an object that
     has its own hook annotations, so both are written). Lower weights run first: the hook
     ServiceAccount and config files (-10) before the Job (0). Each is replaced when the next
     release runs the hook again (before-hook-creation), never deleted after it: the Job and its
     logs stay readable, succeeded or failed. Helm 4 prints a failed Job's logs itself
     (hook-output-log-policy; Helm 3 ignores the annotation). helm uninstall leaves hooks behind.
     Call with (dict "weight" -10) or (dict "weight" 0 "job" true). */}}
{{- define "svc.releaseHookAnnotations" -}}
helm.sh/hook: "pre-install,pre-upgrade"
helm.sh/hook-weight: {{ toString .weight | quote }}
helm.sh/hook-delete-policy: "before-hook-creation"
argocd.argoproj.io/hook: "PreSync"
argocd.argoproj.io/hook-delete-policy: "BeforeHookCreation"
argocd.argoproj.io/sync-wave: {{ toString .weight | quote }}
{{- if .job }}
helm.sh/hook-output-log-policy: "hook-failed"
{{- end }}
{{- end -}}
