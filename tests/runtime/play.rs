//! `Runtime::play`: the test's copy of a rendered pod, made into what podman 4.3's `kube play`
//! runs as a kubelet would (each change, and why, is listed in tests/runtime.rs's module doc),
//! with the fixtures it needs as podman secrets and ConfigMaps, started on the test network.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::expect::kubelet_run_as_non_root;
use super::fixtures::Fixtures;
use super::images::Runtime;
use super::pod::{Ctr, File, Pod};
use super::process::PLAY_LIMIT;
use super::render::Source;

pub struct Options {
    /// Apply kubelet's runAsNonRoot check (podman has none) before starting anything.
    pub kubelet_checks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kubelet_checks: true,
        }
    }
}

static PODS: AtomicUsize = AtomicUsize::new(0);

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// JSON with every non-ASCII character escaped as YAML escapes it (`\\uXXXX`, `\\UXXXXXXXX`):
/// podman reads the file as YAML 1.1, where a raw NEL (U+0085) inside a string is a line break
/// and would be folded into a space, and where a JSON surrogate pair is an error.
fn ascii_json(v: &Value) -> String {
    let mut out = String::new();
    for c in serde_json::to_string(v).unwrap().chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xffff => out += &format!("\\u{n:04x}"),
            n => out += &format!("\\U{n:08x}"),
        }
    }
    out
}

impl Runtime {
    /// Run the pod of `source` (rendered with `docs`) with `podman kube play`, after turning the
    /// rendered pod into what podman 4.3 honours (see tests/runtime.rs). `label` names the pod.
    pub fn play(
        &'static self,
        label: &str,
        source: &Source,
        docs: &[Value],
        opts: Options,
    ) -> Result<Pod, String> {
        let n = PODS.fetch_add(1, Ordering::SeqCst);
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(24)
            .collect();
        let name = format!("hks{n}-{}", label.trim_matches('-'));
        let dir = self.store.dir.join("pods").join(&name);
        fs::create_dir_all(&dir).expect("pod dir");
        let rendered = source.template["spec"].clone();
        let chart_cms: BTreeMap<String, Value> = docs
            .iter()
            .filter(|d| d["kind"] == "ConfigMap")
            .filter_map(|d| Some((d["metadata"]["name"].as_str()?.to_string(), d.clone())))
            .collect();
        let fixtures = Fixtures::collect(&rendered, &chart_cms);
        let mut pod = Pod {
            rt: self,
            name: name.clone(),
            dir: dir.clone(),
            spec: rendered.clone(),
            containers: Vec::new(),
            inits: Vec::new(),
            fixtures,
            sysctls: rendered["securityContext"]["sysctls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| {
                    let value = match &s["value"] {
                        Value::String(v) => v.clone(),
                        Value::Null => return None,
                        other => other.to_string(),
                    };
                    Some(format!("{}={value}", s["name"].as_str()?))
                })
                .collect(),
            files: BTreeMap::new(),
            writable: BTreeMap::new(),
            read_only: BTreeMap::new(),
            ip: String::new(),
            secrets: Vec::new(),
        };
        for c in rendered["initContainers"].as_array().into_iter().flatten() {
            let ctr = Ctr {
                name: c["name"].as_str().unwrap_or("").into(),
                spec: c.clone(),
                sidecar: c["restartPolicy"] == "Always",
            };
            if ctr.sidecar {
                pod.containers.push(ctr);
            } else {
                pod.inits.push(ctr);
            }
        }
        let mut app: Vec<Ctr> = rendered["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Ctr {
                name: c["name"].as_str().unwrap_or("").into(),
                spec: c.clone(),
                sidecar: false,
            })
            .collect();
        app.append(&mut pod.containers);
        pod.containers = app;

        if opts.kubelet_checks {
            for c in pod.containers.iter().chain(&pod.inits) {
                let image = c.spec["image"].as_str().unwrap_or("");
                kubelet_run_as_non_root(&name, &rendered, &c.spec, &self.image_user(image))
                    .map_err(|m| format!("CreateContainerConfigError: {m}"))?;
            }
        }

        let copy = pod.copy_for_podman(source, &chart_cms);
        for (sname, data) in &pod.fixtures.secrets {
            // podman 4.3's kube play reads secretKeyRef/secretRef from a podman secret holding a
            // JSON map of base64 values (a Secret object in the YAML is stored in a form its own
            // reader rejects: "secret ... is not valid JSON").
            let m: BTreeMap<&String, String> =
                data.iter().map(|(k, v)| (k, b64(v.as_bytes()))).collect();
            let file = dir.join(format!("secret-{sname}.json"));
            fs::write(&file, serde_json::to_string(&m).unwrap()).unwrap();
            let o = self
                .store
                .podman(&["secret", "create", sname, &file.display().to_string()]);
            if !o.ok() {
                return Err(format!(
                    "cannot create the podman secret {sname}:\n{}",
                    o.both()
                ));
            }
            pod.secrets.push(sname.clone());
        }
        let mut yaml = String::new();
        for cm in chart_cms.values() {
            yaml += &ascii_json(cm);
            yaml += "\n---\n";
        }
        for (cname, data) in &pod.fixtures.config_maps {
            yaml += &ascii_json(&json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": cname}, "data": data,
            }));
            yaml += "\n---\n";
        }
        yaml += &ascii_json(&copy);
        yaml.push('\n');
        let play = dir.join("play.yaml");
        fs::write(&play, yaml).unwrap();
        let conf = dir.join("containers.conf");
        fs::write(&conf, self.store.containers_conf(&conf, &pod.sysctls)).unwrap();
        let o = self.store.podman_with(
            &conf,
            &[
                "kube",
                "play",
                "--network",
                &self.store.network,
                &play.display().to_string(),
            ],
            PLAY_LIMIT,
        );
        if !o.ok() {
            return Err(format!(
                "podman kube play failed:\n{}\n{}",
                o.both(),
                pod.report()
            ));
        }
        let infra = self
            .store
            .podman(&["pod", "inspect", "--format", "{{.InfraContainerID}}", &name])
            .expect_ok();
        let ip = self
            .store
            .podman(&[
                "inspect",
                "--format",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                infra.stdout.trim(),
            ])
            .expect_ok();
        pod.ip = ip.stdout.trim().to_string();
        Ok(pod)
    }
}

