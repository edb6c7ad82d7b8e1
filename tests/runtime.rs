//! The real-runtime tier (issue 12): pods rendered by real `helm template` (helm 3 and helm 4,
//! whose pod specs must be identical) from charts `helm-k8s-service generate` makes, run by a real
//! OCI runtime: Debian's podman 4.3 (`podman kube play`) with runc, as root, in a store of this
//! test run only. Every other tier checks the YAML; this one checks what a kernel does with it.
//!
//! # What the tests prove
//!
//! For every example (`example_*`, one test per example; table below), each pod the chart makes
//! (the workload's, every CronJob's and the release Job's) runs on a local test image, and:
//! 1. **Identity and confinement**, read from inside the running container (PID 1's
//!    `/proc/1/status`: Uid, Gid, Groups, CapPrm, CapEff, CapBnd, NoNewPrivs, Seccomp; its
//!    `/proc/1/mounts`; its net, pid, ipc and uts namespaces, none the host's) and from `podman
//!    inspect` (User, ReadonlyRootfs, no-new-privileges, Privileged), against the rendered pod
//!    spec, never against fixed numbers. Without a runAsUser in the spec, the container runs as
//!    the image's user (the test image's: root), and `podman inspect` says "" (the image's
//!    default) or that user.
//!
//!    **Pod Security**, by the profile the rendered spec asks for (`Profile`, in
//!    tests/runtime/expect.rs; never the spec file's word, which only has to agree): every
//!    container meets "baseline" — not privileged, no capability added beyond baseline's list
//!    (`BASELINE_CAPS`), none in CapBnd, CapPrm or CapEff beyond those adds and the runtime's
//!    default set (`podman info`'s; podman 4.3's built-in set, as containerd's, is baseline's
//!    list plus NET_RAW, which baseline leaves to the runtime), a seccomp filter (`Seccomp: 2`),
//!    no host namespace, hostPath or hostPort. A "restricted" container (the chart's default:
//!    any of runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation false, drop ALL in
//!    its spec makes it one) also runs as a non-root UID with a read-only root filesystem,
//!    no_new_privs and no capability. A "baseline" one (`security_profile: baseline`: none of
//!    them) is checked for what baseline promises instead: it runs as the image's user, with
//!    privilege escalation allowed, the runtime's default capabilities (exactly: nothing
//!    dropped), and its root filesystem takes writes (4).
//! 2. **Ports**: every declared containerPort (sidecars' included) accepts a TCP connection from
//!    the host on the pod IP. `port_80_*`: a port below 1024 needs the pod sysctl
//!    `net.ipv4.ip_unprivileged_port_start`.
//! 3. **Probes**, run by the test as a kubelet runs them: httpGet (path and port of the rendered
//!    probe) and tcpSocket from the host to the pod IP, exec inside the container, gRPC as a TCP
//!    connection only (no gRPC client here). `podman kube play` never runs a readinessProbe, and it
//!    turns a livenessProbe into a healthcheck that runs `curl` inside the container, on systemd
//!    timers this machine does not have: no podman healthcheck is relied upon.
//! 4. **Writes**, as the container's user: the pod's emptyDirs (/tmp) and claims are writable;
//!    with a read-only root filesystem, a write into every other directory of it fails with
//!    `Read-only file system`; with a writable one (baseline), / is mounted rw, no write in it is
//!    refused as read-only (as root, none is refused at all), and a new directory under /var/lib
//!    can be made and written; the config file and secret mounts are read-only and refuse a
//!    write; no other writable mount exists outside /dev, /proc and /sys (but, with a writable
//!    root filesystem only, the runtime's own /etc/hostname, /etc/hosts, /etc/resolv.conf and
//!    /run/.containerenv, writable as the rest of it is).
//! 5. **Config and secret files**: every `config_files` entry of the spec is at its path with its
//!    content, mode 0444; every secret of `secrets_mount_path` is a file `MOUNT/KEY`, mode 0440,
//!    group fsGroup, readable by the container's user; environment variables (plain values byte
//!    for byte, keys of Secrets and ConfigMaps, `envFrom`) are PID 1's environment.
//! 6. **Init containers** run before the service: each leaves a marker in the pod's /tmp
//!    emptyDir that the service lists when it starts; the marker holds the init container's own
//!    identity (podman deletes an init container once it has run), checked as in 1.
//! 7. **CronJobs** and the **release Job** (`release_command`): each one's pod runs to completion
//!    (exit 0) with the security settings of the service's pods (the same expectation, and the
//!    kernel's view printed by the job); the release Job reads its own copy of the config files
//!    (a hook ConfigMap) and the service's secrets. Here it runs after the service's pod, so the
//!    two can be compared; helm runs it before.
//!
//! Beyond the examples:
//! - `port_80_serves_with_the_pods_sysctl`: a service on port 80 with busybox httpd's own
//!   command serves on 80. **Expected to fail until the chart's defaults set
//!   `podSecurityContext.sysctls` (`net.ipv4.ip_unprivileged_port_start=0`; issue 12 part 2)**,
//!   with `httpd: bind: Permission denied`.
//! - `port_80_without_the_sysctl_is_denied`: the same image with that sysctl absent from the
//!   rendered pod exits with `httpd: bind: Permission denied`: the sysctl is what makes it work.
//! - `writable_paths_are_writable`: a spec with `writable_paths: [/var/cache/app]` and an image
//!   whose entrypoint creates /var/cache/app/client_temp before serving (as nginx's official
//!   image does in /var/cache/nginx) serves, and writes nowhere else. **Expected to fail until
//!   `writable_paths` lands (issue 12 part 2)**: today `generate` rejects the field.
//! - `an_image_that_writes_outside_its_volumes_fails_read_only`: that image under today's
//!   defaults exits with `mkdir: can't create directory '/var/cache/app/client_temp': Read-only
//!   file system`.
//! - `run_as_non_root_is_the_kubelets_check_not_podmans`: without a UID (runAsUser removed) and
//!   an image without USER, podman 4.3 runs the container as root (UID 0): it does not implement
//!   runAsNonRoot. A kubelet refuses it with `container has runAsNonRoot and image will run as
//!   root`; this harness applies that check itself (`kubelet_run_as_non_root`, in
//!   tests/runtime/expect.rs) before any pod starts.
//!
//! Messages for the README's troubleshooting:
//! - `httpd: bind: Permission denied` (observed; other servers say `bind: permission denied` or
//!   `EACCES`) — a non-root process binding a port below 1024 without the pod sysctl
//!   `net.ipv4.ip_unprivileged_port_start`.
//! - `... Read-only file system` (observed: busybox's `mkdir: can't create directory
//!   '/var/cache/app/client_temp': Read-only file system`; nginx's official image, not run here,
//!   logs `mkdir() "/var/cache/nginx/client_temp" failed (30: Read-only file system)`) — the
//!   image writes outside /tmp and the pod's volumes.
//! - `container has runAsNonRoot and image will run as root (pod: ..., container: ...)` — a
//!   kubelet's (from its source; podman has no such check, so it is not observed here), when no
//!   UID is set and the image has no numeric USER.
//!
//! # How the pods run
//!
//! The test's copy of a rendered pod (the Deployment's, StatefulSet's or CronJob's template,
//! as a `kind: Pod`) differs from what a kubelet would get only where podman 4.3's `kube play`
//! does not do what a kubelet does; each change says why:
//! - `restartPolicy: Never`: with the Deployment's `Always`, podman restarts an init container
//!   every time it exits, until kube play gives up after 20 s; and a crashing service would
//!   restart and hide its exit code.
//! - Native sidecars (init containers with `restartPolicy: Always`) become regular containers:
//!   kube play runs them as init containers it waits for, so the service would never start.
//!   They start after the init containers here, not before.
//! - Pod annotations longer than 63 characters are left out (the chart's `checksum/config`, a
//!   sha256): podman 4.3 refuses them ("value length exceeds Kubernetetes max 63"; Kubernetes
//!   has no such limit), and they mean nothing to a runtime.
//! - `ports` are removed from the containers: podman 4.3 publishes every containerPort on the
//!   host's 0.0.0.0 (a kubelet never does), which collides between pods. The test connects to
//!   the declared ports on the pod IP instead.
//! - Probes are removed: the test runs them (3).
//! - emptyDir volumes become hostPath directories made as a kubelet makes them (empty, 0777,
//!   group fsGroup with setgid): podman 4.3 makes an emptyDir a named volume called after the
//!   pod's volume ("tmp"), shared by every pod that has one, and fills it with the image's
//!   directory at that path, owner and mode included, so a non-root user could not write a path
//!   the image has as root's (a kubelet's emptyDir hides it).
//! - configMap and secret volumes become hostPath files and directories the test writes as a
//!   kubelet does (the items, `defaultMode`, group fsGroup with g+r): podman 4.3 ignores
//!   `subPath` on a ConfigMap volume (it mounts the whole ConfigMap as a directory at the
//!   file's path) and `defaultMode`.
//! - A StatefulSet's volumeClaimTemplates become hostPath directories as a fresh volume with
//!   fsGroup ownership management is (root, 0755, then group fsGroup with g+rwx and setgid).
//! - `fsGroup` is added to `supplementalGroups`: podman ignores fsGroup; a kubelet gives it to
//!   the containers as a supplementary group.
//!
//! What kube play honours as it is, and the tests rely on: runAsUser, runAsGroup,
//! supplementalGroups, capabilities, readOnlyRootFilesystem, allowPrivilegeEscalation
//! (no_new_privs), command and args, env values, ConfigMaps in the same YAML for
//! configMapKeyRef and `envFrom` (but not `prefix`, which podman ignores), init containers in
//! order, hostPath files and directories with readOnly, resources. What it ignores, brought in
//! another way:
//! - pod sysctls (`spec.securityContext.sysctls`): given to podman as `default_sysctls` of the
//!   pod's own containers.conf (CONTAINERS_CONF), derived from the rendered pod spec only; a
//!   pod whose spec has no sysctl gets none.
//! - Secrets: kube play stores a `kind: Secret` in a form its own reader then rejects ("secret
//!   ... is not valid JSON"); secretKeyRef and `envFrom.secretRef` read a podman secret holding
//!   a JSON map of base64 values, which the test creates for every Secret the pod needs (the
//!   chart never makes one: they exist beforehand in a cluster, so the test makes them up).
//! - seccompProfile: podman applies its default profile (filter mode) whatever the pod says;
//!   RuntimeDefault is checked as `Seccomp: 2`, Unconfined could not be.
//! - runAsNonRoot: not implemented by podman (see above); `$(VAR)` references in env values are
//!   not expanded by podman and not checked.
//!
//! Not tested here, as meaningless on one node without an API server: scheduling (affinity,
//! tolerations, topology spread, nodeSelector, priorityClassName), the ServiceAccount and its
//! token, imagePullSecrets (nothing is pulled), the preStop sleep and the grace period.
//!
//! # The runtime
//!
//! Each test run has a private podman under `target/tmp/hks-runtime/PID/`: its own
//! containers.conf (runc, cgroupfs, file events, the sandbox's ulimits, file locks, its own
//! tmp_dir and network definitions, passed on to conmon's cleanup command) and storage.conf (own
//! graph root and run root). Nothing touches /etc or the machine's default store, so other
//! users' containers are never seen and parallel runs do not meet. A bridge network of the run
//! (DNS off, a free 10.213.x.0/24, an interface `hksrtPID`) gives each pod an IP the host
//! reaches, as a node reaches pod IPs. Images are built from scratch with buildah out of
//! Debian's busybox-static (`localhost/hks-test/web` and `.../writer`, tagged with the run):
//! busybox and its applets, /www with the probe paths, tests/runtime/image/ (hks-serve,
//! hks-fake, hks-writer) and the example programs as hks-fake (`FAKE_PROGRAMS`, in
//! tests/runtime/images.rs).
//! Every pod is removed by name when its test ends, the images, the network and the store when
//! the test binary exits (and at the next run, a store whose process is gone). Every child and
//! every wait has a time limit; a failure prints the pod's `podman ps -a` and logs.
//!
//! podman, buildah, runc, netavark, catatonit, iptables and busybox-static come from
//! scripts/install-test-services.sh; without them the tests fail and say so. They run as root.
//!
//! # Examples
//!
//! Every example runs (a new example without a test here fails `every_example_has_a_test`).
//! The image is always the local test image (`image.repository`, `tag`, no digest, pullPolicy
//! Never); "serve" means the service's command is replaced by hks-serve on its declared ports
//! (the example's own program does not exist); init containers, cron jobs and exec probes run
//! the example's own command lines (hks-fake stands in for the programs).
//!
//! | example | charts | command | what else it exercises |
//! |---|---|---|---|
//! | hello.yaml | hello | serve | httpGet probes on a named port |
//! | full.yaml | payments | serve | UID/GID 20001, three ports, secrets as env vars, 2 cron jobs |
//! | stateful.yaml | chat | serve | StatefulSet, two claims writable |
//! | worker-cron.yaml | nightly | (no service) | cron-only: both CronJobs run to completion |
//! | grpc-auto.yaml | inventory | serve | `image: AUTO`, exec probe (grpc_health_probe) |
//! | tricky-strings.yaml | tricky | its own (`/bin/sh -c ... httpd`) | env values byte for byte, probe path with a query, cron job `/bin/echo` |
//! | singleton.yaml | ledger | serve | secrets as files (0440, fsGroup) |
//! | no-policies.yaml | legacy | serve | tcpSocket probes |
//! | tls-identity.yaml | billing | serve | imagePullSecrets (unused: nothing is pulled), cron job |
//! | gateway.yaml | storefront | serve | port 3000 |
//! | gateway-grpc.yaml | pricing | serve | exec probe (grpc_health_probe over TLS) |
//! | gateway-websocket.yaml | notify | serve | websocket port, httpGet probes |
//! | tls-secret.yaml | ledger-ui | serve | StatefulSet claim, cron job |
//! | configured.yaml | catalog | serve | env refs, envFrom, config files, init container, native sidecar |
//! | configured-stateful.yaml | ledgerdb | serve | config files and secret files beside a claim, init container |
//! | opta-service.yaml | web, api | serve | an Opta service file: two charts |
//! | resilient.yaml | orders | serve | gRPC probes (TCP here), exec startup probe, preStop sleep |
//! | placement.yaml | ledger-store | serve | startup probe path, StatefulSet |
//! | port80.yaml | static-site | serve | port 80 as UID 10001 (restricted) through the pod's unprivileged-port sysctl; `writable_paths` (/var/cache/nginx, /var/run) writable emptyDirs, the rest read-only |
//! | baseline.yaml | legacy-portal | serve | `security_profile: baseline`: runs as the image's user (root), writable root filesystem, privilege escalation allowed, the runtime's default capabilities (nothing dropped or added), seccomp filter, no host namespace; probe path /status |
//! | keda.yaml | checkout | serve | KEDA's ScaledObject instead of an HPA (the pod is the same) |
//! | right-sized.yaml | search | serve | readiness path only (liveness TCP); its HPA, VPA and PodMonitor are cluster objects, and the container's `resizePolicy` (rendered for 1.37) |
//! | release.yaml | accounts | serve | the release Job: migrations with the service's secrets and config files |

