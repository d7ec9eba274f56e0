//! Attribute values: [`Value`] and the always-sorted [`Set`].
//!
//! The evaluator binary-searches sets, so "sorted and without duplicates" is a type
//! invariant here rather than a promise: a [`Set`]'s elements are private and every way
//! to build or change one — [`Set::new`], `collect()`, `From`, [`Set::insert`],
//! `Deserialize` — keeps them sorted and unique.

use std::fmt;

/// A set of strings, such as an identity's `groups`: sorted, without duplicates.
///
/// ```
/// use tenure::Set;
///
/// let mut groups: Set = ["contractors", "alpha", "alpha"].into_iter().collect();
/// assert_eq!(groups.iter().collect::<Vec<_>>(), ["alpha", "contractors"]);
/// assert!(groups.contains("contractors"));
/// assert!(groups.insert("beta"));
/// assert!(!groups.insert("beta"));
/// assert_eq!(groups.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Set {
    // INVARIANT: strictly ascending (sorted, no duplicates).
    items: Vec<String>,
}

impl Set {
    /// A set of `items`, sorted, duplicates dropped.
    pub fn new<I, S>(items: I) -> Set
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut items: Vec<String> = items.into_iter().map(Into::into).collect();
        items.sort_unstable();
        items.dedup();
        Set { items }
    }

    /// Whether `item` is an element.
    pub fn contains(&self, item: &str) -> bool {
        self.position(item).is_ok()
    }

    /// Adds `item`; false when it was already there.
    pub fn insert(&mut self, item: impl Into<String>) -> bool {
        let item = item.into();
        match self.position(&item) {
            Ok(_) => false,
            Err(at) => {
                self.items.insert(at, item);
                true
            }
        }
    }

    /// Removes `item`; false when it was not there.
    pub fn remove(&mut self, item: &str) -> bool {
        match self.position(item) {
            Ok(at) => {
                self.items.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// The elements, in ascending order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.items.iter().map(String::as_str)
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the set has no elements.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The elements as a sorted slice.
    pub(crate) fn as_slice(&self) -> &[String] {
        &self.items
    }

    fn position(&self, item: &str) -> Result<usize, usize> {
        self.items.binary_search_by(|x| x.as_str().cmp(item))
    }
}

impl<S: Into<String>> FromIterator<S> for Set {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Set {
        Set::new(iter)
    }
}

impl<S: Into<String>, const N: usize> From<[S; N]> for Set {
    fn from(items: [S; N]) -> Set {
        Set::new(items)
    }
}

impl From<Vec<String>> for Set {
    fn from(items: Vec<String>) -> Set {
        Set::new(items)
    }
}

impl<'a> IntoIterator for &'a Set {
    type Item = &'a str;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, String>, fn(&String) -> &str>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter().map(String::as_str)
    }
}

impl serde::Serialize for Set {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(&self.items)
    }
}

impl<'de> serde::Deserialize<'de> for Set {
    /// Reads a sequence of strings; sorts it and drops duplicates.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Set, D::Error> {
        Vec::<String>::deserialize(deserializer).map(Set::new)
    }
}

impl serde::Serialize for Value {
    /// The JSON form: a string, an integer, a boolean, or an array of strings.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Str(s) => serializer.serialize_str(s),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Set(set) => set.serialize(serializer),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    /// Reads the JSON form: a string, a 64-bit integer, a boolean or an array of strings
    /// (floats, objects and `null` are refused).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        struct ValueVisitor;
        impl<'de> serde::de::Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, a 64-bit integer, a boolean or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Str(s.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Value, E> {
                Ok(Value::Str(s))
            }
            fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Value, E> {
                Ok(Value::Int(i))
            }
            fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
                i64::try_from(u)
                    .map(Value::Int)
                    .map_err(|_| E::custom(format!("integer {u} is out of the 64-bit range")))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(Value::set(items))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Value {
    /// A string; compared exactly and case-sensitively.
    Str(String),
    /// A 64-bit signed integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A set of strings, such as `groups`.
    Set(Set),
}

impl Value {
    /// A set value from any strings (sorted, duplicates dropped).
    pub fn set<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::Set(Set::new(items))
    }

    /// The name of this value's type, as errors and explanations print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "integer",
            Value::Bool(_) => "boolean",
            Value::Set(_) => "set",
        }
    }

    pub(crate) fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Str(s) => ValueRef::Str(s),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Set(s) => ValueRef::Set(s.as_slice()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Set(s) => write!(f, "[{}]", s.as_slice().join(", ")),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i64::from(i))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<Set> for Value {
    fn from(s: Set) -> Value {
        Value::Set(s)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Value {
        Value::set(v)
    }
}
impl From<Vec<&str>> for Value {
    fn from(v: Vec<&str>) -> Value {
        Value::set(v)
    }
}

/// A borrowed view of a value, as the evaluator sees it (tags are strings; a set's slice
/// is sorted and unique, from [`Set`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueRef<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
    Set(&'a [String]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constructor_sorts_and_dedups() {
        let expected = ["a", "b", "c"];
        let sets = [
            Set::new(["c", "a", "b", "a"]),
            ["c", "b", "a", "c"].into_iter().collect(),
            Set::from(["b", "c", "a"]),
            Set::from(vec!["c".to_string(), "a".into(), "b".into(), "b".into()]),
            serde_json::from_str::<Set>(r#"["c","a","b","a"]"#).unwrap(),
            {
                let mut s = Set::default();
                for x in ["c", "a", "b", "a"] {
                    s.insert(x);
                }
                s
            },
        ];
        for s in &sets {
            assert_eq!(s.iter().collect::<Vec<_>>(), expected);
        }
        let mut s = sets[0].clone();
        assert!(s.remove("b") && !s.remove("b"));
        assert_eq!(s.iter().collect::<Vec<_>>(), ["a", "c"]);
    }
}
