//! Who the pods are: the ServiceAccount (with the workload identity annotations) and the pod
//! labels, to which workload identity may add its own.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Service;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    pub create: bool,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
}

pub(super) fn service_account(s: &Service) -> ServiceAccount {
    ServiceAccount {
        create: true,
        name: String::new(),
        annotations: s.identity.service_account_annotations(),
    }
}

/// The spec's pod labels and those workload identity needs.
pub(super) fn pod_labels(s: &Service) -> BTreeMap<String, String> {
    let mut labels = s.pod_labels.clone();
    labels.extend(s.identity.pod_labels());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;

    #[test]
    fn azure_identity_annotates_the_account_and_labels_the_pods() {
        let (s, _) =
            model("azure_client_id: 6b8e2a4c-1f3d-4e5a-9b7c-0d1e2f3a4b5c\npod_labels: {team: a}\n");
        let sa = service_account(&s);
        assert!(sa.create && sa.name.is_empty());
        assert_eq!(
            sa.annotations
                .get("azure.workload.identity/client-id")
                .map(String::as_str),
            Some("6b8e2a4c-1f3d-4e5a-9b7c-0d1e2f3a4b5c")
        );
        let labels: Vec<_> = pod_labels(&s).into_iter().collect();
        assert_eq!(
            labels,
            [
                (
                    "azure.workload.identity/use".to_string(),
                    "true".to_string()
                ),
                ("team".to_string(), "a".to_string()),
            ]
        );
    }
}
