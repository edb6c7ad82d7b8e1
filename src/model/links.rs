//! Opta's `links`. Linked to a database or a cache, an Opta k8s-service got the module's
//! connection settings as environment variables named `<module>_<output>` (`db_db_host`), or
//! as the link's one rename map says. Opta read the values from its own Terraform outputs; a
//! chart has none, so each variable is read from a key (the output's name) of one Secret per
//! link, which the user creates (values `links`, templates/_links.tpl; the preflight checks it).
//! Every value comes from the Secret, host and database name included: Opta kept them all in
//! one Secret too, and they differ per environment, so none belongs in the chart.
//!
//! Links that only granted cloud permissions (buckets, queues, topics, tables) add nothing: a
//! warning says what to grant instead. The linked module's type comes from the Opta file's
//! `modules:` (Opta links by module name within one file), or from `link_types` (ours) for a
//! module another file holds; without either, a warning says how to declare it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::builder::Builder;
use super::rules;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;

#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The linked module's name, as written (letters and digits, as Opta requires).
    pub module: String,
    /// Its Opta type, as written (`postgres`, `aws-redis`, ...).
    pub module_type: String,
    /// (environment variable, key of the link's Secret), in Opta's order.
    pub env: Vec<(String, String)>,
}

/// What Opta did for a link to a module type.
#[derive(Debug, PartialEq)]
enum Kind {
    /// Injected these outputs of the module as environment variables.
    Outputs(&'static [&'static str]),
    /// Granted the pods' cloud identity permissions on a resource (`what`), `default` if none.
    Iam {
        what: &'static str,
        perms: &'static [&'static str],
        default: &'static [&'static str],
        gcp: bool,
    },
}

const SQL: &[&str] = &["db_user", "db_name", "db_password", "db_host"];
const CACHE: &[&str] = &["cache_host", "cache_auth_token"];

/// The types Opta links, for messages.
pub const LINKABLE: &str = "postgres, mysql, redis, mongodb, mongodb-atlas, aws-documentdb (and the aws-/gcp-/azure-/local- forms of the first four), aws-s3, aws-sqs, aws-sns, aws-dynamodb, gcp-gcs";

/// Opta's link handling per module type (modules/{aws,gcp,azure,local}_k8s_service/*.py and
/// linker_helper.py), with the aliases of every cloud's registry (`postgres` is `aws-postgres`
/// on AWS, `gcp-postgres` on GCP, ...; the variables are the same on every cloud, but a local
/// environment's redis has no auth token: `local-redis`).
fn kind(t: &str) -> Option<Kind> {
    let iam = |what, perms, default| Kind::Iam {
        what,
        perms,
        default,
        gcp: false,
    };
    Some(match t {
        "postgres" | "aws-postgres" | "gcp-postgres" | "azure-postgres" | "local-postgres"
        | "mysql" | "aws-mysql" | "gcp-mysql" | "local-mysql" | "mongodb" | "local-mongodb" => {
            Kind::Outputs(SQL)
        }
        "redis" | "aws-redis" | "gcp-redis" | "azure-redis" => Kind::Outputs(CACHE),
        "local-redis" => Kind::Outputs(&["cache_host"]),
        "aws-documentdb" => Kind::Outputs(&["db_user", "db_host", "db_password"]),
        "mongodb-atlas" => {
            Kind::Outputs(&["db_password", "db_user", "mongodb_atlas_connection_string"])
        }
        "aws-s3" => iam("bucket", &["read", "write"], &["write"]),
        "aws-sqs" => iam(
            "queue",
            &["publish", "subscribe"],
            &["publish", "subscribe"],
        ),
        "aws-sns" => iam("topic", &["publish"], &["publish"]),
        "aws-dynamodb" => iam("table", &["read", "write"], &["write"]),
        "gcp-gcs" => Kind::Iam {
            what: "bucket",
            perms: &["read", "write"],
            default: &["write"],
            gcp: true,
        },
        _ => return None,
    })
}

/// One entry of `links`: the module's name, and its permission items with their paths.
type Entry<'v> = (String, Vec<(FieldPath, &'v Value)>);

