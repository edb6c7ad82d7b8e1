//! Preflight: before anything is installed or changed, the objects the pods need but the chart
//! does not make (Secrets, ConfigMaps, pull Secrets, TLS Secrets; PriorityClass and StorageClass
//! when asked) are looked up, and a missing one fails the render with the command that makes it
//! (`svc.check.preflight*` in `_checks.tpl`). Only when helm can read the cluster; off under
//! `helm template` and Argo CD, where lookup finds nothing.

use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightValues {
    /// Check the namespaced objects (needs get on Secrets and ConfigMaps in the namespace).
    pub enabled: bool,
    /// Also the PriorityClass and the StorageClasses (needs get on them, cluster-wide).
    pub cluster_scoped: bool,
}

pub(super) fn preflight() -> PreflightValues {
    PreflightValues {
        enabled: true,
        cluster_scoped: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_checks_on_cluster_scoped_off() {
        assert_eq!(
            serde_json::to_value(preflight()).unwrap(),
            serde_json::json!({"enabled": true, "clusterScoped": false})
        );
    }
}