mod common;
#[path = "runtime/harness.rs"]
mod harness;

use std::path::PathBuf;

use serde_json::{Value, json};

use harness::{
    Expect, JOB_LIMIT, Options, Pod, Profile, SERVE_LIMIT, Source, check_status, cron_jobs,
    generate, local_values, pod_security, render, runtime, sources, workload, yaml,
};

/// Examples whose own service command runs on the test image (the others get hks-serve).
const OWN_COMMAND: &[&str] = &["tricky-strings.yaml"];

fn example_path(spec: &str) -> PathBuf {
    common::root().join("examples").join(spec)
}

fn test_spec(name: &str) -> PathBuf {
    common::root().join("tests/runtime/specs").join(name)
}

fn fail(what: &str, problems: &[String], pod: &Pod) -> ! {
    panic!(
        "{what}: {} problem(s):\n- {}\n{}",
        problems.len(),
        problems.join("\n- "),
        pod.report()
    )
}

/// The spec's own promises about files: `config_files` at their paths with their content,
/// `secrets` under `secrets_mount_path` (0440).
fn spec_files(spec: &Value, pod: &Pod) -> Vec<String> {
    let mut bad = Vec::new();
    let app = pod.files.get("app").cloned().unwrap_or_default();
    if let Some(cf) = spec["config_files"].as_object() {
        for (path, content) in cf {
            match app.iter().find(|f| f.path == *path) {
                Some(f) if f.content == content.as_str().unwrap_or("").as_bytes() => {
                    if f.mode != 0o444 {
                        bad.push(format!(
                            "config file {path} has mode {:o}, want 444",
                            f.mode
                        ));
                    }
                }
                Some(f) => bad.push(format!(
                    "config file {path} holds {:?}, the spec says {content}",
                    common::text(&f.content)
                )),
                None => bad.push(format!("config file {path} of the spec is not mounted")),
            }
        }
    }
    if let Some(mount) = spec["secrets_mount_path"].as_str() {
        for key in spec["secrets"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or("");
            let path = format!("{}/{key}", mount.trim_end_matches('/'));
            match app.iter().find(|f| f.path == path) {
                Some(f) if f.mode == 0o440 => {}
                Some(f) => bad.push(format!(
                    "secret file {path} has mode {:o}, want 440",
                    f.mode
                )),
                None => bad.push(format!("secret file {path} is not mounted")),
            }
        }
    }
    bad
}