impl Builder<'_> {
    /// `taken`: the env names the rest of the spec gives (env_vars, secrets, env_refs).
    pub(super) fn links(&mut self, raw: &RawService, taken: &[&str]) -> Vec<Link> {
        let declared = self.link_types(raw);
        let mut env_seen: BTreeSet<String> = taken.iter().map(|s| s.to_string()).collect();
        let mut modules_seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, entry) in raw.links.iter().flatten().enumerate() {
            let path = self.path("links").index(i);
            let Some((module, perms)) = self.link_entry(&path, entry) else {
                continue;
            };
            if module.is_empty() || !module.bytes().all(|b| b.is_ascii_alphanumeric()) {
                self.fail_help(
                    &path,
                    format!("`{}` is not an Opta module name", printable(&module)),
                    "Opta module names have only letters and digits",
                );
                continue;
            }
            // Names differing only in case would share a Secret name.
            if !modules_seen.insert(module.to_ascii_lowercase()) {
                self.fail(&path, format!("module `{module}` is linked twice"));
                continue;
            }
            let found = declared
                .get(&module)
                .or_else(|| self.loaded.module_types.get(&module));
            let Some(module_type) = found.cloned() else {
                self.unknown_type(&module);
                continue;
            };
            match kind(&module_type) {
                None => self.fail_help(
                    &path,
                    format!(
                        "Opta cannot link a k8s-service to `{module}`, a module of type `{}`",
                        printable(&module_type)
                    ),
                    format!("Opta links these module types: {LINKABLE}; remove the link"),
                ),
                Some(Kind::Iam {
                    what,
                    perms: allowed,
                    default,
                    gcp,
                }) => {
                    let mut granted: Vec<String> = Vec::new();
                    for (p, v) in &perms {
                        match v.as_str().filter(|s| allowed.contains(s)) {
                            Some(s) => granted.push(s.to_string()),
                            None => self.fail(
                                p,
                                format!("{} is not a permission of link `{module}` (type {module_type}: {})", shown(v), allowed.join(", ")),
                            ),
                        }
                    }
                    if granted.is_empty() {
                        granted = default.iter().map(|s| s.to_string()).collect();
                    }
                    let instead = if gcp {
                        "grant it to a Google service account and give its email as `gcp_service_account`"
                    } else {
                        "grant it to an IAM role and give its ARN as `iam_role_arn`"
                    };
                    self.warnings.push(format!(
                        "links: `{module}` ({module_type}): Opta gave the pods' cloud identity {} on this {what}; a chart cannot grant cloud permissions, so this link adds nothing: {instead}",
                        granted.join(" and ")
                    ));
                }
                Some(Kind::Outputs(outputs)) => {
                    let renames = self.renames(&module, &module_type, outputs, &perms);
                    let mut env = Vec::new();
                    for output in outputs {
                        let (name, at) = match renames.get(*output) {
                            Some((n, p)) => (n.clone(), p.clone()),
                            None => (format!("{module}_{output}"), path.clone()),
                        };
                        if let Err(e) = rules::env_name(&name) {
                            self.fail(&at, format!("env var name `{}` {e}", printable(&name)));
                        } else if !env_seen.insert(name.clone()) {
                            self.fail_help(
                                &at,
                                format!("link `{module}` sets `{name}`, which is already an env var, a secret, an env_refs entry or another link's variable"),
                                "rename the link's variables: `- MODULE: [{OUTPUT: NEW_NAME, ...}]`",
                            );
                        }
                        env.push((name, output.to_string()));
                    }
                    out.push(Link {
                        module,
                        module_type,
                        env,
                    });
                }
            }
        }
        out
    }

    /// `link_types`: each a linked module and a type Opta links.
    fn link_types(&mut self, raw: &RawService) -> BTreeMap<String, String> {
        let linked: Vec<String> = raw
            .links
            .iter()
            .flatten()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Object(m) if m.len() == 1 => m.keys().next().map(|k| k.trim().to_string()),
                _ => None,
            })
            .collect();
        let mut out = BTreeMap::new();
        for (module, t) in raw.link_types.iter().flatten() {
            let path = self.path("link_types").key(module);
            let t = t.trim();
            if !linked.iter().any(|l| l == module) {
                self.fail(
                    &path,
                    format!("`{}` is not a module of `links`", printable(module)),
                );
            } else if kind(t).is_none() {
                self.fail_help(
                    &path,
                    format!("`{}` is not a module type Opta links", printable(t)),
                    format!("Opta links these module types: {LINKABLE}"),
                );
            } else {
                out.insert(module.clone(), t.to_string());
            }
        }
        out
    }

    /// An entry is a module name, or a map of one module name to a list of permissions (for a
    /// database or cache: at most one, a map renaming its variables; that map alone is also
    /// accepted without the list).
    fn link_entry<'v>(&mut self, path: &FieldPath, entry: &'v Value) -> Option<Entry<'v>> {
        let help =
            "write `- MODULE`, or `- MODULE: [PERMISSION, ...]`, one entry per linked module";
        match entry {
            Value::String(s) => Some((s.trim().to_string(), Vec::new())),
            Value::Object(m) if m.len() == 1 => {
                let (name, v) = m.iter().next()?;
                let at = path.key(name);
                let perms = match v {
                    Value::Null => Vec::new(),
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(j, item)| (at.index(j), item))
                        .collect(),
                    Value::Object(_) => vec![(at.clone(), v)],
                    _ => {
                        self.fail_help(
                            &at,
                            format!(
                                "the permissions of link `{}` must be a list, found {}",
                                printable(name),
                                shown(v)
                            ),
                            help,
                        );
                        return None;
                    }
                };
                Some((name.trim().to_string(), perms))
            }
            Value::Object(m) => {
                self.fail_help(
                    path,
                    format!("a link names one module, this entry names {}", m.len()),
                    help,
                );
                None
            }
            other => {
                self.fail_help(
                    path,
                    format!("a link is a module name, found {}", shown(other)),
                    help,
                );
                None
            }
        }
    }

    /// The rename map of a database or cache link, output -> (new name, its path): Opta allows
    /// one, naming every output, and no permission.
    fn renames(
        &mut self,
        module: &str,
        module_type: &str,
        outputs: &[&str],
        perms: &[(FieldPath, &Value)],
    ) -> BTreeMap<String, (String, FieldPath)> {
        let mut out = BTreeMap::new();
        let all = outputs.join(", ");
        for (k, (p, v)) in perms.iter().enumerate() {
            let Value::Object(map) = v else {
                self.fail_help(
                    p,
                    format!("{} is not a permission of link `{module}` (type {module_type}): a database or cache link only gives the module's variables", shown(v)),
                    format!("to rename them, give one map naming each of {all}, e.g. `- MODULE: [{{{}: NEW_NAME, ...}}]`", outputs[0]),
                );
                continue;
            };
            if k > 0 {
                self.fail(p, "a link has at most one map renaming its variables");
                continue;
            }
            for (key, new) in map {
                let at = p.key(key);
                if !outputs.contains(&key.as_str()) {
                    self.fail(
                        &at,
                        format!(
                            "`{}` is not a variable of link `{module}` (type {module_type}: {all})",
                            printable(key)
                        ),
                    );
                } else if let Some(n) = new.as_str() {
                    out.insert(key.clone(), (n.trim().to_string(), at));
                } else {
                    self.fail(
                        &at,
                        format!(
                            "the new name of `{key}` must be a string, found {}",
                            shown(new)
                        ),
                    );
                }
            }
            let missing: Vec<&str> = outputs
                .iter()
                .copied()
                .filter(|o| !map.contains_key(*o))
                .collect();
            if !missing.is_empty() {
                let help = if module_type == "redis" && missing == ["cache_auth_token"] {
                    "a local Opta environment's redis has only cache_host: declare the module's type as `local-redis`".to_string()
                } else {
                    format!("Opta renames all the variables or none: {all}")
                };
                self.fail_help(
                    p,
                    format!("the rename map of link `{module}` (type {module_type}) must name each of its variables; missing: {}", missing.join(", ")),
                    help,
                );
            }
        }
        out
    }

    fn unknown_type(&mut self, module: &str) {
        let why = if self.loaded.from_opta_file {
            format!("this file has no module `{module}`")
        } else {
            "a standalone spec does not say what it links".to_string()
        };
        self.warnings.push(format!(
            "links: `{module}`: {why}, so its type is unknown and the link adds no variables; declare it with `link_types: {{{module}: TYPE}}` (TYPE: postgres, mysql, redis, mongodb, ...), or read the values with `env_refs`"
        ));
    }
}

