//! Shapes of our configuration fields (not Opta's): environment variables from existing Secrets
//! and ConfigMaps, config files, init containers and sidecars, writable directories. Meaning and
//! rules live in `model::config` and `model::scratch`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::scalars::{Lenient, Quantity, RawResources};

/// `env_refs`: environment variables read from one key of an existing Secret or ConfigMap.
/// A mapping `NAME: {secret|config_map, key, optional}` (order kept, like `env_vars`), or a list
/// of the same entries with a `name`. Serialized as the list, so interpolation round-trips.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EnvRefs(pub Vec<RawEnvRef>);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvRef {
    /// Only in the list form; the mapping form's key is the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub secret: Option<String>,
    pub config_map: Option<String>,
    /// Default: the variable's name.
    pub key: Option<String>,
    pub optional: Option<Lenient<bool>>,
}

impl<'de> Deserialize<'de> for EnvRefs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvRefs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of NAME: {secret or config_map, key}, or a list of {name, secret or config_map, key}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvRefs, A::Error> {
                let mut out = Vec::new();
                while let Some((name, mut entry)) = map.next_entry::<String, RawEnvRef>()? {
                    if entry.name.is_some() {
                        return Err(de::Error::custom(
                            "`name` is not needed here: the mapping key is the variable's name",
                        ));
                    }
                    entry.name = Some(name);
                    out.push(entry);
                }
                Ok(EnvRefs(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EnvRefs, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<RawEnvRef>()? {
                    out.push(e);
                }
                Ok(EnvRefs(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `env_from`: every key of an existing Secret or ConfigMap as environment variables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvFrom {
    pub secret: Option<String>,
    pub config_map: Option<String>,
    /// Prepended to every key.
    pub prefix: Option<String>,
    pub optional: Option<Lenient<bool>>,
}

/// One entry of `init_containers`: runs to completion before the service starts.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInitContainer {
    pub name: Option<String>,
    /// Default: the service's image.
    pub image: Option<String>,
    pub commands: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub resource_request: Option<RawResources>,
    pub resource_limits: Option<RawResources>,
}

/// One entry of `sidecars`: a native sidecar (an init container with `restartPolicy: Always`)
/// that runs beside the service for the pod's whole life.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSidecar {
    pub name: Option<String>,
    pub image: Option<String>,
    pub commands: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub ports: Option<Vec<RawSidecarPort>>,
    pub resource_request: Option<RawResources>,
    pub resource_limits: Option<RawResources>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSidecarPort {
    pub name: Option<String>,
    pub port: Option<Lenient<u32>>,
}

/// One entry of `writable_paths`: a directory the container may write, as an absolute path
/// (`/var/cache/nginx`) or `{path, size}`. Serialized in the form it was written in, so
/// interpolation round-trips.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawWritablePath {
    Path(String),
    Sized(RawWritableDir),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWritableDir {
    pub path: Option<String>,
    /// The emptyDir's sizeLimit: MB, or a quantity such as `256Mi`.
    pub size: Option<Quantity>,
}

impl<'de> Deserialize<'de> for RawWritablePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawWritablePath;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an absolute path, or {path, size}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawWritablePath, E> {
                Ok(RawWritablePath::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawWritablePath, A::Error> {
                RawWritableDir::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawWritablePath::Sized)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        env_refs: EnvRefs,
    }

    #[test]
    fn writable_paths_are_paths_or_sized_entries() {
        #[derive(Deserialize)]
        struct W {
            writable_paths: Vec<RawWritablePath>,
        }
        let w: W = serde_saphyr::from_str(
            "writable_paths:\n  - /var/run\n  - {path: /var/cache/nginx, size: 256Mi}\n",
        )
        .unwrap();
        assert_eq!(
            w.writable_paths,
            vec![
                RawWritablePath::Path("/var/run".into()),
                RawWritablePath::Sized(RawWritableDir {
                    path: Some("/var/cache/nginx".into()),
                    size: Some(Quantity::Text("256Mi".into())),
                }),
            ]
        );
        let err = serde_saphyr::from_str::<W>("writable_paths:\n  - {path: /x, sise: 1}\n");
        assert!(err.is_err());
        // Interpolation writes the entries back as they were written.
        let yaml = serde_saphyr::to_string(&w.writable_paths).unwrap();
        let back: Vec<RawWritablePath> = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, w.writable_paths);
    }

    #[test]
    fn env_refs_read_both_forms_in_order() {
        let m: Doc = serde_saphyr::from_str(
            "env_refs:\n  Z: {secret: s}\n  A: {config_map: c, key: k, optional: true}\n",
        )
        .unwrap();
        let names: Vec<_> = m.env_refs.0.iter().map(|e| e.name.clone()).collect();
        assert_eq!(names, vec![Some("Z".into()), Some("A".into())]);
        assert_eq!(m.env_refs.0[1].optional, Some(Lenient::Value(true)));
        let l: Doc =
            serde_saphyr::from_str("env_refs:\n  - name: Z\n    secret: s\n    key: k\n").unwrap();
        assert_eq!(l.env_refs.0[0].key.as_deref(), Some("k"));
        // The list form is what interpolation writes back; it must read back the same.
        let again: EnvRefs =
            serde_json::from_value(serde_json::to_value(&m.env_refs).unwrap()).unwrap();
        assert_eq!(again, m.env_refs);
    }

    #[test]
    fn a_name_inside_the_mapping_form_is_refused() {
        let r: Result<Doc, _> = serde_saphyr::from_str("env_refs:\n  Z: {name: Y, secret: s}\n");
        assert!(r.is_err());
    }
}
