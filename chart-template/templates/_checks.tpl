{{/*
Render-time checks of the values: the rules values.schema.json cannot express. svc.validate is
included by the template of every object that needs them.
*/}}

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