/// Run one CronJob's (or the release Job's) pod to completion, or fail with what went wrong.
fn run_cron_job(label: &str, job: &Source, docs: &[Value], service: Option<&Expect>) {
    let rt = runtime();
    let pod = rt
        .play(label, job, docs, Options::default())
        .unwrap_or_else(|e| panic!("{} {}: {e}", job.kind, job.name));
    let c = &pod.containers[0];
    let mut bad = Vec::new();
    match pod.wait_exit(&c.name, JOB_LIMIT) {
        Ok(0) => {}
        Ok(code) => bad.push(format!("the job exited with {code}")),
        Err(e) => bad.push(e),
    }
    let e = pod.expectation(c);
    bad.extend(pod_security(&pod.ctr(&c.name), &e));
    if let Some(s) = service
        && *s != e
    {
        bad.push(format!(
            "the job's security settings differ from the service's:\njob: {e:?}\nservice: {s:?}"
        ));
    }
    if Pod::is_fake(&c.spec) {
        let logs = pod.logs(&c.name);
        let runs = Pod::fake_runs(&logs);
        let line = Pod::command_line(&c.spec);
        match runs.as_slice() {
            [(ran, status)] if *ran == line => {
                bad.extend(check_status(&pod.ctr(&c.name), status, &e));
            }
            _ => bad.push(format!("the job did not run `{line}` once: {runs:?}")),
        }
    }
    bad.extend(pod.check_inspect(c, &e));
    if !bad.is_empty() {
        fail(&format!("{} {}", job.kind, job.name), &bad, &pod);
    }
}

