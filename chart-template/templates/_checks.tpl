{{/*
Render-time checks of the values: the rules values.schema.json cannot express (unique names,
ports and paths; values that must agree with each other; the cluster's Kubernetes version).
Each define checks one subject and fails with a message that starts with the value at fault,
e.g. `ports.web.containerPort 8080 is also ports.api's ...`. validate.yaml includes each of them on its own
line, in this order, and is the only caller. Called with the root context.
*/}}

{{/* ports: container ports and service ports are unique (names are, as keys of a mapping). */}}
{{- define "svc.check.ports" -}}
{{- $cports := dict -}}
{{- $sports := dict -}}
{{- range $p := include "svc.ports" .Values | fromJsonArray -}}
{{- $c := toString (int64 $p.containerPort) -}}
{{- $s := toString (int64 $p.servicePort) -}}
{{- with index $cports $c -}}{{- fail (printf "ports.%s.containerPort %s is also ports.%s's: container ports are unique in the pod" $p.name $c .) -}}{{- end -}}
{{- with index $sports $s -}}{{- fail (printf "ports.%s.servicePort %s is also ports.%s's: service ports are unique" $p.name $s .) -}}{{- end -}}
{{- $_ := set $cports $c $p.name -}}
{{- $_ := set $sports $s $p.name -}}
{{- end -}}
{{- end -}}

{{/* workload.rollingUpdate: a Deployment's rolling update must be able to add or remove a pod. */}}
{{- define "svc.check.rollingUpdate" -}}
{{- $ru := .Values.workload.rollingUpdate -}}
{{- if and (not .Values.persistence.volumes) (include "svc.isZero" $ru.maxSurge) (include "svc.isZero" $ru.maxUnavailable) -}}
{{- fail "workload.rollingUpdate.maxSurge and workload.rollingUpdate.maxUnavailable cannot both be 0" -}}
{{- end -}}
{{- end -}}

