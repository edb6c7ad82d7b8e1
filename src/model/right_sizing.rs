//! `right_sizing`: an opt-in VerticalPodAutoscaler for the service's container, recommending
//! only (`recommend`, updateMode `Off`) or applying its requests, in place where the cluster
//! can (`in_place`, `InPlaceOrRecreate`). It never controls a resource the HPA or KEDA scales
//! on: two controllers on one signal fight (the VPA raises the CPU request, the utilisation the
//! HPA reads drops, the HPA scales in, and round again).

use super::builder::Builder;
use super::units;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;
use crate::spec::raw_scaling::{RawBounds, RawRightSizing};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// `Off`: recommendations in the VPA's status, pods untouched.
    Recommend,
    /// `InPlaceOrRecreate`, with the container's `resizePolicy` (Kubernetes 1.35+).
    InPlace,
}

/// `minAllowed`/`maxAllowed`: CPU in millicores, memory as (count, unit).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bounds {
    pub cpu_millis: Option<u64>,
    pub memory: Option<(u64, &'static str)>,
}

impl Bounds {
    /// In Kubernetes units (`250m`, `512Mi`), as the VPA's `minAllowed`/`maxAllowed` take them.
    pub fn quantities(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(m) = self.cpu_millis {
            out.push(("cpu", format!("{m}m")));
        }
        if let Some((n, unit)) = self.memory {
            out.push(("memory", format!("{n}{unit}")));
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RightSizing {
    pub mode: Mode,
    /// The resources the VPA controls: cpu and memory, less those the autoscaler scales on.
    pub controlled: Vec<&'static str>,
    pub min: Bounds,
    pub max: Bounds,
}

/// The resources an autoscaler scales on by utilisation, given the HPA's targets (or KEDA's
/// cpu/memory triggers, which are the explicit targets only).
pub fn autoscaled(
    keda: Option<&super::keda::Keda>,
    (min, max): (u32, u32),
    (cpu_target, memory_target): (Option<u32>, Option<u32>),
) -> Vec<&'static str> {
    let (cpu, memory) = match keda {
        Some(k) => (k.cpu_target, k.memory_target),
        None if min < max => (cpu_target, memory_target),
        None => (None, None),
    };
    [("cpu", cpu), ("memory", memory)]
        .into_iter()
        .filter_map(|(r, t)| t.map(|_| r))
        .collect()
}

impl Builder<'_> {
    /// `right_sizing`, given the resources the autoscaler already scales on.
    pub(super) fn right_sizing(
        &mut self,
        raw: &RawService,
        autoscaled: &[&'static str],
    ) -> Option<RightSizing> {
        let given = raw.right_sizing.as_ref()?;
        let path = self.path("right_sizing");
        let (mode, min, max, mode_path) = match given {
            RawRightSizing::Mode(m) => (Some(m.as_str()), None, None, path.clone()),
            RawRightSizing::Form(f) => (f.mode.as_deref(), f.min.as_ref(), f.max.as_ref(), {
                path.key("mode")
            }),
        };
        let mode = match mode.map(str::trim) {
            Some("recommend") => Some(Mode::Recommend),
            Some("in_place") => Some(Mode::InPlace),
            Some(m) => {
                self.fail_help(
                    &mode_path,
                    format!("unknown mode `{}`", printable(m)),
                    "expected recommend (the VPA only recommends) or in_place (it applies them)",
                );
                None
            }
            None => {
                self.fail_help(
                    &path,
                    "missing: `mode`",
                    "e.g. `right_sizing: {mode: recommend, max: {memory: 2048}}`",
                );
                None
            }
        };
        let min = self.bounds(&path.key("min"), min);
        let max = self.bounds(&path.key("max"), max);
        self.bounds_ordered(&path, &min, &max);
        let controlled: Vec<&'static str> = ["cpu", "memory"]
            .into_iter()
            .filter(|r| !autoscaled.contains(r))
            .collect();
        if controlled.is_empty() {
            self.fail_help(
                &path,
                "the autoscaler scales on both CPU (autoscaling_target_cpu_percentage) and memory (autoscaling_target_mem_percentage), so no resource is left for the VPA",
                "let the autoscaler scale on CPU and the VPA size memory: autoscaling_target_mem_percentage: 0",
            );
        }
        for (bounds, key) in [(&min, "min"), (&max, "max")] {
            for (what, _) in bounds.iter().flat_map(Bounds::quantities) {
                if !controlled.contains(&what) && !controlled.is_empty() {
                    self.warnings.push(format!(
                        "right_sizing.{key}.{what} is ignored: the autoscaler scales on {what}, so the VPA does not size it"
                    ));
                }
            }
        }
        Some(RightSizing {
            mode: mode?,
            controlled,
            min: min?,
            max: max?,
        })
        .filter(|r| !r.controlled.is_empty())
    }

    fn bounds(&mut self, path: &FieldPath, given: Option<&RawBounds>) -> Option<Bounds> {
        let Some(b) = given else {
            return Some(Bounds::default());
        };
        let mut ok = true;
        let cpu_millis = b.cpu.as_ref().and_then(|q| match units::cpu_millis(q) {
            Ok(m) => Some(m),
            Err(e) => {
                self.fail(&path.key("cpu"), e);
                ok = false;
                None
            }
        });
        let memory = b.memory.as_ref().and_then(|q| match units::memory(q) {
            Ok(m) => Some(m),
            Err(e) => {
                self.fail(&path.key("memory"), e);
                ok = false;
                None
            }
        });
        ok.then_some(Bounds { cpu_millis, memory })
    }

    /// A floor above its ceiling would leave the VPA no value to recommend.
    fn bounds_ordered(&mut self, path: &FieldPath, min: &Option<Bounds>, max: &Option<Bounds>) {
        let (Some(min), Some(max)) = (min, max) else {
            return;
        };
        let cpu = (min.cpu_millis, max.cpu_millis);
        let memory = (min.memory.map(units::bytes), max.memory.map(units::bytes));
        let (lo, hi) = (min.quantities(), max.quantities());
        for (what, pair) in [("cpu", cpu), ("memory", memory)] {
            if let (Some(l), Some(h)) = pair
                && l > h
            {
                let text = |q: &[(&str, String)]| {
                    q.iter()
                        .find(|(k, _)| *k == what)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                self.fail(
                    &path.key("min").key(what),
                    format!(
                        "min.{what} ({}) is above max.{what} ({})",
                        text(&lo),
                        text(&hi)
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Mode;
    use crate::model::testing::{model, problems};

    #[test]
    fn both_forms_and_the_autoscalers_resources() {
        // Opta's defaults autoscale on CPU and memory: nothing is left, refused.
        let got = problems("right_sizing: recommend\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "right_sizing");
        assert!(
            got[0].1.contains("autoscaling_target_mem_percentage"),
            "{got:?}"
        );
        let (s, _) = model("autoscaling_target_mem_percentage: 0\nright_sizing: in_place\n");
        let r = s.right_sizing.unwrap();
        assert_eq!((r.mode, r.controlled), (Mode::InPlace, vec!["memory"]));
        let (s, _) = model(
            "min_containers: 2\nmax_containers: 2\nright_sizing: {mode: recommend, min: {cpu: 50}, max: {cpu: 2000, memory: 1024}}\n",
        );
        let r = s.right_sizing.unwrap();
        assert_eq!((r.mode, r.controlled.len()), (Mode::Recommend, 2));
        assert_eq!(r.min.quantities(), [("cpu", "50m".to_string())]);
        assert_eq!(
            r.max.quantities(),
            [
                ("cpu", "2000m".to_string()),
                ("memory", "1024Mi".to_string())
            ]
        );
        assert!(model("").0.right_sizing.is_none());
        let (_, w) = model(
            "min_containers: 2\nautoscaling_target_mem_percentage: 0\nright_sizing: {mode: recommend, max: {cpu: 500}}\n",
        );
        assert_eq!(
            w,
            [
                "right_sizing.max.cpu is ignored: the autoscaler scales on cpu, so the VPA does not size it"
            ]
        );
    }
}
