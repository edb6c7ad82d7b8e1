//! The scalar shapes the spec's fields share: numbers and booleans that may still be text before
//! interpolation (`Lenient`), Kubernetes-style quantities in Opta's units (`Quantity`) and the
//! resource blocks built from them. A leaf module: `raw` (Opta's fields) and `raw_config` (ours)
//! both use it, and it uses neither.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResources {
    pub cpu: Option<Quantity>,
    pub memory: Option<Quantity>,
    /// Local ephemeral storage: logs, writable layers and emptyDirs (ours).
    pub ephemeral_storage: Option<Quantity>,
}

/// A number or boolean that may still be text: `"80"`, or `"{vars.port}"` before interpolation.
#[derive(Clone, Debug, PartialEq)]
pub enum Lenient<T> {
    Value(T),
    Text(String),
}

impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Lenient::Value(v) => v.serialize(s),
            Lenient::Text(t) => s.serialize_str(t),
        }
    }
}

/// What a `Lenient` can hold natively.
pub trait LenientTarget: Sized {
    const EXPECTING: &'static str;
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok().and_then(Self::from_u64)
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    /// Parse the text form once interpolation has run.
    fn parse(text: &str) -> Option<Self>;
}

impl LenientTarget for u32 {
    const EXPECTING: &'static str = "a whole number";
    fn from_u64(v: u64) -> Option<Self> {
        u32::try_from(v).ok()
    }
    fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    }
}

impl LenientTarget for bool {
    const EXPECTING: &'static str = "true or false";
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }
}

/// Stands for the scalar exactly as written; `SpecSource::yaml_error` substitutes it, because the
/// visitor only sees the parsed value (`8080.0` arrives as 8080).
pub const AS_WRITTEN: &str = "{as written}";

impl<'de, T: LenientTarget> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<T: LenientTarget> V<T> {
            fn bad<E: de::Error>(what: impl fmt::Display) -> E {
                E::custom(format!("expected {}, found {what}", T::EXPECTING))
            }
        }
        impl<'de, T: LenientTarget> Visitor<'de> for V<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::from_u64(v)
                    .map(Lenient::Value)
                    .ok_or_else(|| Self::bad(AS_WRITTEN))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::from_i64(v)
                    .map(Lenient::Value)
                    .ok_or_else(|| Self::bad(AS_WRITTEN))
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
                Err(Self::bad(AS_WRITTEN))
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
                Err(Self::bad(AS_WRITTEN))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Err(Self::bad(AS_WRITTEN))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::from_bool(v)
                    .map(Lenient::Value)
                    .ok_or_else(|| Self::bad(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient::Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Err(Self::bad("an empty value"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(Self::bad("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(Self::bad("a mapping"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A Kubernetes-style quantity in Opta's units: a bare number (millicores for CPU, MB for memory)
/// or a string with a unit (`"500m"`, `"1Gi"`), kept as text until the model reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantity {
    Number(u64),
    Text(String),
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Quantity::Number(n) => s.serialize_u64(*n),
            Quantity::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a quantity such as \"500m\" or \"1Gi\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                u64::try_from(v)
                    .map(Quantity::Number)
                    .map_err(|_| E::custom(format!("expected a positive quantity, found {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                // `0.5` CPU is a real quantity; keep its text for the model to read.
                Ok(Quantity::Text(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}
