//! Containers beside the service's own, beyond Opta: init containers (run to completion before
//! it starts) and native sidecars (run beside it). Each has a unique name, its own image or the
//! service's, a command, resources (the service's unless given) and, for sidecars, ports that no
//! other container of the pod uses.

use super::builder::Builder;
use super::container::Resources;
use super::rules;
use super::taken::Taken;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::{RawResources, RawService};

#[derive(Clone, Debug, PartialEq)]
pub struct ExtraContainer {
    pub name: String,
    /// A full reference (`repo[:tag][@digest]`); `None` runs the service's image.
    pub image: Option<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// `None`: the service's requests and limits.
    pub resources: Option<(Resources, Resources)>,
    /// Sidecars only: (name, container port).
    pub ports: Vec<(String, u32)>,
}

/// The name of the service's own container.
pub const MAIN_CONTAINER: &str = "app";

/// Split `repo[:tag][@digest]`.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..]), digest),
        _ => (rest, None, digest),
    }
}

impl Builder<'_> {
    pub(super) fn extra_containers(
        &mut self,
        raw: &RawService,
        taken: &Taken,
    ) -> (Vec<ExtraContainer>, Vec<ExtraContainer>) {
        let mut names: Vec<String> = vec![MAIN_CONTAINER.to_string()];
        // Every container of a pod shares its network: ports must differ across all of them.
        let mut port_names: Vec<String> = taken.ports.iter().map(|p| p.name.clone()).collect();
        let mut port_numbers: Vec<u32> = taken.ports.iter().map(|p| p.container_port).collect();
        let mut sidecars = Vec::new();
        for (i, s) in raw.sidecars.iter().flatten().enumerate() {
            let path = self.path("sidecars").index(i);
            let mut c = self.extra_container(
                &path,
                (&s.name, &s.image, &s.commands, &s.args),
                (s.resource_request.as_ref(), s.resource_limits.as_ref()),
                &mut names,
                (taken.requests, taken.limits),
            );
            for (j, p) in s.ports.iter().flatten().enumerate() {
                let ppath = path.key("ports").index(j);
                let name = p.name.clone().unwrap_or_default();
                if p.name.is_none() {
                    self.fail(&ppath, "missing field `name` (the port's name)");
                } else if let Err(e) = rules::port_name(&name) {
                    self.fail(
                        &ppath.key("name"),
                        format!("port name `{}` {e}", printable(&name)),
                    );
                } else if port_names.contains(&name) {
                    self.fail(
                        &ppath.key("name"),
                        format!("another container of the pod already has a port named `{name}`"),
                    );
                }
                if p.port.is_none() {
                    self.fail(&ppath, "missing field `port` (the container port number)");
                }
                let number = self.num(&ppath.key("port"), &p.port, 1, (1, 65535));
                if p.port.is_some() && port_numbers.contains(&number) {
                    self.fail(
                        &ppath.key("port"),
                        format!("port {number} is already used by another container of the pod (they share one network)"),
                    );
                }
                port_names.push(name.clone());
                port_numbers.push(number);
                c.ports.push((name, number));
            }
            sidecars.push(c);
        }
        let mut init = Vec::new();
        for (i, s) in raw.init_containers.iter().flatten().enumerate() {
            let path = self.path("init_containers").index(i);
            init.push(self.extra_container(
                &path,
                (&s.name, &s.image, &s.commands, &s.args),
                (s.resource_request.as_ref(), s.resource_limits.as_ref()),
                &mut names,
                (taken.requests, taken.limits),
            ));
        }
        (init, sidecars)
    }

    #[allow(clippy::type_complexity)]
    fn extra_container(
        &mut self,
        path: &FieldPath,
        (name, image, commands, args): (
            &Option<String>,
            &Option<String>,
            &Option<Vec<String>>,
            &Option<Vec<String>>,
        ),
        (request, limits): (Option<&RawResources>, Option<&RawResources>),
        names: &mut Vec<String>,
        service: (&Resources, &Resources),
    ) -> ExtraContainer {
        let name = name.clone().unwrap_or_default();
        if name.is_empty() {
            self.fail_help(
                path,
                "missing field `name`",
                "e.g. `name: migrate`: a DNS label, unique among the pod's containers",
            );
        } else if let Err(e) = rules::dns_label(&name, 63) {
            self.fail(
                &path.key("name"),
                format!("container name `{}` {e}", printable(&name)),
            );
        } else if names.contains(&name) {
            let why = if name == MAIN_CONTAINER {
                "is the service's own container".to_string()
            } else {
                "is used by another init container or sidecar".to_string()
            };
            self.fail(&path.key("name"), format!("the name `{name}` {why}"));
        }
        names.push(name.clone());
        let image = image
            .as_deref()
            .map(|i| self.extra_image(&path.key("image"), i));
        let command = commands.clone().unwrap_or_default();
        if command.first().is_some_and(|c| c.trim().is_empty()) {
            self.fail(
                &path.key("commands").index(0),
                "the command must start with a program",
            );
        } else if command.is_empty() && image.is_none() {
            self.fail_help(
                path,
                "without `image` this container runs the service's image, so it needs `commands`",
                "give `commands` (e.g. [\"/app/migrate\"]), or an `image` of its own",
            );
        }
        // Requests default to the service's, each on its own; limits as the service's do.
        let resources = (request.is_some() || limits.is_some()).then(|| {
            self.read_resources(
                (&path.key("resource_request"), &path.key("resource_limits")),
                (request, limits),
                (service.0, service.1.ephemeral_storage),
                false,
            )
        });
        ExtraContainer {
            name,
            image: image.flatten(),
            command,
            args: args.clone().unwrap_or_default(),
            resources,
            ports: Vec::new(),
        }
    }

    /// A full image reference of its own; `None` if it is invalid (reported).
    fn extra_image(&mut self, path: &FieldPath, image: &str) -> Option<String> {
        let image = image.trim();
        if image.eq_ignore_ascii_case("AUTO") {
            self.fail_help(
                path,
                "`AUTO` is only for the service's image",
                "leave `image` out to run the service's image",
            );
            return None;
        }
        let (repo, tag, digest) = split_image(image);
        let problem = rules::image_repository(repo)
            .err()
            .or_else(|| {
                tag.and_then(|t| rules::image_tag(t).err().map(|e| format!("tag `{t}` {e}")))
            })
            .or_else(|| {
                digest.and_then(|d| rules::image_digest(d).err().map(|e| format!("digest {e}")))
            });
        if let Some(e) = problem {
            self.fail(
                path,
                format!("`{}` is not a valid image: {e}", printable(image)),
            );
            return None;
        }
        if tag.is_none() && digest.is_none() {
            self.warnings.push(format!(
                "the image `{image}` has no tag or digest, so it runs whatever `latest` is at that moment"
            ));
        }
        Some(image.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn images_split_into_parts() {
        assert_eq!(split_image("a/b"), ("a/b", None, None));
        assert_eq!(
            split_image("localhost:5000/a:1.2@sha256:x"),
            ("localhost:5000/a", Some("1.2"), Some("sha256:x"))
        );
        assert_eq!(
            split_image("localhost:5000/a"),
            ("localhost:5000/a", None, None)
        );
    }

    #[test]
    fn extra_containers_keep_their_order_and_defaults() {
        let (s, _) = model(
            "resource_request: {cpu: 300, memory: 256}\ninit_containers:\n  - {name: migrate, commands: [/app/migrate]}\nsidecars:\n  - {name: proxy, image: \"envoy:1\", resource_limits: {cpu: 1000}}\n",
        );
        let c = &s.config;
        assert_eq!(c.init_containers[0].name, "migrate");
        assert_eq!(c.init_containers[0].image, None);
        let (req, lim) = c.sidecars[0].resources.clone().unwrap();
        assert_eq!((req.cpu(), req.memory()), ("300m".into(), "256Mi".into()));
        assert_eq!((lim.cpu(), lim.memory()), ("1000m".into(), "512Mi".into()));
    }

    #[test]
    fn names_and_ports_are_unique_across_the_pod() {
        assert_eq!(
            problems(
                "port: {http: 8080}\nsidecars:\n  - {name: app, image: \"e:1\", ports: [{name: main, port: 8080}]}\ninit_containers:\n  - {name: i, image: AUTO}\n"
            ),
            [
                (
                    "sidecars[0].name".to_string(),
                    "the name `app` is the service's own container".to_string()
                ),
                (
                    "sidecars[0].ports[0].name".to_string(),
                    "another container of the pod already has a port named `main`".to_string()
                ),
                (
                    "sidecars[0].ports[0].port".to_string(),
                    "port 8080 is already used by another container of the pod (they share one network)".to_string()
                ),
                (
                    "init_containers[0].image".to_string(),
                    "`AUTO` is only for the service's image".to_string()
                ),
            ]
        );
        assert_eq!(
            problems("init_containers:\n  - {name: i}\n"),
            [(
                "init_containers[0]".to_string(),
                "without `image` this container runs the service's image, so it needs `commands`"
                    .to_string()
            )]
        );
    }
}
