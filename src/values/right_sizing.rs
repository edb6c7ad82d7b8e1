//! `rightSizing`: the VerticalPodAutoscaler (`model::right_sizing`). Written out disabled when
//! the spec does not ask for it, so `--set rightSizing.enabled=true` can turn it on. The
//! resources it controls are not a value: the template derives them from `autoscaling`, so an
//! install-time change of the HPA's targets never leaves both controllers on one resource.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Service;
use crate::model::right_sizing::Mode;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RightSizingValues {
    pub enabled: bool,
    /// `Off` (recommend only) or `InPlaceOrRecreate` (Kubernetes 1.35+; older clusters get
    /// `Off`, and NOTES.txt says so).
    pub update_mode: &'static str,
    /// The VPA's `minAllowed` and `maxAllowed` for the service's container.
    pub min_allowed: BTreeMap<&'static str, String>,
    pub max_allowed: BTreeMap<&'static str, String>,
}

pub(super) fn right_sizing(s: &Service) -> RightSizingValues {
    let r = s.right_sizing.as_ref();
    RightSizingValues {
        enabled: r.is_some(),
        update_mode: match r.map(|r| r.mode) {
            Some(Mode::InPlace) => "InPlaceOrRecreate",
            _ => "Off",
        },
        min_allowed: r
            .map(|r| r.min.quantities().into_iter().collect())
            .unwrap_or_default(),
        max_allowed: r
            .map(|r| r.max.quantities().into_iter().collect())
            .unwrap_or_default(),
    }
}
