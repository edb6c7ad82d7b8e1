//! Whether resolving a service's placeholders can change or report anything at all, decided
//! without building its JSON tree. `resolve` rewrites only strings holding `{` or `<` (every
//! placeholder form starts with `{`, `${{` or `<<`; credential placeholders are such strings
//! too), refuses strings and keys that cannot reach a pod, and reads the tree back, which fails on
//! a non-finite float (serde_json writes it as null). A spec with none of these, the common case,
//! comes out of that round trip exactly as it went in, so it is skipped (about a third of a
//! million instructions a chart). This visits the service with a serializer that only looks at
//! its scalars, and gives up at the first one that needs the full resolve.

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::unpassable::unpassable;

/// True when resolving `value` cannot change it nor report anything: no string or key holds
/// `{` or `<` or a character that cannot reach a pod, and every float is finite. False is
/// always safe (the full resolve then runs).
pub fn untouched<T: Serialize + ?Sized>(value: &T) -> bool {
    value.serialize(Scan).is_ok()
}

/// A string the full resolve might rewrite or refuse.
fn plain(s: &str) -> bool {
    !s.bytes().any(|b| b == b'{' || b == b'<') && unpassable(s).is_none()
}

/// "This one needs the full resolve": the scan stops there.
#[derive(Debug)]
pub struct NeedsResolve;

impl std::fmt::Display for NeedsResolve {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("needs the full resolve")
    }
}

impl std::error::Error for NeedsResolve {}

impl ser::Error for NeedsResolve {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        NeedsResolve
    }
}

/// The serializer: every method either accepts a scalar or walks into a collection.
struct Scan;

type R = Result<(), NeedsResolve>;

fn check(ok: bool) -> R {
    if ok { Ok(()) } else { Err(NeedsResolve) }
}

impl ser::Serializer for Scan {
    type Ok = ();
    type Error = NeedsResolve;
    type SerializeSeq = Scan;
    type SerializeTuple = Scan;
    type SerializeTupleStruct = Scan;
    type SerializeTupleVariant = Scan;
    type SerializeMap = Scan;
    type SerializeStruct = Scan;
    type SerializeStructVariant = Scan;

