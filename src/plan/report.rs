//! A plan for people (text, one line per change, grouped by verdict, the worst first) and for
//! machines (a versioned JSON document).
//!
//! The JSON report is a stable interface (README, "plan --output json"): fields are only ever
//! added, never renamed or removed, and `version` changes if that promise is ever broken.

use serde::Serialize;

use super::finding::Verdict;
use super::manifest::ObjectRef;

/// Version of the JSON report's shape.
pub const REPORT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub release: String,
    pub namespace: String,
    /// What the plan compares from (`release shop` or a spec or chart path) and to.
    pub old: String,
    pub new: String,
    /// The worst verdict, or `none` when nothing changes.
    pub verdict: &'static str,
    /// The exit code of `plan`: 0, 2, 3 or 4.
    pub exit_code: i32,
    /// `upgrade` refuses this plan unless --accept-plan.
    pub blocks_upgrade: bool,
    /// Every change, the worst first.
    pub changes: Vec<Change>,
    /// How many objects stay as they are.
    pub unchanged: usize,
    /// Helm hooks, which helm runs anew and the plan does not compare.
    pub hooks: Vec<ObjectRef>,
    /// What concerns the whole release (the chart renamed), said before the changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One change of one object.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub verdict: Verdict,
    /// The rule of the table that classified it (README, "Upgrade plans").
    pub rule: &'static str,
    /// The object (the new one, or the old one when removed).
    pub object: ObjectRef,
    /// The object it replaces, when the kind changes; else null.
    pub previous: Option<ObjectRef>,
    /// The field the rule watches; null for a whole object.
    pub field: Option<String>,
    /// Every changed field it covers.
    pub fields: Vec<String>,
    pub summary: String,
    pub reason: String,
    /// Steps in order; empty when there is nothing to do.
    pub way_forward: Vec<String>,
}

impl Report {
    pub fn new(
        release: &str,
        namespace: &str,
        (old, new): (String, String),
        mut changes: Vec<Change>,
        unchanged: usize,
        hooks: Vec<ObjectRef>,
    ) -> Self {
        changes.sort_by_key(|c| c.verdict);
        let worst = changes.first().map(|c| c.verdict);
        Report {
            version: REPORT_VERSION,
            release: release.into(),
            namespace: namespace.into(),
            old,
            new,
            verdict: worst.map_or("none", Verdict::name),
            exit_code: worst.map_or(0, Verdict::exit_code),
            blocks_upgrade: worst.is_some_and(Verdict::blocks_upgrade),
            changes,
            unchanged,
            hooks,
            notes: Vec::new(),
        }
    }

    /// The text report: a heading, each group of changes (the worst first), and the verdict.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Plan for release {} in namespace {}: {} → {}\n",
            self.release, self.namespace, self.old, self.new
        );
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        if self.changes.is_empty() {
            out.push_str(&format!(
                "No changes: {} object{} stay as they are.\n",
                self.unchanged,
                if self.unchanged == 1 { "" } else { "s" }
            ));
        }
        for verdict in Verdict::ALL {
            let group: Vec<&Change> = self
                .changes
                .iter()
                .filter(|c| c.verdict == verdict)
                .collect();
            if group.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{} ({}):\n", verdict.name(), verdict.meaning()));
            for c in group {
                out.push_str(&format!("  {}\n", line(c)));
                if verdict.blocks_upgrade() {
                    out.push_str(&format!("      why: {}\n", c.reason));
                    for (i, step) in c.way_forward.iter().enumerate() {
                        out.push_str(&format!("      {}. {step}\n", i + 1));
                    }
                }
            }
        }
        if !self.changes.is_empty() {
            out.push_str(&format!(
                "\n{} object{} unchanged.",
                self.unchanged,
                if self.unchanged == 1 { "" } else { "s" }
            ));
        }
        if !self.hooks.is_empty() {
            let hooks: Vec<String> = self
                .hooks
                .iter()
                .map(|h| format!("{}/{}", h.kind, h.name))
                .collect();
            out.push_str(&format!(
                "{}Helm hooks (created anew by helm, not compared): {}.",
                if self.changes.is_empty() { "" } else { " " },
                hooks.join(", ")
            ));
        }
        if !self.changes.is_empty() || !self.hooks.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "Verdict: {} (exit {})",
            self.verdict, self.exit_code
        ));
        out.push_str(match self.exit_code {
            4 | 3 => ": `upgrade` refuses this plan; follow the steps above, or run it with --accept-plan.\n",
            2 => ": pods restart; `upgrade` goes ahead.\n",
            _ => ".\n",
        });
        out
    }
}

/// `Kind/name field: summary` (a kind switch: `Deployment/x → StatefulSet/x`).
fn line(c: &Change) -> String {
    let object = format!("{}/{}", c.object.kind, c.object.name);
    let head = match (&c.previous, &c.field) {
        (Some(p), _) => format!("{}/{} → {object}", p.kind, p.name),
        (None, Some(f)) => format!("{object} {f}"),
        (None, None) => object,
    };
    match (c.summary.as_str(), c.verdict) {
        ("", Verdict::Added | Verdict::Removed) => head,
        ("", _) => format!("{head}: {}", c.reason),
        (s, _) => format!("{head}: {s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(verdict: Verdict, kind: &str, summary: &str) -> Change {
        Change {
            verdict,
            rule: "r",
            object: ObjectRef {
                api_version: "v1".into(),
                kind: kind.into(),
                namespace: "prod".into(),
                name: "x".into(),
            },
            previous: None,
            field: Some("spec.f".into()),
            fields: vec!["spec.f".into()],
            summary: summary.into(),
            reason: "because".into(),
            way_forward: vec!["do this".into()],
        }
    }

    fn report(changes: Vec<Change>) -> Report {
        Report::new(
            "shop",
            "prod",
            ("a.yaml".into(), "b.yaml".into()),
            changes,
            3,
            Vec::new(),
        )
    }

    #[test]
    fn the_worst_change_comes_first_and_decides() {
        let r = report(vec![
            change(Verdict::InPlace, "Service", "1 → 2"),
            change(Verdict::Impossible, "StatefulSet", "a → b"),
            change(Verdict::Restart, "Deployment", "container app: image"),
        ]);
        assert_eq!(
            (r.verdict, r.exit_code, r.blocks_upgrade),
            ("impossible", 4, true)
        );
        let text = r.text();
        let order: Vec<usize> = ["\nimpossible (", "\nrestart (", "\nin-place ("]
            .iter()
            .map(|h| text.find(h).unwrap())
            .collect();
        assert!(order.is_sorted(), "{text}");
        assert!(
            text.contains("  StatefulSet/x spec.f: a → b\n      why: because\n      1. do this\n"),
            "{text}"
        );
        // Only the blocking changes spell out their steps.
        assert!(
            text.contains("  Deployment/x spec.f: container app: image\n\nin-place"),
            "{text}"
        );
        assert!(text.ends_with("3 objects unchanged.\nVerdict: impossible (exit 4): `upgrade` refuses this plan; follow the steps above, or run it with --accept-plan.\n"), "{text}");
    }

    #[test]
    fn nothing_to_do() {
        let r = report(Vec::new());
        assert_eq!(
            (r.verdict, r.exit_code, r.blocks_upgrade),
            ("none", 0, false)
        );
        assert_eq!(
            r.text(),
            "Plan for release shop in namespace prod: a.yaml → b.yaml\nNo changes: 3 objects stay as they are.\nVerdict: none (exit 0).\n"
        );
    }
}