impl Pod {
    /// The rendered pod turned into what podman 4.3's `kube play` runs as a kubelet would (each
    /// change is listed in tests/runtime.rs's module doc).
    fn copy_for_podman(&mut self, source: &Source, chart_cms: &BTreeMap<String, Value>) -> Value {
        let mut spec = self.spec.clone();
        spec["restartPolicy"] = json!("Never");
        // Native sidecars become regular containers; the rest stay init containers.
        let mut containers: Vec<Value> = spec["containers"].as_array().cloned().unwrap_or_default();
        let mut inits = Vec::new();
        for c in spec["initContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if c["restartPolicy"] == "Always" {
                let mut c = c;
                c.as_object_mut().unwrap().remove("restartPolicy");
                containers.push(c);
            } else {
                inits.push(c);
            }
        }
        // fsGroup as a supplementary group, as a kubelet gives it.
        if let Some(g) = spec["securityContext"]["fsGroup"].as_u64() {
            let mut sup: Vec<Value> = spec["securityContext"]["supplementalGroups"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !sup.iter().any(|x| x.as_u64() == Some(g)) {
                sup.push(json!(g));
            }
            spec["securityContext"]["supplementalGroups"] = json!(sup);
        }
        let fs_group = spec["securityContext"]["fsGroup"]
            .as_u64()
            .map(|g| g as u32);

        // A directory as a kubelet makes one for a volume: group fsGroup with g+rwx and setgid
        // (SetVolumeOwnership), `mode` otherwise.
        let volume_dir = |name: String, mode: u32| -> PathBuf {
            let p = self.dir.join(name);
            fs::create_dir_all(&p).unwrap();
            std::os::unix::fs::chown(&p, Some(0), Some(fs_group.unwrap_or(0))).unwrap();
            let mode = if fs_group.is_some() {
                mode | 0o2070
            } else {
                mode
            };
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            p
        };

        let mut volumes = Vec::new();
        let mut materialized: BTreeMap<String, (PathBuf, Vec<(String, File)>)> = BTreeMap::new();
        let mut writable_vols = BTreeSet::new();
        for v in spec["volumes"].as_array().cloned().unwrap_or_default() {
            let vname = v["name"].as_str().unwrap_or("").to_string();
            if v.get("emptyDir").is_some() {
                // podman 4.3 makes an emptyDir a named volume called after the pod's volume
                // ("tmp"), shared by every pod that has one, and fills it with the image's
                // directory at that path, owner and mode included. A kubelet's is empty, 0777.
                let host = volume_dir(format!("empty-{vname}"), 0o777);
                writable_vols.insert(vname.clone());
                volumes
                    .push(json!({"name": vname, "hostPath": {"path": host, "type": "Directory"}}));
            } else if v.get("configMap").is_some() || v.get("secret").is_some() {
                // podman 4.3 ignores subPath and defaultMode on these: write the files as a
                // kubelet does and bind them in (hostPath).
                let secret = v.get("secret").is_some();
                let src = if secret {
                    &v["secret"]
                } else {
                    &v["configMap"]
                };
                let oname = if secret {
                    src["secretName"].as_str()
                } else {
                    src["name"].as_str()
                }
                .unwrap_or("")
                .to_string();
                let data: BTreeMap<String, String> = if let Some(cm) = chart_cms.get(&oname) {
                    cm["data"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                } else if secret {
                    self.fixtures
                        .secrets
                        .get(&oname)
                        .cloned()
                        .unwrap_or_default()
                } else {
                    self.fixtures
                        .config_maps
                        .get(&oname)
                        .cloned()
                        .unwrap_or_default()
                };
                let default_mode = src["defaultMode"].as_u64().unwrap_or(0o644) as u32;
                let items: Vec<(String, String, u32)> = match src["items"].as_array() {
                    Some(items) => items
                        .iter()
                        .map(|i| {
                            (
                                i["key"].as_str().unwrap_or("").to_string(),
                                i["path"].as_str().unwrap_or("").to_string(),
                                i["mode"].as_u64().map_or(default_mode, |m| m as u32),
                            )
                        })
                        .collect(),
                    None => data
                        .keys()
                        .map(|k| (k.clone(), k.clone(), default_mode))
                        .collect(),
                };
                let host = self.dir.join(format!("vol-{vname}"));
                fs::create_dir_all(&host).unwrap();
                fs::set_permissions(&host, fs::Permissions::from_mode(0o755)).unwrap();
                let mut files = Vec::new();
                for (key, path, mode) in items {
                    let content = data.get(&key).cloned().unwrap_or_default();
                    let p = host.join(&path);
                    fs::write(&p, &content).unwrap();
                    // A kubelet gives the files group fsGroup and g+r (SetVolumeOwnership).
                    let mode = if fs_group.is_some() {
                        mode | 0o440
                    } else {
                        mode
                    };
                    let gid = fs_group.unwrap_or(0);
                    std::os::unix::fs::chown(&p, Some(0), Some(gid)).unwrap();
                    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
                    files.push((
                        path.clone(),
                        File {
                            path,
                            content: content.into_bytes(),
                            mode,
                            gid,
                        },
                    ));
                }
                materialized.insert(vname.clone(), (host, files));
            } else {
                volumes.push(v.clone());
            }
        }
        for claim in &source.claims {
            // A StatefulSet's claim: a fresh filesystem's root (root, 0755) given to fsGroup, as
            // a kubelet does for a volume that supports ownership management.
            let host = volume_dir(format!("claim-{claim}"), 0o755);
            writable_vols.insert(claim.clone());
            volumes.push(json!({"name": claim, "hostPath": {"path": host, "type": "Directory"}}));
        }

        let mut host_volumes: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut fix_container = |c: &mut Value, pod: &mut Pod| {
            let obj = c.as_object_mut().unwrap();
            let cname = obj["name"].as_str().unwrap_or("").to_string();
            // podman 4.3 publishes every containerPort on the host's 0.0.0.0 (a kubelet never
            // does): gone from the copy; the tests reach the pod IP.
            obj.remove("ports");
            // Probes: the test runs them itself, from the host, as a kubelet does.
            for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
                obj.remove(p);
            }
            let mut mounts = Vec::new();
            for m in obj
                .get("volumeMounts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let vname = m["name"].as_str().unwrap_or("").to_string();
                let path = m["mountPath"].as_str().unwrap_or("").to_string();
                let ro = m["readOnly"].as_bool() == Some(true);
                if ro {
                    pod.read_only
                        .entry(cname.clone())
                        .or_default()
                        .push(path.clone());
                } else if writable_vols.contains(&vname) {
                    pod.writable
                        .entry(cname.clone())
                        .or_default()
                        .push(path.clone());
                }
                let mut m = m.clone();
                if let Some((host, files)) = materialized.get(&vname) {
                    let sub = m["subPath"].as_str().unwrap_or("").to_string();
                    let n = host_volumes.len();
                    let key = (vname.clone(), sub.clone());
                    let fresh = !host_volumes.contains_key(&key);
                    let new = host_volumes
                        .entry(key)
                        .or_insert_with(|| format!("{vname}-{n}"))
                        .clone();
                    let (hp, kind) = if sub.is_empty() {
                        (host.clone(), "Directory")
                    } else {
                        (host.join(&sub), "File")
                    };
                    for (p, f) in files {
                        if sub.is_empty() || *p == sub {
                            let mut f = f.clone();
                            f.path = if sub.is_empty() {
                                format!("{}/{p}", path.trim_end_matches('/'))
                            } else {
                                path.clone()
                            };
                            pod.files.entry(cname.clone()).or_default().push(f);
                        }
                    }
                    if fresh {
                        volumes.push(json!({"name": new, "hostPath": {"path": hp, "type": kind}}));
                    }
                    let o = m.as_object_mut().unwrap();
                    o.remove("subPath");
                    o.insert("name".into(), json!(new));
                    mounts.push(m);
                } else {
                    mounts.push(m);
                }
            }
            if !mounts.is_empty() {
                obj.insert("volumeMounts".into(), json!(mounts));
            }
        };
        for c in containers.iter_mut().chain(inits.iter_mut()) {
            fix_container(c, self);
        }
        let o = spec.as_object_mut().unwrap();
        o.insert("containers".into(), json!(containers));
        if inits.is_empty() {
            o.remove("initContainers");
        } else {
            o.insert("initContainers".into(), json!(inits));
        }
        if volumes.is_empty() {
            o.remove("volumes");
        } else {
            o.insert("volumes".into(), json!(volumes));
        }
        let meta = &source.template["metadata"];
        // podman 4.3 refuses an annotation value longer than 63 characters ("value length exceeds
        // Kubernetetes max 63"; Kubernetes has no such limit), e.g. the chart's checksum/config
        // (a sha256): such annotations are left out. They mean nothing to a runtime.
        let annotations: serde_json::Map<String, Value> = meta["annotations"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.as_str().is_some_and(|v| v.len() <= 63))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": self.name,
                "labels": meta["labels"],
                "annotations": annotations,
            },
            "spec": spec,
        })
    }
}
