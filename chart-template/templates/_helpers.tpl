{{/*
Shared helpers. These templates are identical for every generated chart, so
every define is prefixed "svc." (never the chart name, which varies).
Only keys of the values contract are read. User strings always go through
`quote`, structures through `toYaml`/`toJson`; `tpl` is never used.
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

{{/* Chart label value: "<name>-<version>". */}}
{{- define "svc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

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

{{/* Selector labels shared by every object of the release (name, instance). */}}
{{- define "svc.baseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "svc.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* Selector labels of the workload (Deployment/StatefulSet pods). The
     component label keeps CronJob pods out of the Service. */}}
{{- define "svc.selectorLabels" -}}
{{ include "svc.baseSelectorLabels" . }}
app.kubernetes.io/component: "server"
{{- end -}}

{{/* Standard labels for every object (no component label). The version label
     is .Chart.AppVersion made label-safe ("+" etc. -> "_", max 63 chars). */}}
{{- define "svc.labels" -}}
helm.sh/chart: {{ include "svc.chart" . | quote }}
{{ include "svc.baseSelectorLabels" . }}
{{- with (regexReplaceAll "[^-A-Za-z0-9_.]" (toString .Chart.AppVersion) "_" | trunc 63 | trimAll "-_.") }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end -}}

{{/* Pod template labels: podLabels, then the standard labels and the
     component (standard keys win so selectors always match).
     Call with (dict "root" $ "component" "server"|"cronjob"). */}}
{{- define "svc.podLabels" -}}
{{- $labels := dict -}}
{{- range $k, $v := .root.Values.podLabels -}}
{{- $_ := set $labels $k (toString $v) -}}
{{- end -}}
{{- range $k, $v := (include "svc.labels" .root | fromYaml) -}}
{{- $_ := set $labels $k $v -}}
{{- end -}}
{{- $_ := set $labels "app.kubernetes.io/component" .component -}}
{{- include "svc.stringMap" $labels -}}
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

{{/* Container image: repository[:tag][@digest]; tag defaults to appVersion. */}}
{{- define "svc.image" -}}
{{- $repo := required "image.repository is required: this chart was generated from a spec with image: AUTO; install with --set image.repository=REGISTRY/IMAGE" .Values.image.repository -}}
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

{{/* Service appProtocol for a port entry ("" => omit). */}}
{{- define "svc.appProtocol" -}}
{{- if eq .type "http" -}}
{{- if eq .protocol "grpc" -}}kubernetes.io/h2c
{{- else if eq .protocol "websocket" -}}kubernetes.io/ws
{{- else -}}http
{{- end -}}
{{- end -}}
{{- end -}}

{{/* List of port names (JSON). */}}
{{- define "svc.portNames" -}}
{{- $names := list -}}
{{- range .Values.ports -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* Cross-field checks that JSON Schema cannot express; fail with a clear message. */}}
{{- define "svc.validate" -}}
{{- $v := .Values -}}
{{- $names := list -}}
{{- $cports := list -}}
{{- $sports := list -}}
{{- range $v.ports -}}
{{- if has .name $names -}}{{- fail (printf "ports: duplicate port name %q" .name) -}}{{- end -}}
{{- if has (int64 .containerPort) $cports -}}{{- fail (printf "ports: duplicate containerPort %d" (int64 .containerPort)) -}}{{- end -}}
{{- if has (int64 .servicePort) $sports -}}{{- fail (printf "ports: duplicate servicePort %d" (int64 .servicePort)) -}}{{- end -}}
{{- $names = append $names .name -}}
{{- $cports = append $cports (int64 .containerPort) -}}
{{- $sports = append $sports (int64 .servicePort) -}}
{{- end -}}
{{- if $v.workload.enabled -}}
{{- if and (not $v.persistence.volumes) (include "svc.isZero" $v.workload.rollingUpdate.maxSurge) (include "svc.isZero" $v.workload.rollingUpdate.maxUnavailable) -}}
{{- fail "workload.rollingUpdate: maxSurge and maxUnavailable cannot both be 0" -}}
{{- end -}}
{{- if $v.autoscaling.enabled -}}
{{- if and (kindIs "invalid" (index $v.autoscaling "targetCPUUtilizationPercentage")) (kindIs "invalid" (index $v.autoscaling "targetMemoryUtilizationPercentage")) -}}
{{- fail "autoscaling.enabled requires targetCPUUtilizationPercentage and/or targetMemoryUtilizationPercentage to be set (not null)" -}}
{{- end -}}
{{- if gt (int64 $v.autoscaling.minReplicas) (int64 $v.autoscaling.maxReplicas) -}}
{{- fail (printf "autoscaling.minReplicas (%d) must be <= autoscaling.maxReplicas (%d)" (int64 $v.autoscaling.minReplicas) (int64 $v.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- range $name, $p := dict "livenessProbe" $v.livenessProbe "readinessProbe" $v.readinessProbe "startupProbe" $v.startupProbe -}}
{{- if and $p.enabled (or $p.path (and (not $p.command) (or $names $p.grpc.enabled))) (not (has $v.probePort $names)) -}}
{{- fail (printf "%s needs probePort %q to be the name of an entry in ports (port names: %s)" $name $v.probePort (toJson $names)) -}}
{{- end -}}
{{- end -}}
{{- $preStop := int64 $v.workload.preStopDelaySeconds -}}
{{- if and (gt $preStop 0) (ge $preStop (int64 $v.workload.terminationGracePeriodSeconds)) -}}
{{- fail (printf "workload.preStopDelaySeconds (%d) must be less than workload.terminationGracePeriodSeconds (%d)" $preStop (int64 $v.workload.terminationGracePeriodSeconds)) -}}
{{- end -}}
{{- if and $v.ingress.enabled $v.ingress.routes (not (has $v.ingress.port $names)) -}}
{{- fail (printf "ingress.port %q must be the name of an entry in ports (port names: %s)" $v.ingress.port (toJson $names)) -}}
{{- end -}}
{{- if and $v.ingress.enabled $v.ingress.routes -}}
{{- include "svc.validateRoutes" $v -}}
{{- end -}}
{{- end -}}
{{- /* The PodDisruptionBudget, when there is one, must leave room for at least one eviction. */ -}}
{{- $pdb := $v.podDisruptionBudget -}}
{{- if and $v.workload.enabled $pdb.enabled (gt (int64 (include "svc.maxReplicas" .)) 1) -}}
{{- $min := int64 (include "svc.minReplicas" .) -}}
{{- if include "svc.isSet" $pdb.minAvailable -}}
{{- $m := $pdb.minAvailable -}}
{{- $need := 0 -}}
{{- if kindIs "string" $m -}}
{{- /* A percentage rounds up, as the disruption controller does. */ -}}
{{- $need = div (add (mul (int64 (trimSuffix "%" $m)) $min) 99) 100 -}}
{{- else -}}
{{- $need = int64 $m -}}
{{- end -}}
{{- if ge (int64 $need) $min -}}
{{- fail (printf "podDisruptionBudget.minAvailable %v would block every voluntary eviction (node drain, cluster upgrade) while %d replica(s) run; lower it, or set it to \"\" and use maxUnavailable" $m $min) -}}
{{- end -}}
{{- else if or (not (include "svc.isSet" $pdb.maxUnavailable)) (include "svc.isZero" $pdb.maxUnavailable) -}}
{{- fail "podDisruptionBudget.maxUnavailable must be at least 1 (or 1%): 0 blocks every voluntary eviction (node drain, cluster upgrade)" -}}
{{- end -}}
{{- end -}}
{{- /* Volume names and mount paths of the pods must not clash. */ -}}
{{- $vols := list -}}
{{- $paths := list -}}
{{- if $v.tmpDir.enabled -}}
{{- $vols = append $vols "tmp" -}}
{{- $paths = append $paths $v.tmpDir.mountPath -}}
{{- end -}}
{{- if and $v.secretEnv.keys $v.secretEnv.mountPath -}}
{{- if has $v.secretEnv.mountPath $paths -}}{{- fail (printf "secretEnv.mountPath %q is also tmpDir.mountPath" $v.secretEnv.mountPath) -}}{{- end -}}
{{- $vols = append $vols "secrets" -}}
{{- $paths = append $paths $v.secretEnv.mountPath -}}
{{- range $v.secretEnv.keys -}}
{{- if or (eq . ".") (hasPrefix ".." .) -}}{{- fail (printf "secretEnv.keys: %q cannot be a file name under secretEnv.mountPath" .) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- if $v.workload.enabled -}}
{{- range $v.persistence.volumes -}}
{{- if has .name $vols -}}{{- fail (printf "persistence.volumes: duplicate or reserved volume name %q (\"tmp\" and \"secrets\" are used by tmpDir and secretEnv)" .name) -}}{{- end -}}
{{- if has .mountPath $paths -}}{{- fail (printf "persistence.volumes: mountPath %q is used twice (tmpDir.mountPath and secretEnv.mountPath included)" .mountPath) -}}{{- end -}}
{{- $vols = append $vols .name -}}
{{- $paths = append $paths .mountPath -}}
{{- end -}}
{{- end -}}
{{- /* Config files: one file per key and path, clear of the other mounts, within 1 MiB. */ -}}
{{- $keys := list -}}
{{- $size := 0 -}}
{{- range $v.configFiles -}}
{{- if has .key $keys -}}{{- fail (printf "configFiles: duplicate key %q" .key) -}}{{- end -}}
{{- if has .mountPath $paths -}}{{- fail (printf "configFiles: mountPath %q is used twice (tmpDir, secretEnv and persistence mounts included)" .mountPath) -}}{{- end -}}
{{- $keys = append $keys .key -}}
{{- $paths = append $paths .mountPath -}}
{{- $size = add $size (len .key) (len .content) -}}
{{- end -}}
{{- if gt (int64 $size) 1048576 -}}{{- fail (printf "configFiles: %d bytes, more than a ConfigMap holds (1 MiB)" (int64 $size)) -}}{{- end -}}
{{- /* Container names are unique in a pod; "app" is the service's own container. */ -}}
{{- $containers := list "app" -}}
{{- range (concat $v.sidecars $v.initContainers) -}}
{{- if has .name $containers -}}{{- fail (printf "initContainers/sidecars: duplicate or reserved container name %q (\"app\" is the service's container)" .name) -}}{{- end -}}
{{- $containers = append $containers .name -}}
{{- end -}}
{{- /* Without native sidecar support the API server drops restartPolicy, and the sidecar becomes
       an init container that never ends: the pods would never start. */ -}}
{{- if and $v.sidecars $v.workload.enabled (semverCompare "<1.29.0-0" $.Capabilities.KubeVersion.Version) -}}
{{- fail (printf "sidecars need Kubernetes 1.29 or later (native sidecar containers); this cluster is %s" $.Capabilities.KubeVersion.Version) -}}
{{- end -}}
{{- range $v.sidecars -}}
{{- range .ports -}}
{{- if has .name $names -}}{{- fail (printf "sidecars: port name %q is used twice in the pod" .name) -}}{{- end -}}
{{- if has (int64 .containerPort) $cports -}}{{- fail (printf "sidecars: containerPort %d is used twice in the pod" (int64 .containerPort)) -}}{{- end -}}
{{- $names = append $names .name -}}
{{- $cports = append $cports (int64 .containerPort) -}}
{{- end -}}
{{- end -}}
{{- $jobs := list -}}
{{- range $v.cronJobs -}}
{{- if has .name $jobs -}}{{- fail (printf "cronJobs: duplicate name %q" .name) -}}{{- end -}}
{{- $jobs = append $jobs .name -}}
{{- end -}}
{{- end -}}

{{/* containerPort of the port named probePort. Call with .Values. */}}
{{- define "svc.probePortNumber" -}}
{{- $want := .probePort -}}
{{- range .ports -}}
{{- if eq .name $want -}}{{- int64 .containerPort -}}{{- end -}}
{{- end -}}
{{- end -}}

{{/* Checks of TLS and of the Gateway API routes (called with .Values when there are routes). */}}
{{- define "svc.validateRoutes" -}}
{{- $ing := .ingress -}}
{{- if .gateway.enabled -}}
{{- if not .gateway.name -}}{{- fail "gateway.enabled needs gateway.name, the Gateway the HTTPRoutes attach to" -}}{{- end -}}
{{- if $ing.tls.enabled -}}{{- fail "ingress.tls cannot be used with gateway.enabled: TLS is the Gateway listener's job (an HTTPS listener with certificateRefs)" -}}{{- end -}}
{{- if $ing.stickySession.enabled -}}{{- fail "ingress.stickySession cannot be used with gateway.enabled: the standard HTTPRoute has no session persistence" -}}{{- end -}}
{{- if $ing.consistentHash -}}{{- fail "ingress.consistentHash cannot be used with gateway.enabled: the standard HTTPRoute has no load-balancing hash" -}}{{- end -}}
{{- end -}}
{{- if $ing.tls.enabled -}}
{{- if and $ing.tls.clusterIssuer $ing.tls.issuer -}}{{- fail "ingress.tls: give clusterIssuer or issuer, not both" -}}{{- end -}}
{{- range $ing.routes -}}
{{- if not .host -}}{{- fail (printf "ingress.tls: the route %q has no host, so it cannot be served over TLS" .path) -}}{{- end -}}
{{- if not (index $ing.tls.secrets .host) -}}{{- fail (printf "ingress.tls.secrets has no Secret for the host %q" .host) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Probe body (without the probe key) or "" when there is no probe.
Call with (dict "root" $ "probe" .Values.livenessProbe).
*/}}
{{- define "svc.probe" -}}
{{- $p := .probe -}}
{{- $v := .root.Values -}}
{{- if $p.enabled -}}
{{- if $p.path }}
httpGet:
  path: {{ $p.path | quote }}
  port: {{ $v.probePort | quote }}
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
{{- else if $v.ports }}
tcpSocket:
  port: {{ $v.probePort | quote }}
{{- end }}
{{- if or $p.path $p.command $v.ports }}
initialDelaySeconds: {{ int64 $p.initialDelaySeconds }}
periodSeconds: {{ int64 $p.periodSeconds }}
timeoutSeconds: {{ int64 $p.timeoutSeconds }}
failureThreshold: {{ int64 $p.failureThreshold }}
successThreshold: {{ int64 $p.successThreshold }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Container. Call with (dict "root" $ "component" "server") for the main
container "app", or (dict "root" $ "component" "cronjob" "job" $job) for a
cron job container "job" (no ports, no probes, no persistence mounts), or
(dict "root" $ "component" "init"|"sidecar" "extra" $entry) for an entry of
initContainers or sidecars (its own name, image, command, args, resources and
ports; no probes; a sidecar restarts always). All share env and mounts.
*/}}
{{- define "svc.container" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $isJob := eq .component "cronjob" -}}
{{- $extra := .extra -}}
{{- $command := $v.command -}}
{{- $args := $v.args -}}
{{- $ports := ternary (list) $v.ports $isJob -}}
{{- $resources := $v.resources -}}
{{- if $isJob -}}
{{- $command = .job.command -}}
{{- $args = .job.args -}}
{{- end -}}
{{- if $extra -}}
{{- $command = $extra.command -}}
{{- $args = $extra.args -}}
{{- $ports = default (list) $extra.ports -}}
{{- $resources = default $v.resources $extra.resources -}}
{{- end -}}
{{- if $extra }}
name: {{ $extra.name | quote }}
image: {{ default (include "svc.image" $root) $extra.image | quote }}
{{- else }}
name: {{ ternary "job" "app" $isJob }}
image: {{ include "svc.image" $root | quote }}
{{- end }}
imagePullPolicy: {{ $v.image.pullPolicy | quote }}
{{- if eq .component "sidecar" }}
restartPolicy: "Always"
{{- end }}
{{- with $command }}
command:
  {{- range . }}
  - {{ . | quote }}
  {{- end }}
{{- end }}
{{- with $args }}
args:
  {{- range . }}
  - {{ . | quote }}
  {{- end }}
{{- end }}
{{- with $ports }}
ports:
  {{- range . }}
  - name: {{ .name | quote }}
    containerPort: {{ int64 .containerPort }}
    protocol: TCP
  {{- end }}
{{- end }}
{{- $secretFiles := and $v.secretEnv.keys $v.secretEnv.mountPath }}
{{- $secretEnv := ternary (list) $v.secretEnv.keys (not (empty $secretFiles)) }}
{{- if or $v.envRefs $v.env $secretEnv }}
env:
  {{- /* Keys of existing objects first, so plain values may use them as $(NAME). */}}
  {{- range $v.envRefs }}
  - name: {{ .name | quote }}
    valueFrom:
      {{- if .secret }}
      secretKeyRef:
        name: {{ .secret | quote }}
      {{- else }}
      configMapKeyRef:
        name: {{ .configMap | quote }}
      {{- end }}
        key: {{ .key | quote }}
        optional: {{ .optional | toJson }}
  {{- end }}
  {{- range $v.env }}
  - name: {{ .name | quote }}
    value: {{ .value | quote }}
  {{- end }}
  {{- $secretName := include "svc.secretName" $root }}
  {{- range $secretEnv }}
  - name: {{ . | quote }}
    valueFrom:
      secretKeyRef:
        name: {{ $secretName | quote }}
        key: {{ . | quote }}
  {{- end }}
{{- end }}
{{- with $v.envFrom }}
envFrom:
  {{- range . }}
  {{- if .prefix }}
  - prefix: {{ .prefix | quote }}
    {{- if .secret }}
    secretRef:
    {{- else }}
    configMapRef:
    {{- end }}
  {{- else if .secret }}
  - secretRef:
  {{- else }}
  - configMapRef:
  {{- end }}
      name: {{ default .configMap .secret | quote }}
      optional: {{ .optional | toJson }}
  {{- end }}
{{- end }}
{{- if not (or $isJob $extra) }}
{{- with include "svc.probe" (dict "root" $root "probe" $v.livenessProbe) }}
livenessProbe:
  {{- . | trim | nindent 2 }}
{{- end }}
{{- with include "svc.probe" (dict "root" $root "probe" $v.readinessProbe) }}
readinessProbe:
  {{- . | trim | nindent 2 }}
{{- end }}
{{- with include "svc.probe" (dict "root" $root "probe" $v.startupProbe) }}
startupProbe:
  {{- . | trim | nindent 2 }}
{{- end }}
{{- with $v.workload.preStopDelaySeconds }}
{{- /* Keeps serving while endpoints and load balancers stop sending new connections. */}}
lifecycle:
  preStop:
    sleep:
      seconds: {{ int64 . }}
{{- end }}
{{- end }}
{{- with $resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $volumes := ternary (list) $v.persistence.volumes $isJob }}
{{- if or $v.tmpDir.enabled $volumes $secretFiles $v.configFiles }}
volumeMounts:
  {{- if $v.tmpDir.enabled }}
  - name: "tmp"
    mountPath: {{ $v.tmpDir.mountPath | quote }}
  {{- end }}
  {{- if $secretFiles }}
  - name: "secrets"
    mountPath: {{ $v.secretEnv.mountPath | quote }}
    readOnly: true
  {{- end }}
  {{- range $v.configFiles }}
  - name: "config-files"
    mountPath: {{ .mountPath | quote }}
    subPath: {{ .key | quote }}
    readOnly: true
  {{- end }}
  {{- range $volumes }}
  - name: {{ .name | quote }}
    mountPath: {{ .mountPath | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
Pod template (metadata + spec) shared by the workload and the cron jobs.
Call with (dict "root" $ "component" "server") or
(dict "root" $ "component" "cronjob" "job" $job).
*/}}
{{- define "svc.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $isJob := eq .component "cronjob" -}}
{{- $annotations := dict -}}
{{- range $k, $val := $v.podAnnotations -}}
{{- $_ := set $annotations $k $val -}}
{{- end -}}
{{- if $v.configFiles -}}
{{- /* Rolls the pods when the config files change, whoever changed them (spec or --set). */ -}}
{{- $_ := set $annotations "checksum/config" (include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum) -}}
{{- end -}}
metadata:
  {{- with $annotations }}
  annotations:
    {{- include "svc.stringMap" . | nindent 4 }}
  {{- end }}
  labels:
    {{- include "svc.podLabels" (dict "root" $root "component" .component) | nindent 4 }}
spec:
  {{- if $isJob }}
  restartPolicy: Never
  {{- else }}
  terminationGracePeriodSeconds: {{ int64 $v.workload.terminationGracePeriodSeconds }}
  {{- end }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  serviceAccountName: {{ include "svc.serviceAccountName" $root | quote }}
  automountServiceAccountToken: {{ $v.automountServiceAccountToken | toJson }}
  {{- with $v.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- include "svc.stringMap" . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $spread := $v.topologySpread }}
  {{- if and (not $isJob) $spread.enabled $spread.topologyKeys (gt (int64 (include "svc.maxReplicas" $root)) 1) }}
  {{- /* Replicas spread over nodes and zones; pod-template-hash (Deployments) counts only the
       pods of the current revision, so a rollout does not skew the new ReplicaSet. */}}
  topologySpreadConstraints:
    {{- range $spread.topologyKeys }}
    - maxSkew: {{ int64 $spread.maxSkew }}
      topologyKey: {{ . | quote }}
      whenUnsatisfiable: {{ $spread.whenUnsatisfiable | quote }}
      labelSelector:
        matchLabels:
          {{- include "svc.selectorLabels" $root | nindent 10 }}
      {{- if not $v.persistence.volumes }}
      matchLabelKeys:
        - "pod-template-hash"
      {{- end }}
    {{- end }}
  {{- end }}
  {{- $secretFiles := and $v.secretEnv.keys $v.secretEnv.mountPath }}
  {{- if or $v.tmpDir.enabled $secretFiles $v.configFiles }}
  volumes:
    {{- if $v.tmpDir.enabled }}
    - name: "tmp"
      {{- if ne (toString $v.tmpDir.sizeLimit) "" }}
      emptyDir:
        sizeLimit: {{ $v.tmpDir.sizeLimit | toJson }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- end }}
    {{- if $secretFiles }}
    {{- /* The Secret's keys as read-only files (0440, group fsGroup), not environment variables. */}}
    - name: "secrets"
      secret:
        secretName: {{ include "svc.secretName" $root | quote }}
        defaultMode: 288
        items:
          {{- range $v.secretEnv.keys }}
          - key: {{ . | quote }}
            path: {{ . | quote }}
          {{- end }}
    {{- end }}
    {{- if $v.configFiles }}
    {{- /* Read-only for everyone (0444): configuration, not secrets. */}}
    - name: "config-files"
      configMap:
        name: {{ include "svc.configMapName" $root | quote }}
        defaultMode: 292
    {{- end }}
  {{- end }}
  {{- if and (not $isJob) (or $v.sidecars $v.initContainers) }}
  {{- /* Native sidecars first, so the init containers can already use them. */}}
  initContainers:
    {{- range $v.sidecars }}
    - {{ include "svc.container" (dict "root" $root "component" "sidecar" "extra" .) | indent 6 | trim }}
    {{- end }}
    {{- range $v.initContainers }}
    - {{ include "svc.container" (dict "root" $root "component" "init" "extra" .) | indent 6 | trim }}
    {{- end }}
  {{- end }}
  containers:
    - {{ include "svc.container" . | indent 6 | trim }}
{{- end -}}
