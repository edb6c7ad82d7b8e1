//! Install-time overrides (issue 14 item 7), through real `helm template` on Helm 3 and Helm 4:
//! what users override is keyed by name in values.yaml (`env`, `cronJobs`, `ports`), so one
//! `--set` or `-f` changes, adds or removes one entry and leaves the others alone, and the
//! rendered objects are exactly the expected merge. Random cases come from a seeded xorshift;
//! `OVERRIDES_SEED=<n>` replays a run, `OVERRIDES_CASES=<n>` changes how many (default 12).

mod common;
#[path = "support/yaml11.rs"]
mod yaml11;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{bin, helms, root, run, text};
use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn string(&mut self, alphabet: &[char], max: usize) -> String {
        let len = self.below(max + 1);
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

fn seed() -> u64 {
    let seed = std::env::var("OVERRIDES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("OVERRIDES_SEED={seed} (set it to replay this run)");
    seed | 1
}

fn cases() -> usize {
    std::env::var("OVERRIDES_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12)
}

/// examples/full.yaml packaged once: (chart archive, its values.yaml read back).
fn chart() -> &'static (PathBuf, Value) {
    static CHART: OnceLock<(PathBuf, Value)> = OnceLock::new();
    CHART.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("overrides");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let o = run(Command::new(bin())
            .arg("generate")
            .arg(root().join("examples/full.yaml"))
            .arg("--output")
            .arg(&dir));
        assert!(o.status.success(), "{}", text(&o.stderr));
        let chart = dir.join("payments");
        let values = fs::read_to_string(chart.join("values.yaml")).unwrap();
        let values = yaml11::load_all(&values).unwrap().remove(0);
        (chart, values)
    })
}

/// `helm template` with `args`; the objects, or helm's error.
fn render(helm: &Path, args: &[String]) -> Result<Vec<Value>, String> {
    let o = run(Command::new(helm)
        .arg("template")
        .arg("r")
        .arg(&chart().0)
        .args(args));
    if !o.status.success() {
        return Err(text(&o.stderr));
    }
    yaml11::load_all(&text(&o.stdout))
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// The plain variables (those with a `value`) of a pod template's first container, in order.
fn plain_env(template: &Value) -> Vec<(String, String)> {
    template["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e.get("value").is_some())
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("?").to_string(),
                e["value"].as_str().unwrap_or("<not a string>").to_string(),
            )
        })
        .collect()
}

/// The order the chart promises: values without `$(` first, then those with it, by name.
fn chart_order(env: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    out.sort_by(|a, b| (a.1.contains("$("), &a.0).cmp(&(b.1.contains("$("), &b.0)));
    out
}

const NAME_HEAD: &[char] = &['A', 'B', 'Z', 'a', 'q', '_', '-'];
const NAME_TAIL: &[char] = &['A', 'M', 'z', 'k', '0', '7', '_', '-'];
/// Safe in a `--set` value: no `,` (a list), `\` (an escape), `[`, `]`, `{`, `}`, `.` or `=`
/// trouble; `$(` to exercise the order.
const SET_VALUE: &[char] = &[
    'a', 'Z', '0', '9', '-', '_', '/', ':', '$', '(', ')', ' ', '@',
];
/// Anything a -f file can carry (written as JSON, which YAML reads as it is).
const FILE_VALUE: &[char] = &[
    'a', '0', '$', '(', ')', '{', '}', '"', '\'', '\\', '\n', '\t', ':', '#', ',', '.', '=', '[',
    ']', '*', '&', '!', '|', '>', 'é', '\u{85}', '\u{2028}', ' ',
];

/// The text a `--set` value comes back as: helm types it first (`strvals` `typedVal`: an integer
/// unless it starts with `0`, so `-0` is 0 and `-012` is -12), and the chart writes a number in
/// its canonical form. Found with OVERRIDES_SEED=1796593780341985393 (`-0`).
fn set_typed(v: &str) -> String {
    if v == "0" || v.starts_with('0') {
        return v.to_string();
    }
    match v.parse::<i64>() {
        Ok(i) => i.to_string(),
        Err(_) => v.to_string(),
    }
}

