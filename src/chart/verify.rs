//! The values.yaml round-trip proof without building a second tree: the generated text is
//! parsed by the same YAML reader as always, and each node it yields is compared at once with
//! the computed values. Only a complete, exact match (every key once, every item, every scalar
//! as `serde_json::Value` would have read it) proves the file; anything else, including a
//! duplicate key or a parse error, falls back to the full parse-then-compare, which gives the
//! verdict and the message. The fast path can therefore only accept what the full check
//! accepts, and it costs about half as much (no strings, maps or vectors are allocated).

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// True when `text` parses to exactly `expected`; false means "not proven here".
pub fn matches_exactly(text: &str, expected: &Value) -> bool {
    serde_saphyr::with_deserializer_from_str(text, |de| Expect(expected).deserialize(de))
        .unwrap_or(false)
}

struct Expect<'a>(&'a Value);

impl<'de> DeserializeSeed<'de> for Expect<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Expect<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
        Ok(self.0 == &Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<bool, E> {
        Ok(self.0 == &Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<bool, E> {
        Ok(self.0 == &Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<bool, E> {
        // As serde_json reads a float: a non-finite one becomes null.
        Ok(*self.0 == Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(self.0.as_str() == Some(v))
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(self.0.is_null())
    }

    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(self.0.is_null())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let Some(items) = self.0.as_array() else {
            return drain_seq(seq);
        };
        let mut i = 0;
        let mut ok = true;
        loop {
            let same = match items.get(i) {
                Some(item) => seq.next_element_seed(Expect(item))?,
                None => seq.next_element::<IgnoredAny>()?.map(|_| false),
            };
            match same {
                Some(same) => ok &= same,
                None => break,
            }
            i += 1;
        }
        Ok(ok && i == items.len())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let Some(object) = self.0.as_object() else {
            return drain_map(map);
        };
        let mut seen: Vec<&str> = Vec::with_capacity(object.len());
        let mut ok = true;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match object.get_key_value(key.as_ref()) {
                Some((k, v)) if !seen.contains(&k.as_str()) => {
                    seen.push(k.as_str());
                    ok &= map.next_value_seed(Expect(v))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    ok = false;
                }
            }
        }
        Ok(ok && seen.len() == object.len())
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<bool, A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(false)
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<bool, A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_only_the_exact_values() {
        let v = json!({"a": 1, "b": ["x", true, null, -2, 1.5], "c": {"d": "yes"}});
        let doc = "a: 1\nb: [x, true, ~, -2, 1.5]\nc:\n  d: \"yes\"\n";
        assert!(matches_exactly(doc, &v));
        for wrong in [
            "a: 1\nb: [x, true, ~, -2, 1.5]\nc:\n  d: yes\n",
            "a: 2\nb: [x, true, ~, -2, 1.5]\nc:\n  d: \"yes\"\n",
            "a: 1\nb: [x, true, ~, -2]\nc:\n  d: \"yes\"\n",
            "a: 1\nb: [x, true, ~, -2, 1.5, 6]\nc:\n  d: \"yes\"\n",
            "a: 1\nb: [x, true, ~, -2, 1.5]\n",
            "a: 1\na: 1\nb: [x, true, ~, -2, 1.5]\nc:\n  d: \"yes\"\n",
            "a: 1\nb: [x, true, ~, -2, 1.5]\nc:\n  d: \"yes\"\ne: 0\n",
            "a: \"1\"\nb: [x, true, ~, -2, 1.5]\nc:\n  d: \"yes\"\n",
            "a: [\n",
        ] {
            assert!(!matches_exactly(wrong, &v), "{wrong}");
        }
    }
}