/// A JSON value as a message shows it: a string quoted, anything else by its kind.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{}`", printable(s)),
        Value::Null => "nothing".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a map".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{load, model, problems, problems_in};

    fn env(link: &Link) -> Vec<(&str, &str)> {
        link.env
            .iter()
            .map(|(n, k)| (n.as_str(), k.as_str()))
            .collect()
    }

    /// The warnings about links (a bare spec draws others, e.g. about min_containers).
    fn only_links(w: Vec<String>) -> Vec<String> {
        w.into_iter().filter(|w| w.starts_with("links: ")).collect()
    }

    /// An Opta file with these modules before the service, which has these `links`.
    fn opta(modules: &str, links: &str) -> String {
        format!(
            "name: shop\nmodules:\n{modules}  - type: k8s-service\n    name: web\n    image: r/web\n    tag: \"1\"\n    links:\n{links}"
        )
    }

    fn opta_model(modules: &str, links: &str) -> (Vec<Link>, Vec<String>) {
        match load(&opta(modules, links), &[]) {
            Ok((s, w)) => (s.links, only_links(w)),
            Err(e) => panic!("{}", e.render()),
        }
    }

    #[test]
    fn each_database_and_cache_type_gives_opta_s_variables_prefixed_by_the_module() {
        for (t, want) in [
            ("postgres", SQL),
            ("aws-mysql", SQL),
            ("gcp-postgres", SQL),
            ("azure-postgres", SQL),
            ("local-mongodb", SQL),
            ("redis", CACHE),
            ("azure-redis", CACHE),
            ("local-redis", &["cache_host"]),
            ("aws-documentdb", &["db_user", "db_host", "db_password"]),
            (
                "mongodb-atlas",
                &["db_password", "db_user", "mongodb_atlas_connection_string"],
            ),
        ] {
            let (links, warnings) = opta_model(
                &format!("  - type: {t}\n    name: main\n"),
                "      - main\n",
            );
            assert!(warnings.is_empty(), "{t}: {warnings:?}");
            assert_eq!(links.len(), 1, "{t}");
            assert_eq!(links[0].module_type, t);
            let got: Vec<(String, String)> = links[0].env.clone();
            let want: Vec<(String, String)> = want
                .iter()
                .map(|o| (format!("main_{o}"), o.to_string()))
                .collect();
            assert_eq!(got, want, "{t}");
        }
    }

    #[test]
    fn a_rename_map_names_the_variables_in_both_forms() {
        let rename =
            "{db_user: PGUSER, db_host: PGHOST, db_name: PGDATABASE, db_password: PGPASSWORD}";
        for links in [
            format!("      - db:\n        - {rename}\n"),
            format!("      - db: {rename}\n"),
        ] {
            let (l, _) = opta_model("  - type: postgres\n    name: db\n", &links);
            assert_eq!(
                env(&l[0]),
                [
                    ("PGUSER", "db_user"),
                    ("PGDATABASE", "db_name"),
                    ("PGPASSWORD", "db_password"),
                    ("PGHOST", "db_host")
                ]
            );
        }
    }

    #[test]
    fn the_module_may_come_after_the_service_and_link_types_declare_others() {
        let text = format!(
            "{}  - type: aws-redis\n    name: cache\n",
            opta("", "      - cache\n      - db\n")
        );
        let (s, w) = load(&text, &[]).unwrap();
        assert_eq!(
            env(&s.links[0])[1],
            ("cache_cache_auth_token", "cache_auth_token")
        );
        assert_eq!(s.links.len(), 1);
        assert!(
            w.iter().any(
                |w| w.starts_with("links: `db`: this file has no module `db`")
                    && w.contains("link_types: {db: TYPE}")
            ),
            "{w:?}"
        );
        let (s, w) = model("links: [db, cache]\nlink_types: {db: mysql}\n");
        let w = only_links(w);
        assert_eq!(s.links.len(), 1);
        assert_eq!(env(&s.links[0])[0], ("db_db_user", "db_user"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("links: `cache`: a standalone spec does not say what it links"),
            "{w:?}"
        );
    }

    #[test]
    fn cloud_resources_only_warn_and_their_permissions_are_checked() {
        let (l, w) = opta_model(
            "  - type: aws-s3\n    name: uploads\n  - type: aws-sqs\n    name: jobs\n  - type: gcp-gcs\n    name: media\n",
            "      - uploads: [read]\n      - jobs\n      - media\n",
        );
        assert!(l.is_empty());
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w[0].contains(
                "`uploads` (aws-s3): Opta gave the pods' cloud identity read on this bucket"
            ) && w[0].contains("iam_role_arn"),
            "{w:?}"
        );
        assert!(
            w[1].contains("publish and subscribe on this queue"),
            "{w:?}"
        );
        assert!(w[2].contains("gcp_service_account"), "{w:?}");
        let bad = problems_in(&opta(
            "  - type: aws-s3\n    name: uploads\n",
            "      - uploads: [admin]\n",
        ));
        assert_eq!(
            bad,
            [(
                "modules[1].links[0].uploads[0]".to_string(),
                "`admin` is not a permission of link `uploads` (type aws-s3: read, write)"
                    .to_string()
            )]
        );
    }

    #[test]
    fn wrong_links_are_named_with_their_field() {
        let got = problems_in(&opta(
            "  - type: postgres\n    name: db\n  - type: helm-chart\n    name: api\n  - type: redis\n    name: cache\n",
            "      - db: [read]\n      - api\n      - cache: [{cache_host: HOST}]\n      - {a: [], b: []}\n      - 7\n      - my_db\n",
        ));
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "modules[3].links[0].db[0]",
                "modules[3].links[1]",
                "modules[3].links[2].cache[0]",
                "modules[3].links[3]",
                "modules[3].links[4]",
                "modules[3].links[5]",
            ],
            "{got:?}"
        );
        assert!(
            got[0]
                .1
                .starts_with("`read` is not a permission of link `db` (type postgres)")
        );
        assert!(got[1].1.contains("`api`, a module of type `helm-chart`"));
        assert!(got[2].1.ends_with("missing: cache_auth_token"));
        assert_eq!(got[3].1, "a link names one module, this entry names 2");
        assert_eq!(got[4].1, "a link is a module name, found a number");
        assert_eq!(got[5].1, "`my_db` is not an Opta module name");
    }

    #[test]
    fn link_variables_collide_with_nothing_else() {
        assert_eq!(
            problems("env_vars: {db_db_host: x}\nlinks: [db, DB]\nlink_types: {db: postgres, DB: postgres, x: nope}\n"),
            [
                (
                    "link_types.x".to_string(),
                    "`x` is not a module of `links`".to_string()
                ),
                (
                    "links[0]".to_string(),
                    "link `db` sets `db_db_host`, which is already an env var, a secret, an env_refs entry or another link's variable".to_string()
                ),
                ("links[1]".to_string(), "module `DB` is linked twice".to_string()),
            ]
        );
        let got = problems(
            "links: [{db: {db_user: A, db_name: \"1x\", db_password: A, db_host: H, port: P}}]\nlink_types: {db: mysql}\n",
        );
        let msgs: Vec<&str> = got.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "`port` is not a variable of link `db` (type mysql: db_user, db_name, db_password, db_host)",
                "env var name `1x` must consist of letters, digits, '_', '-' or '.', and must not start with a digit",
                "link `db` sets `A`, which is already an env var, a secret, an env_refs entry or another link's variable",
            ],
            "{got:?}"
        );
    }
}