fn env_name(rng: &mut Rng, dots: bool) -> String {
    let mut n = rng.string(NAME_HEAD, 0);
    n.push(NAME_HEAD[rng.below(NAME_HEAD.len())]);
    n.push_str(&rng.string(NAME_TAIL, 8));
    if dots && rng.chance(20) {
        n.push('.');
        n.push_str(&rng.string(NAME_TAIL, 3));
    }
    n
}

/// One random mix of `--set`, `--set-string` and `-f` changes to `env`, and the merge it must
/// give: changes to the chart's variables, new ones, removals (`null`), numbers and booleans.
fn env_case(
    rng: &mut Rng,
    defaults: &BTreeMap<String, String>,
    file: &Path,
) -> (Vec<String>, BTreeMap<String, String>) {
    // (flag, "NAME=text", the value it must give; None: removed)
    let mut sets: Vec<(&str, String, Option<String>)> = Vec::new();
    let mut from_file = serde_json::Map::new();
    let known: Vec<String> = defaults.keys().cloned().collect();
    for _ in 0..1 + rng.below(8) {
        let name = if rng.chance(40) {
            known[rng.below(known.len())].clone()
        } else {
            env_name(rng, false)
        };
        match rng.below(6) {
            0 => sets.push(("--set", format!("{name}=null"), None)),
            1 => {
                // --set types these; the chart writes them back as the same text.
                let v = ["8080", "0", "-12", "true", "false", "007"][rng.below(6)];
                sets.push(("--set", format!("{name}={v}"), Some(v.into())));
            }
            2 => {
                let v = ["null", "true", "1e3", "0755", "+5", ""][rng.below(6)];
                sets.push(("--set-string", format!("{name}={v}"), Some(v.into())));
            }
            3 | 4 => {
                let v = rng.string(SET_VALUE, 20);
                let want = set_typed(&v);
                sets.push(("--set", format!("{name}={v}"), Some(want)));
            }
            _ => {
                let name = env_name(rng, true);
                let v = match rng.chance(15) {
                    true => Value::Null,
                    false => json!(rng.string(FILE_VALUE, 30)),
                };
                from_file.insert(name, v);
            }
        }
    }
    let mut want = defaults.clone();
    let mut args = Vec::new();
    if !from_file.is_empty() {
        for (k, v) in &from_file {
            match v.as_str() {
                Some(s) => want.insert(k.clone(), s.to_string()),
                None => want.remove(k),
            };
        }
        // A raw NEL or LINE SEPARATOR is a line break to YAML 1.1 (helm's reader of -f files:
        // a space before one is folded away): escape them, as a user who means the character
        // must. Found with OVERRIDES_SEED=1796590220138880875.
        let text = json!({"env": from_file})
            .to_string()
            .replace('\u{85}', "\\u0085")
            .replace('\u{2028}', "\\u2028");
        fs::write(file, text).unwrap();
        args.extend(["-f".to_string(), file.display().to_string()]);
    }
    // helm applies the -f files, then every --set, then every --set-string (each in order).
    sets.sort_by_key(|(flag, _, _)| *flag == "--set-string");
    for (flag, set, value) in sets {
        let name = set.split_once('=').map_or("", |(n, _)| n).to_string();
        match value {
            Some(v) => want.insert(name, v),
            None => want.remove(&name),
        };
        args.extend([flag.to_string(), format!("env.{set}")]);
    }
    (args, want)
}

