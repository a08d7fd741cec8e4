//! Reading a JSON object into a type with named fields and an `extra` map, in one pass.
//!
//! `#[serde(flatten)]` does the same but first buffers the whole object (every key and value
//! copied into serde's private `Content` tree), then reads the type from the copy. The shapes
//! read on every request (`User`, `Workspace`) use this instead: a key the type names is matched
//! without allocating, its value read straight into the field; any other key and its value go to
//! `extra`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

/// A key of the object: the index of a field the type names, or any other key.
pub(crate) enum Key {
    Named(usize),
    Other(String),
}

/// Reads a key, matching it against the type's fields without allocating.
struct KeySeed<T>(PhantomData<T>);

impl<T: Object> KeySeed<T> {
    fn key(&self, key: &str) -> Key {
        match T::field(key) {
            Some(index) => Key::Named(index),
            None => Key::Other(key.to_owned()),
        }
    }
}

impl<'de, T: Object> DeserializeSeed<'de> for KeySeed<T> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<T: Object> Visitor<'_> for KeySeed<T> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(self.key(key))
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Key, E> {
        Ok(match self.key(&key) {
            Key::Named(index) => Key::Named(index),
            Key::Other(_) => Key::Other(key),
        })
    }
}

/// A type read from a JSON object by [`deserialize_object`].
pub(crate) trait Object: Default {
    /// The JSON keys the type names, in the order [`field`](Self::field) numbers them.
    const NAMES: &'static [&'static str];
    /// What `expecting` says ("a user object").
    const EXPECTING: &'static str;

    /// The index in `NAMES` of `key`, `None` for a key the type does not name (a `match`,
    /// which compiles to a comparison of lengths and then of bytes).
    fn field(key: &str) -> Option<usize>;

    /// Reads the value of the field `NAMES[index]` from `map`.
    fn read_named<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
    ) -> Result<(), A::Error>;

    /// Where the keys the type does not name go.
    fn extra(&mut self) -> &mut serde_json::Map<String, serde_json::Value>;

    /// Checks the object once every key is read: by default, the first named field (`_id`)
    /// is required.
    fn finish<E: de::Error>(self, seen: &[bool]) -> Result<Self, E> {
        match seen.first() {
            Some(true) => Ok(self),
            _ => Err(E::missing_field(
                Self::NAMES.first().copied().unwrap_or("?"),
            )),
        }
    }
}

/// [`Object`] and `Deserialize` for a type with an `extra` map, from its table of fields: the
/// index, the JSON key and the field of each (indices from 0, in order).
macro_rules! object_fields {
    ($ty:ty, $expecting:literal, { $($index:literal $key:literal => $field:ident),* $(,)? }) => {
        impl $crate::object::Object for $ty {
            const NAMES: &'static [&'static str] = &[$($key),*];
            const EXPECTING: &'static str = $expecting;

            fn field(key: &str) -> Option<usize> {
                match key {
                    $($key => Some($index),)*
                    _ => None,
                }
            }

            fn read_named<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                index: usize,
                map: &mut A,
            ) -> Result<(), A::Error> {
                match index {
                    $($index => self.$field = map.next_value()?,)*
                    _ => {}
                }
                Ok(())
            }

            fn extra(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {
                &mut self.extra
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::object::deserialize_object(deserializer)
            }
        }
    };
}
pub(crate) use object_fields;

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        let mut seen = [false; 16];
        while let Some(key) = map.next_key_seed(KeySeed::<T>(PhantomData))? {
            match key {
                Key::Named(index) => {
                    if let Some(flag) = seen.get_mut(index) {
                        if *flag {
                            return Err(de::Error::duplicate_field(
                                T::NAMES.get(index).copied().unwrap_or("?"),
                            ));
                        }
                        *flag = true;
                    }
                    value.read_named(index, &mut map)?;
                }
                Key::Other(key) => {
                    let extra = map.next_value()?;
                    value.extra().insert(key, extra);
                }
            }
        }
        value.finish(&seen)
    }
}

/// Reads `T` from a JSON object in one pass (see the module's docs).
pub(crate) fn deserialize_object<'de, T: Object, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::Object;
    use crate::{User, Workspace};

    fn names_agree<T: Object>() {
        for (index, name) in T::NAMES.iter().enumerate() {
            assert_eq!(T::field(name), Some(index), "{name}");
        }
        assert!(T::NAMES.len() <= 16, "seen[] holds 16 flags");
        assert_eq!(T::field("not-a-field"), None);
    }

    #[test]
    fn every_named_key_maps_to_its_index() {
        names_agree::<User>();
        names_agree::<Workspace>();
    }

    #[test]
    fn named_fields_and_every_other_key_round_trip() {
        let json = serde_json::json!({
            "_id": "u1", "username": "a@b.c", "fullName": "A%20B", "roles": ["user"],
            "workspace": {"_id": "w1", "name": "W", "labels": ["x"], "logo": "l.png"},
            "profileImage": "p.png", "metadata": {"k": [1, 2]}
        });
        let user: User = serde_json::from_value(json.clone()).expect("user");
        assert_eq!(user.id, "u1");
        assert_eq!(user.full_name.as_deref(), Some("A%20B"));
        let ws = user.workspace.as_ref().expect("workspace");
        assert_eq!(
            (ws.id.as_str(), ws.labels.as_slice()),
            ("w1", &["x".to_owned()][..])
        );
        assert_eq!(ws.extra["logo"], "l.png");
        assert_eq!(user.extra["metadata"]["k"][1], 2);
        assert_eq!(serde_json::to_value(&user).expect("back"), json);
    }

    #[test]
    fn a_missing_id_a_duplicate_field_or_a_wrong_type_is_an_error() {
        let missing = serde_json::from_str::<Workspace>(r#"{"name":"W"}"#);
        assert!(missing.expect_err("no _id").to_string().contains("_id"));
        let twice = serde_json::from_str::<Workspace>(r#"{"_id":"w","name":"a","name":"b"}"#);
        assert!(
            twice
                .expect_err("duplicate")
                .to_string()
                .contains("duplicate field")
        );
        let wrong = serde_json::from_str::<User>(r#"{"_id":"u","roles":"admin"}"#);
        assert!(wrong.is_err(), "roles must be a list");
        assert!(
            serde_json::from_str::<User>("[]").is_err(),
            "an object, not a list"
        );
    }

    #[test]
    fn null_workspace_and_escaped_keys_are_read_like_any_json() {
        let user: User =
            serde_json::from_str(r#"{"_id":"u","workspace":null,"na\u006de":"x"}"#).expect("user");
        assert!(user.workspace.is_none());
        assert_eq!(user.extra["name"], "x", "an escaped key is still a key");
    }
}