/// Everything (1-7) for one example.
fn run_example(spec: &str) {
    let rt = runtime();
    let ex = common::EXAMPLES
        .iter()
        .find(|e| e.spec == spec)
        .unwrap_or_else(|| panic!("{spec} is not in tests/common's EXAMPLES"));
    let spec_doc = yaml(&example_path(spec));
    let declared = match spec_doc["security_profile"].as_str() {
        Some("baseline") => Profile::Baseline,
        _ => Profile::Restricted,
    };
    let charts = generate(&example_path(spec), ex.args).unwrap_or_else(|e| panic!("{e}"));
    let mut names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    let mut want = ex.charts.to_vec();
    names.sort();
    want.sort();
    assert_eq!(names, want, "charts of {spec}");
    for chart in &charts {
        let own = OWN_COMMAND.contains(&spec);
        let values = local_values(chart, &rt.web, !own);
        let docs = render(chart, &format!("rt-{}", chart.name), &values)
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        let srcs = sources(&docs);
        let mut service = None;
        if let Some(w) = workload(&srcs) {
            let pod = rt
                .play(&chart.name, w, &docs, Options::default())
                .unwrap_or_else(|e| panic!("{spec}: {e}"));
            if let Err(e) = pod.wait_serving(SERVE_LIMIT) {
                panic!("{spec} ({}): {e}", chart.name);
            }
            let mut bad = pod.check_serving();
            for c in pod.containers.iter().chain(&pod.inits) {
                let e = pod.expectation(c);
                bad.extend(pod_security(&pod.ctr(&c.name), &e));
                // The profile comes from the rendered spec; the example's own word must agree,
                // so a render that lost restricted's settings is not checked as baseline.
                if e.profile != declared {
                    bad.push(format!(
                        "{}: the rendered spec asks for Pod Security {:?}, the example for {declared:?}",
                        pod.ctr(&c.name),
                        e.profile
                    ));
                }
            }
            if chart.name == spec_doc["name"].as_str().unwrap_or("") {
                bad.extend(spec_files(&spec_doc, &pod));
            }
            if !bad.is_empty() {
                fail(&format!("{spec} ({})", chart.name), &bad, &pod);
            }
            service = Some(pod.expectation(&pod.containers[0]));
        }
        let jobs = cron_jobs(&srcs);
        assert!(
            service.is_some() || !jobs.is_empty(),
            "{spec} ({}): the chart makes no pod",
            chart.name
        );
        for job in jobs {
            run_cron_job(&format!("{}-job", chart.name), job, &docs, service.as_ref());
        }
    }
}