    fn serialize_bool(self, _: bool) -> R {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> R {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> R {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> R {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> R {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> R {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> R {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> R {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> R {
        Ok(())
    }
    // Outside i64/u64 serde_json fails or reads back differently: leave it to the full resolve.
    fn serialize_i128(self, _: i128) -> R {
        Err(NeedsResolve)
    }
    fn serialize_u128(self, _: u128) -> R {
        Err(NeedsResolve)
    }
    // serde_json writes NaN and the infinities as null, which does not read back as a float.
    fn serialize_f32(self, v: f32) -> R {
        check(v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> R {
        check(v.is_finite())
    }
    fn serialize_char(self, v: char) -> R {
        check(plain(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> R {
        check(plain(v))
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Ok(())
    }
    fn serialize_none(self) -> R {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(Scan)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(Scan)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> R {
        v.serialize(Scan)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Scan, NeedsResolve> {
        Ok(Scan)
    }
    fn serialize_tuple(self, _: usize) -> Result<Scan, NeedsResolve> {
        Ok(Scan)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Scan, NeedsResolve> {
        Ok(Scan)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Scan, NeedsResolve> {
        Ok(Scan)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Scan, NeedsResolve> {
        Ok(Scan)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Scan, NeedsResolve> {
        Ok(Scan)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Scan, NeedsResolve> {
        Ok(Scan)
    }
}

/// The collections whose elements (or fields) are all scanned as values: each element trait
/// with its method.
macro_rules! scan_each {
    ($($collection:ident::$method:ident($($name:ty)?)),* $(,)?) => {$(
        impl ser::$collection for Scan {
            type Ok = ();
            type Error = NeedsResolve;
            fn $method<T: Serialize + ?Sized>(&mut self, $(_: $name,)? v: &T) -> R {
                v.serialize(Scan)
            }
            fn end(self) -> R {
                Ok(())
            }
        }
    )*};
}

scan_each!(
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    // Field names are the program's identifiers, not the user's text.
    SerializeStruct::serialize_field(&'static str),
    SerializeStructVariant::serialize_field(&'static str),
);

impl ser::SerializeMap for Scan {
    type Ok = ();
    type Error = NeedsResolve;
    // A key is checked like a string value: stricter than the full resolve (which rewrites no
    // key), so a `{` in a key only costs the slow path.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> R {
        k.serialize(KeyScan)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(Scan)
    }
    fn end(self) -> R {
        Ok(())
    }
}

/// A map key: serde_json accepts only strings (and numbers, chars, bools, which it turns into
/// strings); anything else fails its `to_value`, so it is left to the full resolve too.
struct KeyScan;

impl ser::Serializer for KeyScan {
    type Ok = ();
    type Error = NeedsResolve;
    type SerializeSeq = Impossible<(), NeedsResolve>;
    type SerializeTuple = Impossible<(), NeedsResolve>;
    type SerializeTupleStruct = Impossible<(), NeedsResolve>;
    type SerializeTupleVariant = Impossible<(), NeedsResolve>;
    type SerializeMap = Impossible<(), NeedsResolve>;
    type SerializeStruct = Impossible<(), NeedsResolve>;
    type SerializeStructVariant = Impossible<(), NeedsResolve>;

    fn serialize_str(self, v: &str) -> R {
        check(plain(v))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(KeyScan)
    }
    fn serialize_bool(self, _: bool) -> R {
        Err(NeedsResolve)
    }
    fn serialize_i8(self, _: i8) -> R {
        Err(NeedsResolve)
    }
    fn serialize_i16(self, _: i16) -> R {
        Err(NeedsResolve)
    }
    fn serialize_i32(self, _: i32) -> R {
        Err(NeedsResolve)
    }
    fn serialize_i64(self, _: i64) -> R {
        Err(NeedsResolve)
    }
    fn serialize_u8(self, _: u8) -> R {
        Err(NeedsResolve)
    }
    fn serialize_u16(self, _: u16) -> R {
        Err(NeedsResolve)
    }
    fn serialize_u32(self, _: u32) -> R {
        Err(NeedsResolve)
    }
    fn serialize_u64(self, _: u64) -> R {
        Err(NeedsResolve)
    }
    fn serialize_f32(self, _: f32) -> R {
        Err(NeedsResolve)
    }
    fn serialize_f64(self, _: f64) -> R {
        Err(NeedsResolve)
    }
    fn serialize_char(self, _: char) -> R {
        Err(NeedsResolve)
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Err(NeedsResolve)
    }
    fn serialize_none(self) -> R {
        Err(NeedsResolve)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> R {
        Err(NeedsResolve)
    }
    fn serialize_unit(self) -> R {
        Err(NeedsResolve)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Err(NeedsResolve)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Err(NeedsResolve)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R {
        Err(NeedsResolve)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NeedsResolve> {
        Err(NeedsResolve)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NeedsResolve> {
        Err(NeedsResolve)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NeedsResolve> {
        Err(NeedsResolve)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NeedsResolve> {
        Err(NeedsResolve)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NeedsResolve> {
        Err(NeedsResolve)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NeedsResolve> {
        Err(NeedsResolve)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NeedsResolve> {
        Err(NeedsResolve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FieldPath;
    use crate::spec::interpolate::Vars;
    use crate::spec::lenient;
    use crate::spec::raw::RawService;
    use crate::spec::resolve::resolve_with;
    use crate::spec::source::SpecSource;

    /// `text` resolved with the fast path allowed and with the full resolve, each as text (the
    /// service, errors, masked fields, warnings), and whether the fast path applies; None when
    /// the text is not a standalone service.
    fn both_ways(text: &str, vars: &Vars) -> Option<(String, String, bool)> {
        let source = SpecSource::from_str("spec.yaml", text).ok()?;
        let run = |fast| {
            let (mut raw, _) = lenient::parse_as::<RawService>(&source).ok()?;
            let skips = untouched(&raw);
            let got = resolve_with(&source, &FieldPath::root(), &mut raw, vars, None, fast)
                .map(|r| format!("{:?} {:?} {:?}", r.errors, r.masked, r.warnings));
            Some((format!("{got:?} {raw:?}"), skips))
        };
        let (fast, skips) = run(true)?;
        let (full, _) = run(false)?;
        Some((fast, full, skips))
    }

    fn vars() -> [Vars; 2] {
        let some = [("x", "1"), ("domain", "example.com"), ("env", "prod")];
        [
            Vars::default(),
            Vars(
                some.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        ]
    }

    #[test]
    fn the_fast_path_decides_like_the_full_resolve_on_every_spec() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("examples"), root.join("tests")];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(path);
                }
            }
        }
        let (mut compared, mut fast) = (0, 0);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for vars in vars() {
                if let Some((a, b, skips)) = both_ways(&text, &vars) {
                    assert_eq!(a, b, "{}", path.display());
                    compared += 1;
                    fast += usize::from(skips);
                }
            }
        }
        // Most of the corpus reads as a service, and most of that has no placeholder.
        assert!(
            compared > 600 && fast > 400,
            "{compared} compared, {fast} fast"
        );
    }

    #[test]
    fn the_fast_path_applies_only_where_nothing_can_change() {
        let head = "name: svc\nimage: ghcr.io/acme/api\nport: {http: 8080}\n";
        for (body, skips) in [
            ("", true),
            ("env_vars: {A: plain, B: '{not a placeholder'}\n", false),
            ("env_vars: {A: 'api.{vars.domain}'}\n", false),
            ("env_vars: {'{vars.x}': a}\n", false),
            ("pod_annotations: {'{vars.x}': a, b: c}\n", false),
            ("pod_annotations: {'<<x::string::y>>': a}\n", false),
            ("min_containers: '{vars.x}'\n", false),
            (
                "links: [[['{env}']], {a: [x, '${{module.db.host}}']}]\n",
                false,
            ),
            ("links: [[[plain]], {a: [x, y]}]\n", true),
            ("affinity: {a: [{b: ['<<domain::string::d>>']}]}\n", false),
            (
                "env_vars: {DB_PASSWORD: '${{module.pg.db_password}}'}\n",
                false,
            ),
            (
                "env_vars: {URL: 'postgres://u:${{module.pg.db_password}}@db'}\n",
                false,
            ),
            ("healthcheck_command: [sh, '-c', \"echo \\0\"]\n", false),
            ("env_vars: {A: \"a\\x85--- b\"}\n", false),
            ("pod_labels: {\"a\\x7f\": b}\n", false),
            ("env_vars: {A: \"a\\u0085b\"}\n", true),
            ("autoscaling_behavior: {scale_up_tolerance: 0.05}\n", true),
        ] {
            for vars in vars() {
                let text = format!("{head}{body}");
                let (a, b, fast) = both_ways(&text, &vars).expect(body);
                assert_eq!(a, b, "{body}");
                assert_eq!(fast, skips, "{body}");
            }
        }
    }

    /// A float that is not finite does not survive the JSON round trip (serde_json writes null:
    /// an optional number is then absent). YAML's `.nan` does not read as a spec's number, but
    /// whatever the round trip does to one stays the full resolve's doing.
    #[test]
    fn non_finite_floats_take_the_full_resolve() {
        use crate::spec::raw::RawAutoscalingBehavior;
        use crate::spec::raw_scaling::RawNumber;
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut raw = RawService {
                autoscaling_behavior: Some(RawAutoscalingBehavior {
                    scale_up_tolerance: Some(RawNumber::Float(bad)),
                    ..Default::default()
                }),
                ..Default::default()
            };
            assert!(!untouched(&raw));
            let source = SpecSource::from_str("spec.yaml", "name: svc\n").unwrap();
            let full = resolve_with(
                &source,
                &FieldPath::root(),
                &mut raw,
                &Vars::default(),
                None,
                false,
            );
            let tolerance = raw.autoscaling_behavior.and_then(|b| b.scale_up_tolerance);
            assert!(full.is_ok() && tolerance.is_none(), "{bad}");
        }
        assert!(untouched(&[0.5f64]) && !untouched(&[f32::NAN]));
    }
}
