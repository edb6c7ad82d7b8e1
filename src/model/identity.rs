//! Who the pods are to their cloud and their registry: workload identity for EKS, GKE and AKS
//! (an annotation on the chart's ServiceAccount, plus a pod label for AKS), and image pull
//! Secrets. The pods keep `automountServiceAccountToken: false`: the identity webhooks inject
//! their own projected token (EKS, AKS) and GKE's metadata server needs none.
//!
//! Opta's fields that only its cloud provisioning can honour (`additional_iam_policies`,
//! `additional_iam_roles`) are ignored here, with a warning saying what to do instead (`links`
//! have their own concern, links.rs).

use std::collections::BTreeMap;

use super::builder::Builder;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;

/// ServiceAccount annotations of each cloud's workload identity.
pub const AWS_ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
pub const GCP_SA_ANNOTATION: &str = "iam.gke.io/gcp-service-account";
pub const AZURE_CLIENT_ANNOTATION: &str = "azure.workload.identity/client-id";
/// The pod label that makes the Azure Workload Identity webhook mutate a pod.
pub const AZURE_USE_LABEL: &str = "azure.workload.identity/use";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    pub aws_role_arn: Option<String>,
    pub gcp_service_account: Option<String>,
    pub azure_client_id: Option<String>,
    /// Names of existing Secrets of type kubernetes.io/dockerconfigjson.
    pub image_pull_secrets: Vec<String>,
}

impl Identity {
    /// Annotations of the chart's ServiceAccount.
    pub fn service_account_annotations(&self) -> BTreeMap<String, String> {
        [
            (AWS_ROLE_ANNOTATION, &self.aws_role_arn),
            (GCP_SA_ANNOTATION, &self.gcp_service_account),
            (AZURE_CLIENT_ANNOTATION, &self.azure_client_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect()
    }

    /// Labels every pod template needs (service and cron jobs).
    pub fn pod_labels(&self) -> BTreeMap<String, String> {
        self.azure_client_id
            .iter()
            .map(|_| (AZURE_USE_LABEL.to_string(), "true".to_string()))
            .collect()
    }
}

/// `arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>`: a role, not a user or policy.
pub fn iam_role_arn(s: &str) -> Result<(), String> {
    let bad = || "is not the ARN of an IAM role, e.g. `arn:aws:iam::123456789012:role/payments`";
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad().into());
    };
    let partition_ok = partition.starts_with("aws")
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-');
    if !partition_ok {
        return Err(bad().into());
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{}: the account must be 12 digits", bad()));
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Err(format!("{}: the resource must be `role/NAME`", bad()));
    };
    // IAM: the path is `/` or `/segments/` (at most 512 characters), the name 1-64 of [\w+=,.@-].
    let (path, name) = match path_and_name.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, path_and_name),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    let path_ok = path.is_none_or(|p| {
        p.len() <= 510
            && p.split('/')
                .all(|seg| !seg.is_empty() && seg.bytes().all(|b| (0x21..=0x7e).contains(&b)))
    });
    if !name_ok || !path_ok {
        return Err(format!(
            "{}: a role name is 1 to 64 letters, digits or + = , . @ _ -",
            bad()
        ));
    }
    Ok(())
}

/// A Google service account email: `NAME@PROJECT.iam.gserviceaccount.com` (NAME 6-30 characters),
/// or one of Google's default accounts (`N-compute@developer...`, `PROJECT@appspot...`).
pub fn gcp_service_account(s: &str) -> Result<(), String> {
    let bad = || {
        "is not a Google service account email, e.g. `payments@my-project.iam.gserviceaccount.com`"
            .to_string()
    };
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let id = |t: &str, min: usize, max: usize| {
        (min..=max).contains(&t.len())
            && t.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && t.bytes().last().is_some_and(|b| b != b'-')
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let ok = if let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") {
        // A domain-scoped project `example.com:proj` has accounts under `proj.example.com`.
        let (proj, org) = project.split_once('.').unwrap_or((project, ""));
        id(local, 6, 30) && id(proj, 6, 30) && (org.is_empty() || rules::dns_subdomain(org).is_ok())
    } else if domain == "developer.gserviceaccount.com" {
        local
            .strip_suffix("-compute")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    } else if domain == "appspot.gserviceaccount.com" {
        id(local, 6, 30)
    } else {
        false
    };
    if ok { Ok(()) } else { Err(bad()) }
}

/// A Microsoft Entra application (client) ID: a GUID, 8-4-4-4-12 hexadecimal digits.
pub fn guid(s: &str) -> Result<(), String> {
    let groups: Vec<&str> = s.split('-').collect();
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err("is not a client ID (a GUID such as `00000000-0000-0000-0000-000000000000`)".into())
    }
}