#[test]
fn env_overrides_by_name_give_exactly_the_expected_merge() {
    let seed = seed();
    let mut rng = Rng(seed);
    let defaults: BTreeMap<String, String> =
        serde_json::from_value(chart().1["env"].clone()).unwrap();
    assert!(defaults.len() >= 3, "full.yaml has env vars: {defaults:?}");
    let scratch = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for i in 0..cases() {
        let file = scratch.path().join(format!("env{i}.json"));
        let (args, want) = env_case(&mut rng, &defaults, &file);
        let want = chart_order(&want);
        for (name, helm) in helms() {
            match render(&helm, &args) {
                Err(e) => problems.push(format!("{name} {args:?}: {e}")),
                Ok(docs) => {
                    let deployment = of_kind(&docs, "Deployment");
                    let cron = of_kind(&docs, "CronJob");
                    for (what, t) in [
                        ("Deployment", &deployment[0]["spec"]["template"]),
                        (
                            "CronJob",
                            &cron[0]["spec"]["jobTemplate"]["spec"]["template"],
                        ),
                    ] {
                        let got = plain_env(t);
                        if got != want {
                            problems.push(format!(
                                "{name} {what} {args:?}:\n  got  {got:?}\n  want {want:?}"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "OVERRIDES_SEED={seed}: {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_bad_env_name_or_value_is_a_schema_error() {
    for (name, helm) in helms() {
        for bad in ["env.1BAD=x", "env.A=9007199254740993", "env.A[0]=x"] {
            let err = render(&helm, &["--set".into(), bad.into()]).expect_err(bad);
            assert!(err.contains("schema"), "{name} {bad}: {err}");
        }
    }
}

/// CronJob objects by the name suffix after the release's full name `r-payments-`.
fn cron_jobs(docs: &[Value]) -> BTreeMap<String, &Value> {
    of_kind(docs, "CronJob")
        .into_iter()
        .map(|c| {
            let name = c["metadata"]["name"].as_str().unwrap_or("?");
            (name.trim_start_matches("r-payments-").to_string(), c)
        })
        .collect()
}

#[test]
fn a_cron_job_is_suspended_added_or_removed_by_name() {
    let seed = seed();
    let mut rng = Rng(seed);
    let names: Vec<String> = chart().1["cronJobs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names, ["1", "reconcile"], "full.yaml's cron jobs");
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &[]).unwrap();
        let plain = cron_jobs(&docs);
        assert_eq!(plain.keys().collect::<Vec<_>>(), ["1", "reconcile"]);
        for _ in 0..cases().min(6) {
            let suspended: Vec<&String> = names.iter().filter(|_| rng.chance(50)).collect();
            let removed = names
                .iter()
                .find(|n| !suspended.contains(n) && rng.chance(30));
            let mut args = Vec::new();
            for n in &suspended {
                args.extend(["--set".to_string(), format!("cronJobs.{n}.suspend=true")]);
            }
            if let Some(n) = removed {
                args.extend(["--set".to_string(), format!("cronJobs.{n}=null")]);
            }
            let docs = render(&helm, &args).unwrap();
            let got = cron_jobs(&docs);
            for n in &names {
                let Some(job) = got.get(n) else {
                    assert_eq!(Some(n), removed, "{helm_name} {args:?}: {n} is gone");
                    continue;
                };
                assert_ne!(Some(n), removed, "{helm_name} {args:?}: {n} is still there");
                assert_eq!(
                    job["spec"]["suspend"],
                    suspended.contains(&n),
                    "{helm_name} {args:?}: {n}"
                );
                // Nothing else of the job changed.
                let mut want = plain[n.as_str()].clone();
                want["spec"]["suspend"] = job["spec"]["suspend"].clone();
                assert_eq!(*job, &want, "{helm_name} {args:?}: {n}");
            }
        }
        // A new job needs only a schedule and a command; the rest are the chart's defaults,
        // the same as a spec's cron job without settings.
        let docs = render(
            &helm,
            &[
                "--set".into(),
                "cronJobs.cleanup.schedule=@daily".into(),
                "--set-string".into(),
                "cronJobs.cleanup.command={/app/cleanup,--days,30}".into(),
            ],
        )
        .unwrap();
        let got = cron_jobs(&docs);
        let new = got.get("cleanup").expect("cleanup");
        let spec = &new["spec"];
        assert_eq!(
            (
                &spec["schedule"],
                &spec["suspend"],
                &spec["concurrencyPolicy"],
                &spec["startingDeadlineSeconds"],
                &spec["jobTemplate"]["spec"]["backoffLimit"],
                &spec["jobTemplate"]["spec"]["ttlSecondsAfterFinished"],
            ),
            (
                &json!("@daily"),
                &json!(false),
                &json!("Forbid"),
                &json!(300),
                &json!(2),
                &json!(86400)
            ),
            "{helm_name}"
        );
        let c = &spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["command"], json!(["/app/cleanup", "--days", "30"]));
        assert_eq!(
            c["env"],
            got["reconcile"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
        );
        // A misspelt name is a new job without schedule or command: one schema error naming it.
        let err = render(
            &helm,
            &["--set".into(), "cronJobs.reconcil.suspend=true".into()],
        )
        .expect_err("misspelt cron job");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("- ")).collect();
        assert!(
            lines.iter().all(|l| l.contains("reconcil"))
                && lines.iter().any(|l| l.contains("schedule")),
            "{helm_name}: {err}"
        );
        assert!(lines.len() <= 2, "{helm_name}: {err}");
        for bad in [
            "cronJobs.Bad_Name.schedule=@daily",
            "cronJobs.reconcile.suspnd=true",
        ] {
            let err = render(&helm, &["--set".into(), bad.into()]).expect_err(bad);
            assert!(err.contains("schema"), "{helm_name} {bad}: {err}");
        }
    }
}

/// (name, Service port, container port) of every port: the Service's, checked against the
/// container's ports and the NetworkPolicy's allowed ports.
fn served_ports(docs: &[Value]) -> Result<Vec<(String, i64, i64)>, String> {
    let service = of_kind(docs, "Service");
    let service = service.first().ok_or("no Service")?;
    let container = &of_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0];
    let container_ports: BTreeMap<String, i64> = container["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("?").to_string(),
                p["containerPort"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let mut out = Vec::new();
    for p in service["spec"]["ports"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap_or("?").to_string();
        if p["targetPort"] != name.as_str() {
            return Err(format!("Service port {name} targets {}", p["targetPort"]));
        }
        let target = *container_ports
            .get(&name)
            .ok_or(format!("no container port {name}"))?;
        out.push((name, p["port"].as_i64().unwrap_or(-1), target));
    }
    if out.len() != container_ports.len() {
        return Err(format!("Service {out:?} but container {container_ports:?}"));
    }
    let policy = of_kind(docs, "NetworkPolicy");
    let mut open: Vec<i64> = policy[0]["spec"]["ingress"][0]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["port"].as_i64().unwrap_or(-1))
        .collect();
    let mut want: Vec<i64> = container_ports.values().copied().collect();
    open.sort();
    want.sort();
    if open != want {
        return Err(format!(
            "NetworkPolicy opens {open:?}, the container has {want:?}"
        ));
    }
    Ok(out)
}

#[test]
fn a_port_is_changed_added_or_removed_by_name() {
    let seed = seed();
    let mut rng = Rng(seed);
    for (helm_name, helm) in helms() {
        let plain = served_ports(&render(&helm, &[]).unwrap()).unwrap();
        assert_eq!(
            plain,
            [
                ("admin".to_string(), 7001, 7000),
                ("http".to_string(), 80, 8080),
                ("metrics".to_string(), 9090, 9090)
            ],
            "{helm_name}: sorted by name"
        );
        for _ in 0..cases().min(6) {
            let mut want = plain.clone();
            let mut args = Vec::new();
            let at = rng.below(want.len());
            let service_port = 10_000 + rng.below(5000) as i64;
            let container_port = 20_000 + rng.below(5000) as i64;
            let name = want[at].0.clone();
            args.extend([
                "--set".to_string(),
                format!("ports.{name}.servicePort={service_port}"),
            ]);
            want[at].1 = service_port;
            if rng.chance(50) {
                args.extend([
                    "--set".to_string(),
                    format!("ports.{name}.containerPort={container_port}"),
                ]);
                want[at].2 = container_port;
            }
            if rng.chance(50) {
                // A new tcp port: its Service port defaults to its container port.
                args.extend([
                    "--set".to_string(),
                    "ports.extra.containerPort=9300".to_string(),
                ]);
                want.push(("extra".to_string(), 9300, 9300));
            }
            let gone = (at + 1) % want.len();
            if rng.chance(40) && want[gone].0 != "http" && want[gone].0 != "extra" {
                args.extend(["--set".to_string(), format!("ports.{}=null", want[gone].0)]);
                want.remove(gone);
            }
            want.sort();
            let got = served_ports(&render(&helm, &args).unwrap());
            assert_eq!(got, Ok(want), "{helm_name} {args:?}");
        }
        // The probes follow probePort by name, whatever its number becomes.
        let docs = render(
            &helm,
            &["--set".into(), "ports.http.containerPort=8181".into()],
        )
        .unwrap();
        let c = &of_kind(&docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["readinessProbe"]["httpGet"]["port"], "http",
            "{helm_name}"
        );
        for bad in [
            "ports.Http.containerPort=1",
            "ports.new.servicePort=81",
            "ports.http.containerPort=9090",
            "ports.http.sevicePort=1",
        ] {
            let err = render(&helm, &["--set".into(), bad.into()]).expect_err(bad);
            assert!(
                err.contains("schema") || err.contains("is also ports."),
                "{helm_name} {bad}: {err}"
            );
        }
    }
}

#[test]
fn escape_hatches_are_written_as_given_and_never_as_template_text() {
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("extra.yaml");
    fs::write(
        &file,
        r#"extraEnv:
  - name: POD_IP
    valueFrom: {fieldRef: {fieldPath: status.podIP}}
  - name: TEMPLATE
    value: "{{ .Release.Name }}"
extraEnvFrom:
  - configMapRef: {name: more-settings}
extraVolumes:
  - name: cache
    emptyDir: {sizeLimit: 1Gi}
extraVolumeMounts:
  - name: cache
    mountPath: /var/cache/app
extraObjects:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: "extra-{{ .Release.Name }}"}
    data: {a: '{{ fail "tpl must never run" }}'}
podLabels:
  app.kubernetes.io/component: hacked
  app.kubernetes.io/instance: hacked
  app.kubernetes.io/name: hacked
  example.com/extra: "yes"
podAnnotations:
  example.com/user: "1"
"#,
    )
    .unwrap();
    let args = vec!["-f".to_string(), file.display().to_string()];
    for (helm_name, helm) in helms() {
        let plain = render(&helm, &[]).unwrap();
        let docs = render(&helm, &args).unwrap();
        // The object, byte for byte, braces included.
        let extra: Vec<&Value> = of_kind(&docs, "ConfigMap")
            .into_iter()
            .filter(|c| c["metadata"]["name"] == "extra-{{ .Release.Name }}")
            .collect();
        assert_eq!(extra.len(), 1, "{helm_name}");
        assert_eq!(extra[0]["data"]["a"], "{{ fail \"tpl must never run\" }}");
        let deployment = of_kind(&docs, "Deployment")[0];
        let pod = &deployment["spec"]["template"];
        let c = &pod["spec"]["containers"][0];
        let env = c["env"].as_array().unwrap();
        let n = env.len();
        assert_eq!(
            env[n - 2..],
            [
                json!({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}),
                json!({"name": "TEMPLATE", "value": "{{ .Release.Name }}"})
            ],
            "{helm_name}: extraEnv comes last"
        );
        assert_eq!(
            c["envFrom"].as_array().unwrap().last(),
            Some(&json!({"configMapRef": {"name": "more-settings"}}))
        );
        assert!(
            c["volumeMounts"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "cache", "mountPath": "/var/cache/app"}))
        );
        assert!(
            pod["spec"]["volumes"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}))
        );
        // The cron jobs share the environment, not the service's extra volumes.
        let cron = &of_kind(&docs, "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"];
        assert_eq!(
            cron["spec"]["containers"][0]["env"].as_array().unwrap()[n - 2..],
            env[n - 2..]
        );
        assert!(!cron.to_string().contains("/var/cache/app"), "{helm_name}");
        // Labels and annotations merge with the chart's; a user label never changes a selector
        // label, so the Service, the NetworkPolicy and the workload still select these pods.
        let plain_pod = &of_kind(&plain, "Deployment")[0]["spec"]["template"];
        let labels = pod["metadata"]["labels"].as_object().unwrap();
        for (k, v) in plain_pod["metadata"]["labels"].as_object().unwrap() {
            if k != "team" && k != "tier" {
                assert_eq!(labels.get(k), Some(v), "{helm_name}: label {k}");
            }
        }
        assert_eq!(labels["example.com/extra"], "yes");
        assert_eq!(labels["app.kubernetes.io/component"], "server");
        assert_eq!(
            deployment["spec"]["selector"],
            of_kind(&plain, "Deployment")[0]["spec"]["selector"]
        );
        assert_eq!(
            of_kind(&docs, "Service")[0]["spec"]["selector"],
            of_kind(&plain, "Service")[0]["spec"]["selector"]
        );
        let annotations = pod["metadata"]["annotations"].as_object().unwrap();
        assert_eq!(annotations["example.com/user"], "1");
        for (k, v) in plain_pod["metadata"]["annotations"].as_object().unwrap() {
            assert_eq!(annotations.get(k), Some(v), "{helm_name}: annotation {k}");
        }
        // A typo still fails at install.
        for bad in [
            r#"extraEnv=[{"name":"A","vaule":"x"}]"#,
            r#"extraVolumeMounts=[{"name":"cache","mountpath":"/x"}]"#,
            r#"extraObjects=[{"kind":"ConfigMap"}]"#,
        ] {
            let err = render(&helm, &["--set-json".into(), bad.into()]).expect_err(bad);
            assert!(err.contains("schema"), "{helm_name} {bad}: {err}");
        }
    }
}

#[test]
fn extra_volumes_and_mounts_clear_of_the_charts_own_are_checked_at_render() {
    for (helm_name, helm) in helms() {
        for (set, want) in [
            (
                r#"extraVolumes=[{"name":"tmp","emptyDir":{}}]"#,
                r#"extraVolumes[0].name "tmp" is used twice or is one of the chart's volumes"#,
            ),
            (
                r#"extraVolumeMounts=[{"name":"cache","mountPath":"/x"}]"#,
                r#"extraVolumeMounts[0].name "cache" is no volume of the pod"#,
            ),
            (
                r#"extraVolumeMounts=[{"name":"tmp","mountPath":"/tmp"}]"#,
                r#"extraVolumeMounts[0].mountPath "/tmp" is used twice"#,
            ),
        ] {
            let err = render(&helm, &["--set-json".into(), set.into()]).expect_err(set);
            assert!(err.contains(want), "{helm_name} {set}: {err}");
        }
        // A chart volume may be mounted a second time elsewhere.
        let docs = render(
            &helm,
            &[
                "--set-json".into(),
                r#"extraVolumeMounts=[{"name":"tmp","mountPath":"/var/tmp"}]"#.into(),
            ],
        )
        .unwrap();
        let c = &of_kind(&docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0];
        assert!(
            c["volumeMounts"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "tmp", "mountPath": "/var/tmp"})),
            "{helm_name}"
        );
    }
}