macro_rules! examples {
    ($($test:ident => $spec:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run_example($spec);
            }
        )*
        const EXAMPLE_TESTS: &[&str] = &[$($spec),*];
    };
}

examples! {
    example_hello => "hello.yaml",
    example_full => "full.yaml",
    example_stateful => "stateful.yaml",
    example_worker_cron => "worker-cron.yaml",
    example_grpc_auto => "grpc-auto.yaml",
    example_tricky_strings => "tricky-strings.yaml",
    example_singleton => "singleton.yaml",
    example_no_policies => "no-policies.yaml",
    example_tls_identity => "tls-identity.yaml",
    example_gateway => "gateway.yaml",
    example_gateway_grpc => "gateway-grpc.yaml",
    example_gateway_websocket => "gateway-websocket.yaml",
    example_tls_secret => "tls-secret.yaml",
    example_configured => "configured.yaml",
    example_configured_stateful => "configured-stateful.yaml",
    example_opta_service => "opta-service.yaml",
    example_resilient => "resilient.yaml",
    example_placement => "placement.yaml",
    example_port80 => "port80.yaml",
    example_baseline => "baseline.yaml",
    example_release => "release.yaml",
    example_keda => "keda.yaml",
    example_right_sized => "right-sized.yaml",
}

#[test]
fn every_example_has_a_test() {
    let mut files: Vec<String> = std::fs::read_dir(common::root().join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    let mut tested: Vec<String> = EXAMPLE_TESTS.iter().map(|s| s.to_string()).collect();
    tested.sort();
    assert_eq!(
        files, tested,
        "every example in examples/ needs a runtime test (and a row in the module doc's table)"
    );
    let mut common_list: Vec<String> = common::EXAMPLES.iter().map(|e| e.spec.into()).collect();
    common_list.sort();
    assert_eq!(
        common_list, tested,
        "tests/common's EXAMPLES and this file's list differ"
    );
}

/// The sysctl that lets a non-root process bind a port below 1024.
const UNPRIVILEGED_PORT_START: &str = "net.ipv4.ip_unprivileged_port_start";

fn web80() -> (harness::Chart, &'static harness::Runtime) {
    let rt = runtime();
    let mut charts = generate(&test_spec("web80.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    (charts.remove(0), rt)
}

#[test]
fn port_80_serves_with_the_pods_sysctl() {
    let (chart, rt) = web80();
    // The image's own command: busybox httpd on port 80, as the chart's non-root user.
    let values = local_values(&chart, &rt.web, false);
    let docs = render(&chart, "rt-web80", &values).unwrap_or_else(|e| panic!("{e}"));
    let srcs = sources(&docs);
    let w = workload(&srcs).expect("a Deployment");
    let pod = rt
        .play("web80", w, &docs, Options::default())
        .unwrap_or_else(|e| panic!("{e}"));
    // kube play ignores spec.securityContext.sysctls. Runtime::play hands podman the rendered
    // pod's sysctls (pod.sysctls), and only those, as default_sysctls of this pod's own
    // containers.conf (CONTAINERS_CONF): never unconditionally, so a render without the sysctl
    // runs without it (port_80_without_the_sysctl_is_denied).
    if let Err(e) = pod.wait_serving(SERVE_LIMIT) {
        panic!(
            "port 80 is not served. EXPECTED TO FAIL until the chart's defaults set \
             podSecurityContext.sysctls with {UNPRIVILEGED_PORT_START}=0 (issue 12 part 2): \
             the rendered pod carries the sysctls {:?}.\n{e}",
            pod.sysctls
        );
    }
    assert!(
        pod.sysctls
            .iter()
            .any(|s| s.starts_with(&format!("{UNPRIVILEGED_PORT_START}="))),
        "port 80 is served without {UNPRIVILEGED_PORT_START} in the pod spec ({:?}): this \
         runtime lets non-root processes bind it anyway",
        pod.sysctls
    );
    match pod.http_get(80, "/index.html") {
        Ok((200, _)) => {}
        other => panic!("GET /index.html on port 80: {other:?}\n{}", pod.report()),
    }
    let bad = pod.check_serving();
    if !bad.is_empty() {
        fail("web80", &bad, &pod);
    }
}

#[test]
fn port_80_without_the_sysctl_is_denied() {
    let (chart, rt) = web80();
    let mut values = local_values(&chart, &rt.web, false);
    // Whatever the chart's default sysctls are, this render has them without that one.
    if let Some(list) = chart.values["podSecurityContext"]["sysctls"].as_array() {
        let kept: Vec<Value> = list
            .iter()
            .filter(|s| s["name"] != UNPRIVILEGED_PORT_START)
            .cloned()
            .collect();
        values["podSecurityContext"] = json!({ "sysctls": kept });
    }
    let docs = render(&chart, "rt-web80-nosysctl", &values).unwrap_or_else(|e| panic!("{e}"));
    let srcs = sources(&docs);
    let w = workload(&srcs).expect("a Deployment");
    let sysctls = &w.template["spec"]["securityContext"]["sysctls"];
    assert!(
        !sysctls
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["name"] == UNPRIVILEGED_PORT_START),
        "the render still has {UNPRIVILEGED_PORT_START}: {sysctls}"
    );
    let pod = rt
        .play("web80-nosysctl", w, &docs, Options::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let code = pod
        .wait_exit("app", SERVE_LIMIT)
        .unwrap_or_else(|e| panic!("httpd should have failed to bind port 80: {e}"));
    let logs = pod.logs("app");
    assert!(
        code != 0 && logs.contains("httpd: bind: Permission denied"),
        "without {UNPRIVILEGED_PORT_START}, httpd should exit with `httpd: bind: Permission \
         denied`; it exited with {code}:\n{}",
        pod.report()
    );
}

/// cache.yaml, with `extra` appended, as a spec file.
fn cache_spec(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(test_spec("cache.yaml")).expect("cache.yaml");
    let p = dir.path().join("cache.yaml");
    std::fs::write(&p, format!("{text}{extra}")).unwrap();
    (dir, p)
}

fn writable_mount(pod_spec: &Value, path: &str) -> bool {
    let empty_dirs: Vec<&str> = pod_spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.get("emptyDir").is_some())
        .filter_map(|v| v["name"].as_str())
        .collect();
    pod_spec["containers"][0]["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|m| {
            m["mountPath"] == path
                && m["readOnly"].as_bool() != Some(true)
                && m["name"].as_str().is_some_and(|n| empty_dirs.contains(&n))
        })
}

#[test]
fn writable_paths_are_writable() {
    let rt = runtime();
    let (_dir, spec) = cache_spec("writable_paths: [/var/cache/app]\n");
    let charts = generate(&spec, &[]).unwrap_or_else(|e| {
        panic!(
            "generate rejects `writable_paths`. EXPECTED TO FAIL until writable_paths lands \
             (issue 12 part 2).\n{e}"
        )
    });
    let chart = &charts[0];
    // The writer image's own entrypoint: mkdir under /var/cache/app, then serve on 8080.
    let values = local_values(chart, &rt.writer, false);
    let docs = render(chart, "rt-cache-writable", &values).unwrap_or_else(|e| panic!("{e}"));
    let srcs = sources(&docs);
    let w = workload(&srcs).expect("a Deployment");
    assert!(
        writable_mount(&w.template["spec"], "/var/cache/app"),
        "the rendered pod has no writable emptyDir at /var/cache/app:\n{}",
        serde_json::to_string_pretty(&w.template["spec"]).unwrap()
    );
    let pod = rt
        .play("cache-writable", w, &docs, Options::default())
        .unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = pod.wait_serving(SERVE_LIMIT) {
        panic!("{e}");
    }
    assert!(
        pod.logs("app")
            .contains("hks-writer: /var/cache/app/client_temp created"),
        "{}",
        pod.report()
    );
    // /var/cache/app and /tmp writable, every other directory read-only.
    let bad = pod.check_serving();
    if !bad.is_empty() {
        fail("writable_paths", &bad, &pod);
    }
}

#[test]
fn an_image_that_writes_outside_its_volumes_fails_read_only() {
    let rt = runtime();
    let (_dir, spec) = cache_spec("");
    let charts = generate(&spec, &[]).unwrap_or_else(|e| panic!("{e}"));
    let values = local_values(&charts[0], &rt.writer, false);
    let docs = render(&charts[0], "rt-cache", &values).unwrap_or_else(|e| panic!("{e}"));
    let srcs = sources(&docs);
    let w = workload(&srcs).expect("a Deployment");
    assert!(
        !writable_mount(&w.template["spec"], "/var/cache/app"),
        "this spec has no writable path at /var/cache/app"
    );
    let pod = rt
        .play("cache", w, &docs, Options::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let code = pod
        .wait_exit("app", SERVE_LIMIT)
        .unwrap_or_else(|e| panic!("the writer image should have failed: {e}"));
    let logs = pod.logs("app");
    let message =
        "mkdir: can't create directory '/var/cache/app/client_temp': Read-only file system";
    assert!(
        code != 0 && logs.contains(message),
        "want exit != 0 and `{message}`; exit {code}:\n{}",
        pod.report()
    );
}

#[test]
fn run_as_non_root_is_the_kubelets_check_not_podmans() {
    let rt = runtime();
    let charts = generate(&example_path("hello.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let chart = &charts[0];
    let mut values = local_values(chart, &rt.web, true);
    values["podSecurityContext"] = json!({ "runAsUser": null });
    let docs = render(chart, "rt-hello-nouid", &values).unwrap_or_else(|e| panic!("{e}"));
    let srcs = sources(&docs);
    let w = workload(&srcs).expect("a Deployment");
    let spec = &w.template["spec"];
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert!(
        spec["securityContext"]["runAsUser"].is_null()
            && spec["containers"][0]["securityContext"]["runAsUser"].is_null(),
        "runAsUser is still set: {spec}"
    );
    assert_eq!(
        rt.image_user(&rt.web.reference()),
        "",
        "the test image has no USER"
    );
    // A kubelet refuses to create the container (CreateContainerConfigError).
    let refused = rt.play("hello-nouid", w, &docs, Options::default());
    match refused {
        Err(e) if e.contains("container has runAsNonRoot and image will run as root") => {}
        Err(e) => panic!("unexpected refusal: {e}"),
        Ok(pod) => panic!("the kubelet check let it run:\n{}", pod.report()),
    }
    // podman alone runs it, as root.
    let pod = rt
        .play(
            "hello-nouid",
            w,
            &docs,
            Options {
                kubelet_checks: false,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = pod.wait_serving(SERVE_LIMIT) {
        panic!("{e}");
    }
    let status = pod
        .exec(
            "app",
            &["/bin/busybox", "cat", "/proc/1/status"],
            SERVE_LIMIT,
        )
        .expect_ok();
    let uid = status
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .map(|u| u.split_whitespace().collect::<Vec<_>>())
        .unwrap_or_default();
    assert_eq!(
        uid,
        ["0", "0", "0", "0"],
        "podman 4.3 was expected to run it as root (it has no runAsNonRoot check); if it now \
         refuses, the harness's kubelet check can go: {}",
        status.stdout
    );
}

/// Issue 16: the image of the Argo CD plugin sidecar, built by gitops/sidecar/build.sh, renders
/// an application as Argo CD runs it there — user 999, read-only root, its own /tmp, no network,
/// no capability, only Argo CD's environment — byte for byte what the same render gives on the
/// host; and it carries the plugin file at the path argocd-cmp-server reads.
#[test]
fn argocd_sidecar_image_renders_as_argo_cd_runs_it() {
    use std::os::unix::fs::PermissionsExt;
    let rt = runtime();
    let (_, helm) = &common::helms()[1];
    let image = "localhost/hks-argocd-sidecar:test";
    let build = std::process::Command::new("bash")
        .arg(common::root().join("gitops/sidecar/build.sh"))
        .arg("--binary")
        .arg(common::bin())
        .arg("--helm")
        .arg(helm)
        .args(["--tag", image])
        .env("CONTAINERS_CONF", &rt.store.conf)
        .env("CONTAINERS_STORAGE_CONF", &rt.store.storage)
        .output()
        .expect("bash");
    assert!(
        build.status.success(),
        "build.sh failed:\n{}{}",
        common::text(&build.stdout),
        common::text(&build.stderr)
    );
    let user = rt
        .store
        .podman(&["image", "inspect", "--format", "{{.Config.User}}", image])
        .expect_ok();
    assert_eq!(user.stdout.trim(), "999:999");
    let size = rt
        .store
        .podman(&["image", "inspect", "--format", "{{.Size}}", image])
        .expect_ok();
    let size: u64 = size.stdout.trim().parse().unwrap();
    eprintln!("sidecar image: {} MiB", size / (1024 * 1024));
    assert!(size < 400 * 1024 * 1024, "{size} bytes");

    // The application's source directory, readable by user 999 as Argo CD's checkout is.
    let app = tempfile::tempdir().unwrap();
    std::fs::copy(
        example_path("full.yaml"),
        app.path().join("k8s-service.yaml"),
    )
    .unwrap();
    std::fs::set_permissions(app.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        app.path().join("k8s-service.yaml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let env = [
        ("ARGOCD_APP_NAME", "shop"),
        ("ARGOCD_APP_NAMESPACE", "payments"),
        ("KUBE_VERSION", "1.35.0"),
        ("KUBE_API_VERSIONS", "v1,apps/v1,autoscaling/v2,policy/v1"),
        (
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"values","map":{"autoscaling.maxReplicas":"7"}}]"#,
        ),
    ];
    let volume = format!("{}:/src:ro", app.path().display());
    let mut args: Vec<String> = [
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        "999:999",
        "--read-only",
        "--tmpfs",
        "/tmp:rw,size=64m,mode=1777",
        "--cap-drop",
        "all",
        "--security-opt",
        "no-new-privileges",
        "-v",
        &volume,
        "-w",
        "/src",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (k, v) in env {
        args.extend(["-e".to_string(), format!("{k}={v}")]);
    }
    args.extend(
        [image, "helm-k8s-service", "argocd", "generate"]
            .iter()
            .map(|s| s.to_string()),
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let inside = rt.store.podman(&refs).expect_ok();
    let mut host = std::process::Command::new(common::bin());
    host.args(["argocd", "generate"])
        .current_dir(app.path())
        .env("HELM_BIN", helm)
        .envs(env);
    let host = common::run(&mut host);
    assert!(host.status.success(), "{}", common::text(&host.stderr));
    assert!(inside.stdout.contains("kind: Deployment"));
    assert_eq!(
        inside.stdout,
        common::text(&host.stdout),
        "the sidecar renders what the host does"
    );

    // The plugin file, where argocd-cmp-server looks for it.
    let created = rt.store.podman(&["create", image]).expect_ok();
    let ctr = created.stdout.trim().to_string();
    let copied = app.path().join("plugin-from-image.yaml");
    let from = format!("{ctr}:/home/argocd/cmp-server/config/plugin.yaml");
    rt.store
        .podman(&["cp", &from, &copied.display().to_string()])
        .expect_ok();
    rt.store.podman(&["rm", &ctr]).expect_ok();
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(common::root().join("gitops/argocd/plugin.yaml")).unwrap()
    );
}