{{/* autoscaling: the HPA needs a metric and bounds in order; KEDA needs a trigger. */}}
{{- define "svc.check.autoscaling" -}}
{{- $a := .Values.autoscaling -}}
{{- if $a.enabled -}}
{{- $k := $a.keda -}}
{{- if $k.enabled -}}
{{- if not $k.triggers -}}
{{- fail "autoscaling.keda.triggers is empty: autoscaling.keda.enabled needs at least one trigger" -}}
{{- end -}}
{{- if gt (int64 $k.minReplicaCount) (int64 $a.maxReplicas) -}}
{{- fail (printf "autoscaling.keda.minReplicaCount (%d) must be <= autoscaling.maxReplicas (%d)" (int64 $k.minReplicaCount) (int64 $a.maxReplicas)) -}}
{{- end -}}
{{- range $i, $t := $k.triggers -}}
{{- if and $t.authentication (not (hasKey $k.authentications $t.authentication)) -}}
{{- fail (printf "autoscaling.keda.triggers[%d].authentication %q is not a key of autoscaling.keda.authentications" $i $t.authentication) -}}
{{- end -}}
{{- end -}}
{{- else if and (kindIs "invalid" (index $a "targetCPUUtilizationPercentage")) (kindIs "invalid" (index $a "targetMemoryUtilizationPercentage")) (not $a.metrics) -}}
{{- fail "autoscaling.targetCPUUtilizationPercentage and autoscaling.targetMemoryUtilizationPercentage are both null: autoscaling.enabled needs at least one of them, or autoscaling.metrics" -}}
{{- end -}}
{{- range $i, $m := $a.metrics -}}
{{- if ne (len (compact (list $m.value $m.averageValue))) 1 -}}
{{- fail (printf "autoscaling.metrics[%d] needs exactly one of value and averageValue" $i) -}}
{{- end -}}
{{- if and (eq $m.type "Pods") $m.value -}}
{{- fail (printf "autoscaling.metrics[%d]: a Pods metric takes averageValue (per pod), not value" $i) -}}
{{- end -}}
{{- end -}}
{{- if gt (int64 $a.minReplicas) (int64 $a.maxReplicas) -}}
{{- fail (printf "autoscaling.minReplicas (%d) must be <= autoscaling.maxReplicas (%d)" (int64 $a.minReplicas) (int64 $a.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* probePort: a probe that reaches a port (HTTP GET, gRPC, TCP) names it by an entry of ports. */}}
{{- define "svc.check.probePort" -}}
{{- $v := .Values -}}
{{- $names := list -}}
{{- range include "svc.ports" $v | fromJsonArray -}}{{- $names = append $names .name -}}{{- end -}}
{{- range $probe, $p := dict "livenessProbe" $v.livenessProbe "readinessProbe" $v.readinessProbe "startupProbe" $v.startupProbe -}}
{{- if and $p.enabled (or $p.path (and (not $p.command) (or $names $p.grpc.enabled))) (not (has $v.probePort $names)) -}}
{{- fail (printf "probePort %q must be the name of an entry in ports: %s uses it (port names: %s)" $v.probePort $probe (toJson $names)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* workload.preStopDelaySeconds: the preStop sleep ends inside the grace period. */}}
{{- define "svc.check.preStop" -}}
{{- $w := .Values.workload -}}
{{- $preStop := int64 $w.preStopDelaySeconds -}}
{{- if and (gt $preStop 0) (ge $preStop (int64 $w.terminationGracePeriodSeconds)) -}}
{{- fail (printf "workload.preStopDelaySeconds (%d) must be less than workload.terminationGracePeriodSeconds (%d)" $preStop (int64 $w.terminationGracePeriodSeconds)) -}}
{{- end -}}
{{- end -}}

{{/* ingress.port: the routes reach the port named by an entry of ports. */}}
{{- define "svc.check.ingressPort" -}}
{{- $v := .Values -}}
{{- $names := list -}}
{{- range include "svc.ports" $v | fromJsonArray -}}{{- $names = append $names .name -}}{{- end -}}
{{- if and $v.ingress.enabled $v.ingress.routes (not (has $v.ingress.port $names)) -}}
{{- fail (printf "ingress.port %q must be the name of an entry in ports (port names: %s)" $v.ingress.port (toJson $names)) -}}
{{- end -}}
{{- end -}}

{{/* gateway: the routes as Gateway API routes need a Gateway, and cannot do what only the
     ingress-nginx Ingress does (the Standard channel of Gateway API v1.6). */}}
{{- define "svc.check.gateway" -}}
{{- $ing := .Values.ingress -}}
{{- $gw := .Values.gateway -}}
{{- if and $ing.enabled $ing.routes $gw.enabled -}}
{{- if not $gw.name -}}{{- fail "gateway.name is empty: gateway.enabled needs gateway.name, the Gateway the HTTPRoutes attach to" -}}{{- end -}}
{{- if $ing.tls.enabled -}}{{- fail "ingress.tls.enabled cannot be used with gateway.enabled: TLS is the Gateway listener's job (an HTTPS listener with certificateRefs)" -}}{{- end -}}
{{- if and $ing.stickySession.enabled (not $gw.experimentalSessionPersistence) -}}{{- fail "ingress.stickySession.enabled with gateway.enabled needs gateway.experimentalSessionPersistence=true: HTTPRoute sessionPersistence is in the Experimental channel only (or use your implementation's affinity policy, or an ingress-nginx Ingress)" -}}{{- end -}}
{{- if $ing.consistentHash -}}{{- fail "ingress.consistentHash cannot be used with gateway.enabled: Gateway API has no portable load-balancing hash (use your implementation's policy: Envoy Gateway BackendTrafficPolicy, Istio DestinationRule; or an ingress-nginx Ingress)" -}}{{- end -}}
{{- if eq $ing.backendProtocol "grpc" -}}
{{- range $i, $r := $ing.routes -}}
{{- if ne $r.path "/" -}}{{- fail (printf "ingress.routes[%d].path %q: a grpc port gets a GRPCRoute, which matches gRPC services, not paths; give the route the path \"/\"" $i $r.path) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- range $k, $d := $gw.timeouts -}}
{{- if and $d (not (regexMatch "^([0-9]{1,5}(h|m|s|ms)){1,4}$" (toString $d))) -}}{{- fail (printf "gateway.timeouts.%s %q is not a Gateway API duration such as 3600s, 1h or 500ms" $k (toString $d)) -}}{{- end -}}
{{- end -}}
{{- if and $gw.backendTLS.enabled (not $gw.backendTLS.hostname) -}}{{- fail "gateway.backendTLS.hostname is empty: gateway.backendTLS.enabled needs the name the pods' certificate carries" -}}{{- end -}}
{{- /* The kubelet's gRPC health check has no TLS: on the pods' TLS port every probe would fail. */ -}}
{{- $tls := include "svc.tlsPort" .Values -}}
{{- if and $tls (eq .Values.probePort $tls) -}}
{{- range $name := list "livenessProbe" "readinessProbe" "startupProbe" -}}
{{- $p := index $.Values $name -}}
{{- if and $p.enabled $p.grpc.enabled (not $p.path) (not $p.command) -}}{{- fail (printf "%s.grpc: the pods serve TLS on probePort %q (gateway.backendTLS), and the kubelet's gRPC health check speaks no TLS; probe with a command such as grpc_health_probe -tls, or another port" $name $.Values.probePort) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* ingress.controller: a portable Ingress says only what every controller understands, so the
     values that need ingress-nginx's annotations are refused, naming where to get them. */}}
{{- define "svc.check.ingressController" -}}
{{- $ing := .Values.ingress -}}
{{- if and $ing.enabled $ing.routes (not .Values.gateway.enabled) (eq $ing.controller "portable") -}}
{{- $else := "use gateway.enabled (Gateway API routes) or ingress.controller=ingress-nginx" -}}
{{- range $i, $r := $ing.routes -}}
{{- if and (ne $r.path "/") (not $ing.keepPathPrefix) -}}{{- fail (printf "ingress.routes[%d].path %q is stripped before the request reaches the pods (ingress.keepPathPrefix false), which a portable Ingress cannot do: set ingress.keepPathPrefix=true, or %s" $i $r.path $else) -}}{{- end -}}
{{- end -}}
{{- if $ing.stickySession.enabled -}}{{- fail (printf "ingress.stickySession.enabled asks for a sticky cookie, which a portable Ingress (ingress.controller) cannot say: %s" $else) -}}{{- end -}}
{{- if $ing.consistentHash -}}{{- fail (printf "ingress.consistentHash asks for consistent hashing, which a portable Ingress (ingress.controller) cannot say: %s" $else) -}}{{- end -}}
{{- if $ing.backendProtocol -}}{{- fail (printf "ingress.backendProtocol %q needs controller annotations (gRPC backend, websocket timeouts), which a portable Ingress (ingress.controller) cannot say: %s" $ing.backendProtocol $else) -}}{{- end -}}
{{- end -}}
{{- end -}}

{{/* gateway: the cluster serves the route kinds the chart renders, so a missing CRD fails at once
     with how to install it, not with Helm's "no matches for kind". The same switch as the
     add-ons' APIs, crdCheck: "off" never checks, "always" always does (helm template then needs
     --api-versions), "auto" checks when the capabilities are the cluster's: helm reads the cluster
     (lookup finds the namespace's default ServiceAccount), or --api-versions names some
     gateway.networking.k8s.io version (Argo CD passes the cluster's; tests pass theirs); an
     offline `helm template` knows no CRD and checks nothing. gateway.checkCapabilities=false, the
     former switch, is kept as a deprecated alias of crdCheck=off for this check. */}}
{{- define "svc.check.gatewayCapabilities" -}}
{{- $ing := .Values.ingress -}}
{{- $gw := .Values.gateway -}}
{{- $deprecatedOff := and (hasKey $gw "checkCapabilities") (eq (toString $gw.checkCapabilities) "false") -}}
{{- if and $ing.enabled $ing.routes $gw.enabled (ne .Values.crdCheck "off") (not $deprecatedOff) -}}
{{- $group := "gateway.networking.k8s.io/" -}}
{{- $known := false -}}
{{- range .Capabilities.APIVersions -}}{{- if hasPrefix $group . -}}{{- $known = true -}}{{- end -}}{{- end -}}
{{- if or $known (include "svc.crdCheckOn" .) -}}
{{- $need := list (ternary "GRPCRoute" "HTTPRoute" (eq $ing.backendProtocol "grpc")) -}}
{{- if $gw.backendTLS.enabled -}}{{- $need = append $need "BackendTLSPolicy" -}}{{- end -}}
{{- $missing := list -}}
{{- range $need -}}{{- if not ($.Capabilities.APIVersions.Has (printf "%sv1/%s" $group .)) -}}{{- $missing = append $missing . -}}{{- end -}}{{- end -}}
{{- if $missing -}}
{{- fail (printf "gateway.enabled: this cluster does not serve %s (%sv1): install the Gateway API CRDs (Standard channel), e.g. kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/standard-install.yaml, or your Gateway implementation's; crdCheck=off skips this check" (join ", " $missing) $group) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* ingress.host, ingress.hosts, ingress.routes[].hostKey: every host a valid host name, every key
     a route uses names a host, every host given is used by a route (a typo in a key would
     otherwise change nothing), and no two keys share a host. */}}
{{- define "svc.check.hosts" -}}
{{- $ing := .Values.ingress -}}
{{- if and $ing.enabled $ing.routes -}}
{{- $hosts := dict -}}
{{- if $ing.host -}}{{- $_ := set $hosts "main" $ing.host -}}{{- end -}}
{{- range $k, $h := $ing.hosts -}}
{{- if eq $k "main" -}}{{- fail (printf "ingress.hosts.main %q: the main host is ingress.host, not an entry of ingress.hosts: --set ingress.host=%s" (toString $h) (toString $h)) -}}{{- end -}}
{{- $_ := set $hosts $k $h -}}
{{- end -}}
{{- $used := dict -}}
{{- range $i, $r := $ing.routes -}}
{{- if eq $r.hostKey "main" -}}
{{- if not $ing.host -}}{{- fail (printf "ingress.host is empty, but the route ingress.routes[%d] (path %q) is on the main host: give a host name, e.g. --set ingress.host=shop.example.com" $i $r.path) -}}{{- end -}}
{{- else if and $r.hostKey (not (hasKey $hosts $r.hostKey)) -}}
{{- fail (printf "ingress.routes[%d].hostKey %q names no host: it must be \"main\" (ingress.host), a key of ingress.hosts (%s) or \"\" (any host)" $i $r.hostKey (keys (default dict $ing.hosts) | sortAlpha | toJson)) -}}
{{- end -}}
{{- $_ := set $used $r.hostKey true -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $k := keys $hosts | sortAlpha -}}
{{- $h := index $hosts $k -}}
{{- $field := ternary "ingress.host" (printf "ingress.hosts.%s" $k) (eq $k "main") -}}
{{- with include "svc.hostProblem" $h -}}{{- fail (printf "%s %q %s" $field (toString $h) .) -}}{{- end -}}
{{- if not (hasKey $used $k) -}}
{{- fail (printf "%s %q is used by no route: the routes' host keys are %s (ingress.routes[].hostKey: \"main\" is ingress.host, \"\" any host)" $field (toString $h) (keys $used | sortAlpha | toJson)) -}}
{{- end -}}
{{- with index $seen $h -}}{{- fail (printf "%s and %s are both %q: give each its own host (one Ingress per host and path)" . $field (toString $h)) -}}{{- end -}}
{{- $_ := set $seen $h $field -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* ingress.tls: one issuer, and a host for every route. */}}
{{- define "svc.check.tls" -}}
{{- $ing := .Values.ingress -}}
{{- if and $ing.enabled $ing.routes $ing.tls.enabled -}}
{{- if and $ing.tls.clusterIssuer $ing.tls.issuer -}}{{- fail "ingress.tls.clusterIssuer and ingress.tls.issuer are both set: give clusterIssuer or issuer, not both" -}}{{- end -}}
{{- if and $ing.tls.secretName (or $ing.tls.clusterIssuer $ing.tls.issuer) -}}{{- fail (printf "ingress.tls.secretName %q is set with a cert-manager issuer: cert-manager would write every host's certificate into that one Secret; give secretName (an existing certificate) or an issuer, not both" $ing.tls.secretName) -}}{{- end -}}
{{- range $i, $r := $ing.routes -}}
{{- if not $r.hostKey -}}{{- fail (printf "ingress.routes[%d].hostKey is empty (any host), so the route %q cannot be served over TLS (ingress.tls.enabled): a certificate names hosts" $i $r.path) -}}{{- end -}}
{{- end -}}
{{- range $k, $_ := $ing.tls.secrets -}}
{{- $field := printf "ingress.tls.secrets.%s" $k -}}
{{- if and (ne $k "main") (not (hasKey (default dict $ing.hosts) $k)) -}}{{- fail (printf "%s names no host: its key must be \"main\" (ingress.host) or a key of ingress.hosts (%s)" $field (keys (default dict $ing.hosts) | sortAlpha | toJson)) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* podDisruptionBudget: when there is one, it leaves room for at least one eviction. */}}
{{- define "svc.check.podDisruptionBudget" -}}
{{- $v := .Values -}}
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
{{- end -}}

{{/* The mount paths of tmpDir, writablePaths, the secretEnv files and persistence.volumes, in
     this order (JSON list). */}}
{{- define "svc.mountPaths" -}}
{{- $v := .Values -}}
{{- $paths := list -}}
{{- if $v.tmpDir.enabled -}}
{{- $paths = append $paths $v.tmpDir.mountPath -}}
{{- end -}}
{{- range $v.writablePaths -}}
{{- $paths = append $paths .mountPath -}}
{{- end -}}
{{- if and $v.secretEnv.keys $v.secretEnv.mountPath -}}
{{- $paths = append $paths $v.secretEnv.mountPath -}}
{{- end -}}
{{- if $v.workload.enabled -}}
{{- range $v.persistence.volumes -}}
{{- $paths = append $paths .mountPath -}}
{{- end -}}
{{- end -}}
{{- toJson $paths -}}
{{- end -}}

{{/* tmpDir, writablePaths, secretEnv, persistence.volumes: volume names and mount paths of the
     pods do not clash, and every secretEnv key is a file name. */}}
{{- define "svc.check.mounts" -}}
{{- $v := .Values -}}
{{- $vols := list -}}
{{- $paths := list -}}
{{- if $v.tmpDir.enabled -}}
{{- $vols = append $vols "tmp" -}}
{{- $paths = append $paths $v.tmpDir.mountPath -}}
{{- end -}}
{{- range $i, $w := $v.writablePaths -}}
{{- if has $w.mountPath $paths -}}{{- fail (printf "writablePaths[%d].mountPath %q is used twice (tmpDir.mountPath included)" $i $w.mountPath) -}}{{- end -}}
{{- $vols = append $vols (include "svc.writableVolumeName" $w.mountPath) -}}
{{- $paths = append $paths $w.mountPath -}}
{{- end -}}
{{- if and $v.secretEnv.keys $v.secretEnv.mountPath -}}
{{- if has $v.secretEnv.mountPath $paths -}}{{- fail (printf "secretEnv.mountPath %q is also tmpDir.mountPath or a writablePaths mountPath" $v.secretEnv.mountPath) -}}{{- end -}}
{{- $vols = append $vols "secrets" -}}
{{- $paths = append $paths $v.secretEnv.mountPath -}}
{{- range $i, $key := $v.secretEnv.keys -}}
{{- if or (eq $key ".") (hasPrefix ".." $key) -}}{{- fail (printf "secretEnv.keys[%d] %q cannot be a file name under secretEnv.mountPath" $i $key) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- if $v.workload.enabled -}}
{{- range $i, $vol := $v.persistence.volumes -}}
{{- if has $vol.name $vols -}}{{- fail (printf "persistence.volumes[%d].name %q is used twice or reserved (\"tmp\" and \"secrets\" are the volumes of tmpDir and secretEnv)" $i $vol.name) -}}{{- end -}}
{{- if has $vol.mountPath $paths -}}{{- fail (printf "persistence.volumes[%d].mountPath %q is used twice (tmpDir, writablePaths and secretEnv.mountPath included)" $i $vol.mountPath) -}}{{- end -}}
{{- $vols = append $vols $vol.name -}}
{{- $paths = append $paths $vol.mountPath -}}
{{- end -}}
{{- /* The escape hatches: the service's pods and its container only. */ -}}
{{- if $v.configFiles -}}{{- $vols = append $vols "config-files" -}}{{- end -}}
{{- range $i, $vol := $v.extraVolumes -}}
{{- if has $vol.name $vols -}}{{- fail (printf "extraVolumes[%d].name %q is used twice or is one of the chart's volumes (%s)" $i $vol.name (join ", " $vols)) -}}{{- end -}}
{{- $vols = append $vols $vol.name -}}
{{- end -}}
{{- range $i, $m := $v.extraVolumeMounts -}}
{{- if not (has $m.name $vols) -}}{{- fail (printf "extraVolumeMounts[%d].name %q is no volume of the pod: add it to extraVolumes (volumes: %s)" $i $m.name (join ", " $vols)) -}}{{- end -}}
{{- if has $m.mountPath $paths -}}{{- fail (printf "extraVolumeMounts[%d].mountPath %q is used twice (tmpDir, writablePaths, secretEnv.mountPath and persistence.volumes included)" $i $m.mountPath) -}}{{- end -}}
{{- $paths = append $paths $m.mountPath -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* configFiles: one file per key and mount path, clear of the other mounts, within 1 MiB. */}}
{{- define "svc.check.configFiles" -}}
{{- $paths := include "svc.mountPaths" . | fromJsonArray -}}
{{- $keys := list -}}
{{- $size := 0 -}}
{{- range $i, $f := .Values.configFiles -}}
{{- if has $f.key $keys -}}{{- fail (printf "configFiles[%d].key %q is used twice: every key is one file of the ConfigMap" $i $f.key) -}}{{- end -}}
{{- if has $f.mountPath $paths -}}{{- fail (printf "configFiles[%d].mountPath %q is used twice (tmpDir, writablePaths, secretEnv and persistence mounts included)" $i $f.mountPath) -}}{{- end -}}
{{- $keys = append $keys $f.key -}}
{{- $paths = append $paths $f.mountPath -}}
{{- $size = add $size (len $f.key) (len $f.content) -}}
{{- end -}}
{{- if gt (int64 $size) 1048576 -}}{{- fail (printf "configFiles hold %d bytes, more than a ConfigMap holds (1 MiB)" (int64 $size)) -}}{{- end -}}
{{- end -}}

{{/* sidecars, initContainers: container names are unique in a pod; "app" is the service's own
     container. */}}
{{- define "svc.check.containerNames" -}}
{{- $v := .Values -}}
{{- $containers := list "app" -}}
{{- range $i, $c := concat $v.sidecars $v.initContainers -}}
{{- if has $c.name $containers -}}
{{- $at := ternary (printf "sidecars[%d]" $i) (printf "initContainers[%d]" (sub $i (len $v.sidecars))) (lt $i (len $v.sidecars)) -}}
{{- if eq $c.name "app" -}}
{{- fail (printf "%s.name \"app\" is a reserved container name: \"app\" is the service's container" $at) -}}
{{- else -}}
{{- fail (printf "%s.name %q is used twice: container names are unique in the pod (sidecars and initContainers)" $at $c.name) -}}
{{- end -}}
{{- end -}}
{{- $containers = append $containers $c.name -}}
{{- end -}}
{{- end -}}

{{/* sidecars: without native sidecar support the API server drops restartPolicy, and the
     sidecar becomes an init container that never ends: the pods would never start. */}}
{{- define "svc.check.sidecarKubeVersion" -}}
{{- if and .Values.sidecars .Values.workload.enabled (semverCompare "<1.29.0-0" .Capabilities.KubeVersion.Version) -}}
{{- fail (printf "sidecars need Kubernetes 1.29 or later (native sidecar containers); this cluster is %s" .Capabilities.KubeVersion.Version) -}}
{{- end -}}
{{- end -}}

{{/* sidecars[].ports: port names and container ports are unique in the pod (ports included). */}}
{{- define "svc.check.sidecarPorts" -}}
{{- $names := list -}}
{{- $cports := list -}}
{{- range include "svc.ports" .Values | fromJsonArray -}}
{{- $names = append $names .name -}}
{{- $cports = append $cports (int64 .containerPort) -}}
{{- end -}}
{{- range $i, $s := .Values.sidecars -}}
{{- range $j, $p := $s.ports -}}
{{- if has $p.name $names -}}{{- fail (printf "sidecars[%d].ports[%d].name %q is used twice in the pod (ports included)" $i $j $p.name) -}}{{- end -}}
{{- if has (int64 $p.containerPort) $cports -}}{{- fail (printf "sidecars[%d].ports[%d].containerPort %d is used twice in the pod (ports included)" $i $j (int64 $p.containerPort)) -}}{{- end -}}
{{- $names = append $names $p.name -}}
{{- $cports = append $cports (int64 $p.containerPort) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* releaseJob: a program to run, within helm's wait. */}}
{{- define "svc.check.releaseJob" -}}
{{- $r := .Values.releaseJob -}}
{{- if and $r.enabled (not $r.command) -}}
{{- fail "releaseJob.command is empty: releaseJob.enabled needs the program to run (release_command)" -}}
{{- end -}}
{{- end -}}

{{/* image.repository: given (a spec with image: AUTO leaves it to install time). */}}
{{- define "svc.check.image" -}}
{{- $_ := required "image.repository is required: this chart was generated from a spec with image: AUTO; install with --set image.repository=REGISTRY/IMAGE" .Values.image.repository -}}
{{- end -}}

{{/* Preflight (preflight.*): the objects the pods need but the chart does not make are looked
     up before anything is installed or changed, and a missing one fails the render at once with
     the command that makes it, instead of pods that wait out helm's timeout. */}}

{{/* "true" when the preflight checks run: preflight.enabled, and helm reads the cluster. lookup
     finds nothing offline (helm template, lint, --dry-run=client, Argo CD) as it finds nothing
     for a missing object; the release namespace's "default" ServiceAccount, which Kubernetes
     makes in every namespace, tells the two apart. Only when the chart makes its own
     ServiceAccount: helm then reads ServiceAccounts itself before installing, so this read needs
     no permission the deployer lacks. A namespace that does not exist yet (--create-namespace)
     looks offline, and holds nothing to check. */}}
{{- define "svc.preflight" -}}
{{- if and .Values.preflight.enabled .Values.serviceAccount.create (lookup "v1" "ServiceAccount" .Release.Namespace "default") -}}true{{- end -}}
{{- end -}}

{{/* The end of every preflight message. */}}
{{- define "svc.preflightSkip" -}}
(preflight.enabled=false skips these checks)
{{- end -}}

{{/* secretEnv: the Secret exists and has every key. */}}
{{- define "svc.check.preflightSecretEnv" -}}
{{- $v := .Values -}}
{{- if and $v.secretEnv.keys (include "svc.preflight" .) -}}
{{- $ns := .Release.Namespace -}}
{{- $name := include "svc.secretName" . -}}
{{- $secret := lookup "v1" "Secret" $ns $name -}}
{{- if not $secret -}}
{{- $literals := list -}}
{{- range $v.secretEnv.keys -}}{{- $literals = append $literals (printf "--from-literal=%s=..." .) -}}{{- end -}}
{{- fail (printf "secretEnv.secretName: the Secret %q does not exist in namespace %q; the pods cannot start without it. Create it first: kubectl --namespace %s create secret generic %s %s %s" $name $ns $ns $name (join " " $literals) (include "svc.preflightSkip" .)) -}}
{{- end -}}
{{- $data := default (dict) $secret.data -}}
{{- range $i, $key := $v.secretEnv.keys -}}
{{- if not (hasKey $data $key) -}}
{{- fail (printf "secretEnv.keys[%d] %q: the Secret %q in namespace %q has no such key (its keys: %s); the pods cannot start without it %s" $i $key $name $ns (keys $data | sortAlpha | toJson) (include "svc.preflightSkip" $)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* envRefs, envFrom: every object that is not optional exists, with the keys envRefs read. */}}
{{- define "svc.check.preflightEnv" -}}
{{- if and (or .Values.envRefs .Values.envFrom) (include "svc.preflight" .) -}}
{{- $ns := .Release.Namespace -}}
{{- range $list, $entries := dict "envRefs" .Values.envRefs "envFrom" .Values.envFrom -}}
{{- range $i, $e := $entries -}}
{{- if not $e.optional -}}
{{- $kind := ternary "Secret" "ConfigMap" (ne $e.secret "") -}}
{{- $name := default $e.configMap $e.secret -}}
{{- $at := ternary (printf "envRefs[%d] %q" $i $e.name) (printf "envFrom[%d]" $i) (eq $list "envRefs") -}}
{{- $obj := lookup "v1" $kind $ns $name -}}
{{- if not $obj -}}
{{- $create := ternary (printf "create secret generic %s" $name) (printf "create configmap %s" $name) (eq $kind "Secret") -}}
{{- fail (printf "%s: the %s %q does not exist in namespace %q; the pods cannot start without it (or mark it optional). Create it first: kubectl --namespace %s %s --from-literal=KEY=... %s" $at $kind $name $ns $ns $create (include "svc.preflightSkip" $)) -}}
{{- end -}}
{{- if eq $list "envRefs" -}}
{{- $data := merge (dict) (default (dict) $obj.data) (default (dict) $obj.binaryData) -}}
{{- if not (hasKey $data $e.key) -}}
{{- fail (printf "%s: the %s %q in namespace %q has no key %q (its keys: %s); the pods cannot start without it (or mark it optional) %s" $at $kind $name $ns $e.key (keys $data | sortAlpha | toJson) (include "svc.preflightSkip" $)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets: every Secret exists (else the kubelet pulls without it, and a private
     image fails with ErrImagePull). */}}
{{- define "svc.check.preflightPullSecrets" -}}
{{- if and .Values.imagePullSecrets (include "svc.preflight" .) -}}
{{- $ns := .Release.Namespace -}}
{{- range $i, $name := .Values.imagePullSecrets -}}
{{- if not (lookup "v1" "Secret" $ns $name) -}}
{{- fail (printf "imagePullSecrets[%d] %q: the Secret does not exist in namespace %q; a private image cannot be pulled without it. Create it first: kubectl --namespace %s create secret docker-registry %s --docker-server=REGISTRY --docker-username=USER --docker-password=... %s" $i $name $ns $ns $name (include "svc.preflightSkip" $)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* ingress.tls: without a cert-manager issuer, every host's Secret exists (else the ingress
     controller serves its default certificate). */}}
{{- define "svc.check.preflightTls" -}}
{{- $ing := .Values.ingress -}}
{{- if and $ing.enabled $ing.routes $ing.tls.enabled (not .Values.gateway.enabled) (not (or $ing.tls.clusterIssuer $ing.tls.issuer)) (include "svc.preflight" .) -}}
{{- $ns := .Release.Namespace -}}
{{- range $r := include "svc.routes" . | fromJsonArray -}}
{{- $name := include "svc.tlsSecretName" (dict "root" $ "key" $r.key "host" $r.host) -}}
{{- if not (lookup "v1" "Secret" $ns $name) -}}
{{- $field := ternary "ingress.tls.secretName" (printf "ingress.tls.secrets.%s" $r.key) (and $ing.tls.secretName (not (index (default dict $ing.tls.secrets) $r.key))) -}}
{{- fail (printf "%s %q: the TLS Secret does not exist in namespace %q; HTTPS for %s would get the ingress controller's default certificate. Create it first: kubectl --namespace %s create secret tls %s --cert=CERT.pem --key=KEY.pem %s" $field $name $ns $r.host $ns $name (include "svc.preflightSkip" $)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* priorityClassName (preflight.clusterScoped): the PriorityClass exists (else the API server
     refuses every pod, and the workload never gets one). */}}
{{- define "svc.check.preflightPriorityClass" -}}
{{- if and .Values.priorityClassName .Values.preflight.clusterScoped (include "svc.preflight" .) -}}
{{- if not (lookup "scheduling.k8s.io/v1" "PriorityClass" "" .Values.priorityClassName) -}}
{{- fail (printf "priorityClassName %q: no such PriorityClass in the cluster; the API server would refuse every pod. `kubectl get priorityclass` lists them; a cluster administrator creates it: kubectl create priorityclass %s --value=1000 (preflight.clusterScoped=false skips this check)" .Values.priorityClassName .Values.priorityClassName) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* persistence (preflight.clusterScoped): every named StorageClass exists (else the claims stay
     Pending, and so do the pods). */}}
{{- define "svc.check.preflightStorageClasses" -}}
{{- $p := .Values.persistence -}}
{{- if and .Values.workload.enabled $p.volumes .Values.preflight.clusterScoped (include "svc.preflight" .) -}}
{{- range $i, $vol := $p.volumes -}}
{{- $class := default $p.storageClassName $vol.storageClassName -}}
{{- $at := ternary (printf "persistence.volumes[%d].storageClassName" $i) "persistence.storageClassName" (ne (toString $vol.storageClassName) "") -}}
{{- if and $class (not (lookup "storage.k8s.io/v1" "StorageClass" "" $class)) -}}
{{- fail (printf "%s %q: no such StorageClass in the cluster; the claims would stay Pending, and the pods with them. `kubectl get storageclass` lists them (preflight.clusterScoped=false skips this check)" $at $class) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when helm reads the cluster (install, upgrade, --dry-run=server): lookup finds the
     namespace's default ServiceAccount. helm template and helm lint find nothing. */}}
{{- define "svc.clusterKnown" -}}
{{- if lookup "v1" "ServiceAccount" .Release.Namespace "default" -}}true{{- end -}}
{{- end -}}

{{/* crdCheck: an add-on object needs its API (CRD) on the cluster. Checked when helm reads the
     cluster (crdCheck "auto"), always ("always": helm template needs --api-versions), or never
     ("off"), so helm template and lint without a cluster render the objects as asked. */}}
{{- define "svc.check.capabilities" -}}
{{- $v := .Values -}}
{{- $need := list -}}
{{- if and $v.workload.enabled $v.autoscaling.enabled $v.autoscaling.keda.enabled -}}
{{- $need = append $need (list "autoscaling.keda.enabled" "keda.sh/v1alpha1/ScaledObject" "KEDA (https://keda.sh/docs/latest/deploy/)") -}}
{{- end -}}
{{- if and $v.workload.enabled $v.metrics.enabled -}}
{{- $need = append $need (list "metrics.enabled" (printf "monitoring.coreos.com/v1/%s" (default "ServiceMonitor" $v.metrics.kind)) "the Prometheus Operator's CRDs (https://prometheus-operator.dev/docs/getting-started/installation/)") -}}
{{- end -}}
{{- if and $v.workload.enabled $v.rightSizing.enabled -}}
{{- $need = append $need (list "rightSizing.enabled" "autoscaling.k8s.io/v1/VerticalPodAutoscaler" "the Vertical Pod Autoscaler (https://github.com/kubernetes/autoscaler/tree/master/vertical-pod-autoscaler#installation)") -}}
{{- end -}}
{{- /* HPA metrics are served by an aggregated API of a metrics adapter; the first metric of each
     kind names the field. custom.metrics.k8s.io is served as v1beta1 and v1beta2 (either will do). */ -}}
{{- if and $v.workload.enabled $v.autoscaling.enabled (not $v.autoscaling.keda.enabled) -}}
{{- $pods := "" -}}{{- $external := "" -}}
{{- range $i, $m := $v.autoscaling.metrics -}}
{{- if and (eq $m.type "Pods") (not $pods) -}}{{- $pods = printf "autoscaling.metrics[%d] (Pods %s)" $i $m.name -}}{{- end -}}
{{- if and (eq $m.type "External") (not $external) -}}{{- $external = printf "autoscaling.metrics[%d] (External %s)" $i $m.name -}}{{- end -}}
{{- end -}}
{{- if and $pods (not (.Capabilities.APIVersions.Has "custom.metrics.k8s.io/v1beta2")) -}}
{{- $need = append $need (list $pods "custom.metrics.k8s.io/v1beta1" "a custom metrics adapter, e.g. prometheus-adapter (https://github.com/kubernetes-sigs/prometheus-adapter)") -}}
{{- end -}}
{{- if $external -}}
{{- $need = append $need (list $external "external.metrics.k8s.io/v1beta1" "an external metrics adapter, e.g. KEDA (https://keda.sh/docs/latest/deploy/), the Datadog Cluster Agent (https://docs.datadoghq.com/containers/guide/cluster_agent_autoscaling_metrics/) or prometheus-adapter") -}}
{{- end -}}
{{- end -}}
{{- /* The cluster is read only when an add-on is asked for. */ -}}
{{- if and $need (include "svc.crdCheckOn" .) -}}
{{- range $need -}}
{{- if not ($.Capabilities.APIVersions.Has (index . 1)) -}}
{{- fail (printf "%s: the cluster has no %s; install %s first, or set crdCheck=off" (index . 0) (index . 1) (index . 2)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when crdCheck says to check the cluster's APIs now: "always", or "auto" while helm
     reads the cluster. Called with the root context. */}}
{{- define "svc.crdCheckOn" -}}
{{- $mode := .Values.crdCheck -}}
{{- if or (eq $mode "always") (and (eq $mode "auto") (include "svc.clusterKnown" .)) -}}true{{- end -}}
{{- end -}}

{{/* metrics: the ServiceMonitor scrapes a port of the Service, by name; the PodMonitor a port of
     the pods: one of ports, or a sidecar's. */}}
{{- define "svc.check.metrics" -}}
{{- $m := .Values.metrics -}}
{{- if $m.enabled -}}
{{- if eq $m.kind "PodMonitor" -}}
{{- $names := list -}}
{{- range .Values.sidecars -}}{{- range .ports -}}{{- $names = append $names .name -}}{{- end -}}{{- end -}}
{{- if not (or (hasKey .Values.ports $m.port) (has $m.port $names)) -}}
{{- fail (printf "metrics.port %q is neither a key of ports nor a sidecar's port: the PodMonitor scrapes a port of the pods" $m.port) -}}
{{- end -}}
{{- else if not (hasKey .Values.ports $m.port) -}}
{{- fail (printf "metrics.port %q is not a key of ports: the ServiceMonitor scrapes a port of the Service (metrics.kind=PodMonitor scrapes the pods)" $m.port) -}}
{{- end -}}
{{- if and (hasKey .Values.ports $m.port) (kindIs "invalid" (index .Values.ports $m.port)) -}}
{{- fail (printf "metrics.port %q names a port removed with --set ports.%s=null" $m.port $m.port) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* opentelemetry: the injection needs a language and an Instrumentation; go also the program. */}}
{{- define "svc.check.opentelemetry" -}}
{{- $o := .Values.opentelemetry -}}
{{- if and $o.enabled (eq $o.language "go") (not $o.executable) -}}
{{- fail "opentelemetry.executable is empty: the go language needs the program's path (otel-go-auto-target-exe)" -}}
{{- end -}}
{{- end -}}

{{/* rightSizing: the VPA has a resource left that the autoscaler does not scale on. */}}
{{- define "svc.check.rightSizing" -}}
{{- if and .Values.rightSizing.enabled (not (include "svc.vpaResources" . | fromJsonArray)) -}}
{{- fail "rightSizing.enabled: the autoscaler scales on both cpu and memory (autoscaling.targetCPUUtilizationPercentage and autoscaling.targetMemoryUtilizationPercentage, or KEDA's cpu and memory triggers), so the VPA would control neither; set one of them to null" -}}
{{- end -}}
{{- end -}}