impl Builder<'_> {
    pub(super) fn identity(
        &mut self,
        raw: &RawService,
        pod_labels: &BTreeMap<String, String>,
    ) -> Identity {
        type Check = fn(&str) -> Result<(), String>;
        let fields: [(&str, &Option<String>, Check); 3] = [
            ("iam_role_arn", &raw.iam_role_arn, iam_role_arn),
            (
                "gcp_service_account",
                &raw.gcp_service_account,
                gcp_service_account,
            ),
            ("azure_client_id", &raw.azure_client_id, guid),
        ];
        let [aws_role_arn, gcp_service_account, azure_client_id] =
            fields.map(|(field, value, check)| {
                let v = value.as_deref().map(str::trim)?;
                if let Err(e) = check(v) {
                    self.fail(&self.path(field), format!("`{}` {e}", printable(v)));
                }
                Some(v.to_string())
            });
        if azure_client_id.is_some()
            && let Some(v) = pod_labels.get(AZURE_USE_LABEL)
            && v != "true"
        {
            self.fail_help(
                &self.path("pod_labels").key(AZURE_USE_LABEL),
                format!("`{AZURE_USE_LABEL}: {}` contradicts azure_client_id", printable(v)),
                "azure_client_id sets this label to \"true\" on every pod; remove it from pod_labels",
            );
        }
        let mut image_pull_secrets: Vec<String> = Vec::new();
        for (i, name) in raw.image_pull_secrets.iter().flatten().enumerate() {
            let path = self.path("image_pull_secrets").index(i);
            let name = name.trim();
            if let Err(e) = rules::dns_subdomain(name) {
                self.fail(
                    &path,
                    format!("`{}` is not a Secret name: {e}", printable(name)),
                );
            } else if image_pull_secrets.iter().any(|n| n == name) {
                self.fail(&path, format!("`{name}` is listed twice"));
            } else {
                image_pull_secrets.push(name.to_string());
            }
        }
        Identity {
            aws_role_arn,
            gcp_service_account,
            azure_client_id,
            image_pull_secrets,
        }
    }

    /// Warns about each field of `crate::spec::raw::CLOUD_ONLY_FIELDS` the spec gives.
    pub(super) fn cloud_only(&mut self, raw: &RawService) {
        let given = [
            raw.additional_iam_policies.is_some(),
            raw.additional_iam_roles.is_some(),
        ];
        for ((field, instead), present) in crate::spec::raw::CLOUD_ONLY_FIELDS.iter().zip(given) {
            if present {
                self.warnings.push(format!("`{field}` needs Opta's cloud provisioning and is ignored by the chart: {instead}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_are_roles_of_a_12_digit_account() {
        for ok in [
            "arn:aws:iam::123456789012:role/payments",
            "arn:aws-cn:iam::123456789012:role/team/app/payments",
            "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f_g-h",
        ] {
            assert_eq!(iam_role_arn(ok), Ok(()), "{ok}");
        }
        for bad in [
            "payments",
            "arn:aws:iam::123456789012:user/payments",
            "arn:aws:iam::12345:role/payments",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
            "arn:aws:iam::123456789012:role//x",
            "arn:gcp:iam::123456789012:role/x",
        ] {
            assert!(iam_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn google_service_accounts_are_emails_of_their_domains() {
        for ok in [
            "payments@my-project.iam.gserviceaccount.com",
            "payments@my-project.example.com.iam.gserviceaccount.com",
            "123456789-compute@developer.gserviceaccount.com",
            "my-project@appspot.gserviceaccount.com",
        ] {
            assert_eq!(gcp_service_account(ok), Ok(()), "{ok}");
        }
        for bad in [
            "payments",
            "pay@my-project.iam.gserviceaccount.com",
            "payments@gmail.com",
            "Payments@my-project.iam.gserviceaccount.com",
            "payments@x.iam.gserviceaccount.com",
            "x-compute@developer.gserviceaccount.com",
        ] {
            assert!(gcp_service_account(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids_are_guids() {
        assert_eq!(guid("6b8e2a4c-1f3d-4e5a-9b7c-0d1e2f3a4b5c"), Ok(()));
        assert_eq!(guid("6B8E2A4C-1F3D-4E5A-9B7C-0D1E2F3A4B5C"), Ok(()));
        for bad in [
            "",
            "6b8e2a4c1f3d4e5a9b7c0d1e2f3a4b5c",
            "{6b8e2a4c-1f3d-4e5a-9b7c-0d1e2f3a4b5c}",
            "6b8e2a4c-1f3d-4e5a-9b7c-0d1e2f3a4b5g",
        ] {
            assert!(guid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn workload_identity_annotates_the_service_account() {
        let (s, _) = crate::model::testing::model(
            "iam_role_arn: \" arn:aws:iam::123456789012:role/payments \"\nazure_client_id: 6b8e2a4c-1f3d-4e5a-9b7c-0d1e2f3a4b5c\nimage_pull_secrets: [regcred]\n",
        );
        let id = &s.identity;
        assert_eq!(
            id.service_account_annotations().keys().collect::<Vec<_>>(),
            [AZURE_CLIENT_ANNOTATION, AWS_ROLE_ANNOTATION]
        );
        assert_eq!(
            id.aws_role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/payments")
        );
        assert_eq!(
            id.pod_labels().get(AZURE_USE_LABEL).map(String::as_str),
            Some("true")
        );
        assert_eq!(id.image_pull_secrets, ["regcred"]);
        assert_eq!(
            crate::model::testing::problems(
                "azure_client_id: 6b8e2a4c-1f3d-4e5a-9b7c-0d1e2f3a4b5c\npod_labels: {azure.workload.identity/use: \"false\"}\nimage_pull_secrets: [a, a]\n"
            ),
            [
                (
                    "pod_labels[\"azure.workload.identity/use\"]".to_string(),
                    "`azure.workload.identity/use: false` contradicts azure_client_id".to_string()
                ),
                (
                    "image_pull_secrets[1]".to_string(),
                    "`a` is listed twice".to_string()
                ),
            ]
        );
    }

    #[test]
    fn cloud_only_fields_are_ignored_with_a_warning() {
        let (_, warnings) = crate::model::testing::model(
            "min_containers: 2\nadditional_iam_policies: [p]\nadditional_iam_roles: [r]\n",
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with(
                "`additional_iam_policies` needs Opta's cloud provisioning and is ignored by the chart: "
            ),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with("`additional_iam_roles` needs Opta's cloud provisioning"),
            "{warnings:?}"
        );
    }
}
