//! Where the container may write: the `/tmp` scratch volume, the extra writable directories and
//! the persistent volumes.

use serde::Serialize;

use crate::model::Service;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TmpDir {
    pub enabled: bool,
    pub mount_path: String,
    pub size_limit: String,
}

/// An extra writable directory: an emptyDir (its volume name derived from the path by the
/// chart) mounted in every container.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WritablePathValues {
    pub mount_path: String,
    pub size_limit: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Persistence {
    pub storage_class_name: String,
    pub access_mode: String,
    /// The StatefulSet's `persistentVolumeClaimRetentionPolicy`.
    pub claim_retention_policy: ClaimRetention,
    pub volumes: Vec<VolumeValues>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRetention {
    pub when_deleted: String,
    pub when_scaled: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeValues {
    pub name: String,
    pub mount_path: String,
    pub size: String,
    pub storage_class_name: String,
}

/// `/tmp`: a writable emptyDir in every container, since the root filesystem is read-only by
/// default.
pub(super) fn tmp_dir(s: &Service) -> TmpDir {
    let (n, unit) = s.scratch.tmp_size;
    TmpDir {
        enabled: true,
        mount_path: "/tmp".into(),
        size_limit: format!("{n}{unit}"),
    }
}

pub(super) fn writable_paths(s: &Service) -> Vec<WritablePathValues> {
    s.scratch
        .writable
        .iter()
        .map(|w| WritablePathValues {
            mount_path: w.path.clone(),
            size_limit: format!("{}{}", w.size.0, w.size.1),
        })
        .collect()
}

pub(super) fn persistence(s: &Service) -> Persistence {
    Persistence {
        storage_class_name: String::new(),
        access_mode: "ReadWriteOnce".into(),
        claim_retention_policy: ClaimRetention {
            when_deleted: s.claim_retention.when_deleted.clone(),
            when_scaled: s.claim_retention.when_scaled.clone(),
        },
        volumes: s
            .volumes
            .iter()
            .map(|v| VolumeValues {
                name: v.name.clone(),
                mount_path: v.path.clone(),
                size: format!("{}Gi", v.size_gb),
                storage_class_name: v.storage_class.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn volumes_are_sized_in_gibibytes() {
        let (s, _) =
            model("persistent_storage:\n  - {path: /data, size: 5, storage_class: fast}\n");
        assert_eq!(
            serde_json::to_value(persistence(&s)).unwrap(),
            json!({
                "storageClassName": "",
                "accessMode": "ReadWriteOnce",
                "claimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                "volumes": [{"name": "data-0", "mountPath": "/data", "size": "5Gi", "storageClassName": "fast"}],
            })
        );
        assert_eq!(
            serde_json::to_value(tmp_dir(&s)).unwrap(),
            json!({"enabled": true, "mountPath": "/tmp", "sizeLimit": "256Mi"})
        );
    }

    #[test]
    fn writable_paths_are_mount_paths_with_size_limits() {
        let (s, _) = model(
            "tmp_size: 1Gi\nwritable_paths: [/var/run, {path: /var/cache/nginx, size: 300}]\n",
        );
        assert_eq!(tmp_dir(&s).size_limit, "1Gi");
        assert_eq!(
            serde_json::to_value(writable_paths(&s)).unwrap(),
            json!([
                {"mountPath": "/var/run", "sizeLimit": "128Mi"},
                {"mountPath": "/var/cache/nginx", "sizeLimit": "300Mi"},
            ])
        );
    }
}
