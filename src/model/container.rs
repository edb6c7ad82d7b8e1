//! The service's own container: its image (from `image`, `tag` and `digest`, or the `--tag` and
//! `--digest` flags, which win), its `commands` and `args`, and its CPU, memory and
//! ephemeral-storage requests and limits (read the same way for init containers and sidecars).

use super::builder::Builder;
use super::rules;
use super::units;
use crate::diag::{Diagnostic, FieldPath, printable};
use crate::spec::raw::{RawResources, RawService};

/// Values given on the command line that win over the spec.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// `None` for Opta's `AUTO`: the repository is given at install time.
    pub repository: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    pub cpu_millis: u64,
    pub memory: (u64, &'static str),
    /// Local ephemeral storage: the container's logs and writable layer, and (summed over the
    /// pod's containers) its emptyDirs.
    pub ephemeral_storage: (u64, &'static str),
}

impl Resources {
    pub fn cpu(&self) -> String {
        format!("{}m", self.cpu_millis)
    }
    pub fn memory(&self) -> String {
        format!("{}{}", self.memory.0, self.memory.1)
    }
    pub fn ephemeral_storage(&self) -> String {
        format!("{}{}", self.ephemeral_storage.0, self.ephemeral_storage.1)
    }
}

/// The requests when the spec gives none: Opta's CPU and memory, and enough ephemeral storage
/// for the container logs the kubelet keeps (5 files of 10Mi by default).
pub const DEFAULT_REQUESTS: Resources = Resources {
    cpu_millis: 100,
    memory: (128, "Mi"),
    ephemeral_storage: (64, "Mi"),
};
/// The ephemeral-storage limit when the spec gives none (at least the request, and grown to
/// hold `/tmp`, the writable paths and the logs: see scratch.rs).
pub const DEFAULT_EPHEMERAL_LIMIT: (u64, &str) = (1, "Gi");

/// Where a value came from: a spec field or a command-line flag.
#[derive(Clone, Copy)]
enum Origin {
    Field(&'static str),
    Flag(&'static str),
}

impl Builder<'_> {
    pub(super) fn image(&mut self, raw: &RawService, ov: &Overrides) -> Image {
        let path = self.path("image");
        let Some(image) = raw.image.as_deref() else {
            self.fail_help(
                &path,
                "missing field `image`",
                "set `image: REPOSITORY` (e.g. `ghcr.io/acme/api`), or `image: AUTO` to give it at install time",
            );
            return Image {
                repository: None,
                tag: None,
                digest: None,
            };
        };
        let image = image.trim();
        // Where each part came from, so a bad one is blamed on the field or flag that gave it.
        let (mut repository, mut tag, mut digest) = (None, None, None);
        if image.eq_ignore_ascii_case("AUTO") {
            // Opta filled it in from the environment's registry at deploy time; nothing will
            // here, and the chart refuses to install until it is given.
            self.warnings.push(
                "`image: AUTO` leaves the image repository to install time: install and upgrade with `--set image.repository=REGISTRY/IMAGE` (and `image.tag` or `image.digest` unless the spec or --tag gives one); the chart refuses to install without it".to_string(),
            );
        } else {
            let (rest, d) = match image.split_once('@') {
                Some((r, d)) => (r, Some((d.to_string(), Origin::Field("image")))),
                None => (image, None),
            };
            let (repo, t) = match rest.rfind(':') {
                Some(i) if !rest[i..].contains('/') => (
                    &rest[..i],
                    Some((rest[i + 1..].to_string(), Origin::Field("image"))),
                ),
                _ => (rest, None),
            };
            if let Err(e) = rules::image_repository(repo) {
                self.fail(
                    &path,
                    format!("`{}` is not a valid image: {e}", printable(image)),
                );
            }
            repository = Some(repo.to_string());
            tag = t;
            digest = d;
        }
        for (field, inline, given) in [
            ("tag", &mut tag, &raw.tag),
            ("digest", &mut digest, &raw.digest),
        ] {
            if let Some(g) = given {
                if inline.is_some() {
                    self.fail(
                        &self.path(field),
                        format!("the image already carries a {field}; give it in one place only"),
                    );
                }
                *inline = Some((g.trim().to_string(), Origin::Field(field)));
            }
        }
        if let Some(t) = &ov.tag {
            tag = Some((t.clone(), Origin::Flag("--tag")));
        }
        if let Some(d) = &ov.digest {
            digest = Some((d.clone(), Origin::Flag("--digest")));
        }
        for (what, part, check) in [
            (
                "tag",
                &tag,
                rules::image_tag as fn(&str) -> Result<(), String>,
            ),
            ("digest", &digest, rules::image_digest),
        ] {
            if let Some((value, origin)) = part
                && let Err(e) = check(value)
            {
                let msg = format!("`{}` is not a valid image {what}: it {e}", printable(value));
                match origin {
                    Origin::Field(f) => self.fail(&self.path(f), msg),
                    Origin::Flag(flag) => self.errors.push(Diagnostic::new(
                        &self.loaded.source.display,
                        format!("{flag}: {msg}"),
                    )),
                }
            }
        }
        if repository.is_some() && tag.is_none() && digest.is_none() {
            self.warnings.push("the image has no tag or digest, so every pod pulls whatever `latest` is at that moment; set `tag` or `digest`".into());
        }
        Image {
            repository,
            tag: tag.map(|t| t.0),
            digest: digest.map(|d| d.0),
        }
    }

    /// `commands` and `args` of the service's container.
    pub(super) fn command(&mut self, raw: &RawService) -> (Vec<String>, Vec<String>) {
        let command = raw.commands.clone().unwrap_or_default();
        if command.first().is_some_and(|c| c.trim().is_empty()) {
            self.fail(
                &self.path("commands").index(0),
                "the command must start with a program",
            );
        }
        let args = raw.args.clone().unwrap_or_default();
        (command, args)
    }

    pub(super) fn resources(&mut self, raw: &RawService) -> (Resources, Resources) {
        // Opta: a resource_request gives both CPU and memory.
        self.read_resources(
            (
                &self.path("resource_request"),
                &self.path("resource_limits"),
            ),
            (raw.resource_request.as_ref(), raw.resource_limits.as_ref()),
            (&DEFAULT_REQUESTS, DEFAULT_EPHEMERAL_LIMIT),
            true,
        )
    }

    /// A `resource_request` and `resource_limits` pair. Each request given replaces `base`'s; a
    /// CPU or memory limit not given is twice its request; an ephemeral-storage limit not given
    /// is `base_ephemeral_limit`, or the request if that is more. No limit may be below its
    /// request. `cpu_and_memory`: a request must give both.
    pub(super) fn read_resources(
        &mut self,
        (req_path, lim_path): (&FieldPath, &FieldPath),
        (request, limits): (Option<&RawResources>, Option<&RawResources>),
        (base, base_ephemeral_limit): (&Resources, (u64, &'static str)),
        cpu_and_memory: bool,
    ) -> (Resources, Resources) {
        let mut req = base.clone();
        if let Some(r) = request {
            self.read_resource_list(req_path, r, &mut req, (false, cpu_and_memory));
        }
        let ephemeral_limit =
            if units::bytes(req.ephemeral_storage) > units::bytes(base_ephemeral_limit) {
                req.ephemeral_storage
            } else {
                base_ephemeral_limit
            };
        let mut lim = Resources {
            cpu_millis: req.cpu_millis.saturating_mul(2),
            memory: (req.memory.0.saturating_mul(2), req.memory.1),
            ephemeral_storage: ephemeral_limit,
        };
        if let Some(l) = limits {
            self.read_resource_list(lim_path, l, &mut lim, (true, false));
        }
        let below = |what: &str, l: String, r: String| {
            format!("the {what} limit ({l}) is below the request ({r})")
        };
        if lim.cpu_millis < req.cpu_millis {
            self.fail(&lim_path.key("cpu"), below("CPU", lim.cpu(), req.cpu()));
        }
        if units::bytes(lim.memory) < units::bytes(req.memory) {
            let msg = below("memory", lim.memory(), req.memory());
            self.fail(&lim_path.key("memory"), msg);
        }
        if units::bytes(lim.ephemeral_storage) < units::bytes(req.ephemeral_storage) {
            let msg = below(
                "ephemeral-storage",
                lim.ephemeral_storage(),
                req.ephemeral_storage(),
            );
            self.fail(&lim_path.key("ephemeral_storage"), msg);
        }
        (req, lim)
    }

    /// The quantities given in one block, each replacing its value in `into`. An ephemeral-storage
    /// request may be small; a limit, like CPU and memory, may not. `required`: CPU and memory
    /// must be given.
    fn read_resource_list(
        &mut self,
        path: &FieldPath,
        given: &RawResources,
        into: &mut Resources,
        (limit, required): (bool, bool),
    ) {
        match &given.cpu {
            Some(q) => match units::cpu_millis(q) {
                Ok(v) => into.cpu_millis = v,
                Err(e) => self.fail(&path.key("cpu"), e),
            },
            None if required => self.fail(path, "missing field `cpu` (millicores, e.g. 100)"),
            None => {}
        }
        match &given.memory {
            Some(q) => match units::memory(q) {
                Ok(v) => into.memory = v,
                Err(e) => self.fail(&path.key("memory"), e),
            },
            None if required => self.fail(path, "missing field `memory` (megabytes, e.g. 128)"),
            None => {}
        }
        if let Some(q) = &given.ephemeral_storage {
            match units::size(q, "ephemeral_storage", limit) {
                Ok(v) => into.ephemeral_storage = v,
                Err(e) => self.fail(&path.key("ephemeral_storage"), e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn the_image_splits_into_repository_tag_and_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let (s, w) = crate::model::testing::load(
            &format!("name: s\nimage: localhost:5000/acme/api:1.2@{digest}\n"),
            &[],
        )
        .unwrap();
        assert_eq!(w, [crate::model::scaling::single_pod_floor(3)]);
        assert_eq!(
            s.image,
            Image {
                repository: Some("localhost:5000/acme/api".into()),
                tag: Some("1.2".into()),
                digest: Some(digest),
            }
        );
        let (s, _) = crate::model::testing::load("name: s\nimage: auto\n", &[]).unwrap();
        assert_eq!(s.image.repository, None);
    }

    #[test]
    fn a_tag_in_the_image_and_in_tag_is_refused() {
        let got = crate::model::testing::load("name: s\nimage: r/i:1\ntag: \"2\"\n", &[])
            .unwrap_err()
            .render();
        assert!(
            got.contains("the image already carries a tag; give it in one place only"),
            "{got}"
        );
    }

    #[test]
    fn a_bad_flag_is_blamed_on_the_flag() {
        let src = crate::spec::source::SpecSource::from_str("t.yaml", crate::model::testing::BASE)
            .unwrap();
        let (loaded, _) = crate::spec::load(src, &Default::default()).unwrap();
        let ov = Overrides {
            tag: Some("bad tag".into()),
            digest: None,
        };
        let Err(crate::diag::Error::Spec(d)) = crate::model::build(&loaded[0], &ov) else {
            panic!("a bad --tag must be refused")
        };
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].field, None);
        assert!(
            d[0].message
                .starts_with("--tag: `bad tag` is not a valid image tag: it "),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn an_empty_program_is_refused() {
        assert_eq!(
            problems("commands: [\" \", x]\n"),
            [(
                "commands[0]".to_string(),
                "the command must start with a program".to_string()
            )]
        );
        let (s, _) = model("commands: [/bin/app]\nargs: [--port, \"1\"]\n");
        assert_eq!((s.command.len(), s.args.len()), (1, 2));
    }

    #[test]
    fn limits_default_to_twice_the_requests_and_may_not_be_below_them() {
        let (s, _) = model("resource_request: {cpu: 250, memory: 256}\n");
        assert_eq!(
            (s.requests.cpu(), s.requests.memory()),
            ("250m".into(), "256Mi".into())
        );
        assert_eq!(
            (s.limits.cpu(), s.limits.memory()),
            ("500m".into(), "512Mi".into())
        );
        assert_eq!(
            problems("resource_request: {cpu: 250, memory: 256}\nresource_limits: {cpu: 100}\n"),
            [(
                "resource_limits.cpu".to_string(),
                "the CPU limit (100m) is below the request (250m)".to_string()
            )]
        );
        assert_eq!(
            problems("resource_request: {cpu: 100}\n"),
            [(
                "resource_request".to_string(),
                "missing field `memory` (megabytes, e.g. 128)".to_string()
            )]
        );
    }
}
