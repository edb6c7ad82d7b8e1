//! The `Builder` every concern's file extends with the methods that read its spec fields, and
//! the reporting helpers they share: each problem is recorded with its file, line and field, and
//! reading goes on, so one run reports every problem of a spec.

use crate::diag::{Diagnostic, FieldPath, printable};
use crate::spec::LoadedService;
use crate::spec::raw::{Lenient, LenientTarget};

pub(super) struct Builder<'a> {
    pub(super) loaded: &'a LoadedService,
    pub(super) errors: Vec<Diagnostic>,
    pub(super) warnings: Vec<String>,
}

impl Builder<'_> {
    pub(super) fn path(&self, field: &str) -> FieldPath {
        self.loaded.base.key(field)
    }

    pub(super) fn err(&self, path: &FieldPath, msg: impl Into<String>) -> Diagnostic {
        self.loaded.source.diag(path, msg)
    }

    pub(super) fn fail(&mut self, path: &FieldPath, msg: impl Into<String>) {
        let d = self.err(path, msg);
        self.errors.push(d);
    }

    pub(super) fn fail_help(
        &mut self,
        path: &FieldPath,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = self.err(path, msg).with_help(help);
        self.errors.push(d);
    }

    pub(super) fn check(&mut self, path: &FieldPath, result: Result<(), String>) -> bool {
        match result {
            Ok(()) => true,
            Err(e) => {
                self.fail(path, e);
                false
            }
        }
    }

    /// Read a lenient number or flag, with a default and an inclusive range.
    pub(super) fn num<T>(
        &mut self,
        path: &FieldPath,
        v: &Option<Lenient<T>>,
        default: T,
        range: (T, T),
    ) -> T
    where
        T: LenientTarget + Copy + PartialOrd + std::fmt::Display,
    {
        let value = match v {
            None => return default,
            Some(Lenient::Value(x)) => *x,
            Some(Lenient::Text(t)) => match T::parse(t) {
                Some(x) => x,
                None => {
                    self.fail(
                        path,
                        format!("expected {}, found `{}`", T::EXPECTING, printable(t)),
                    );
                    return default;
                }
            },
        };
        if value < range.0 || value > range.1 {
            self.fail(
                path,
                format!(
                    "must be between {} and {} (found {value})",
                    range.0, range.1
                ),
            );
            return default;
        }
        value
    }

    pub(super) fn flag(
        &mut self,
        path: &FieldPath,
        v: &Option<Lenient<bool>>,
        default: bool,
    ) -> bool {
        self.num(path, v, default, (false, true))
    }
}
