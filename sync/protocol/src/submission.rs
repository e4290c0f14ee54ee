//! What a kiosk files: one resident's application (`POST /v1/submissions`). The app core builds
//! it, the outbox seals it, the agent sends it and the service network reads it: one type at
//! both ends, so a field cannot be renamed on one side only.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A resident's application. It carries personal data (the form, the query password, the app
/// token), so it is wiped when dropped and its `Debug` names the item only.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Submission {
    /// The catalogue item's implementation code (实施编码).
    pub item_code: String,
    #[serde(default)]
    pub item_name: String,
    #[serde(default)]
    pub kiosk_id: String,
    /// How the resident was identified: the card kind read (`resident`, `hmt_permit`, …),
    /// `app_code` for the government app's login code, or `none`.
    #[serde(default)]
    pub identified_by: String,
    /// The government app's login token, when the resident logged in with it.
    #[serde(default)]
    pub app_token: String,
    /// The six digits on the slip with which the resident follows the application.
    #[serde(default)]
    pub query_password: String,
    /// When the resident submitted, China Standard Time as the slip prints it.
    #[serde(default)]
    pub submitted_at: String,
    /// The form's fields in the form's order; a JSON object on the wire.
    #[serde(default)]
    pub form: FormValues,
}

impl std::fmt::Debug for Submission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submission").field("item_code", &self.item_code).finish_non_exhaustive()
    }
}

/// One form field's value. `Debug` shows the key only.
#[derive(Clone, Default, PartialEq, Eq, Zeroize)]
pub struct FormValue {
    pub key: String,
    pub value: String,
}

impl std::fmt::Debug for FormValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormValue").field("key", &self.key).finish_non_exhaustive()
    }
}

/// The form's values, in order, written as a JSON object `{key: value}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Zeroize)]
pub struct FormValues(pub Vec<FormValue>);

impl FormValues {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|f| f.key == key).map(|f| f.value.as_str())
    }
}

impl Serialize for FormValues {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for field in &self.0 {
            map.serialize_entry(&field.key, &field.value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FormValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = FormValues;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of form field values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FormValues, A::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    fields.push(FormValue { key, value });
                }
                Ok(FormValues(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_an_object_in_order_and_debug_shows_no_personal_data() {
        let mut submission = Submission::default();
        submission.item_code = "440605-JZZ-001".into();
        submission.query_password = "123456".into();
        submission.form = FormValues(vec![
            FormValue { key: "name".into(), value: "张三".into() },
            FormValue { key: "address".into(), value: "南海区某路1号".into() },
        ]);
        let json = serde_json::to_string(&submission).unwrap();
        assert!(json.contains(r#""form":{"name":"张三","address":"南海区某路1号"}"#), "{json}");
        let back: Submission = serde_json::from_str(&json).unwrap();
        assert_eq!(back, submission);
        assert_eq!(back.form.get("address"), Some("南海区某路1号"));
        let debug = format!("{submission:?} {:?}", submission.form);
        assert!(!debug.contains("张三") && !debug.contains("123456"), "{debug}");
        // What older kiosks and tools file (no form, unknown fields) still reads.
        let old: Submission = serde_json::from_str(r#"{"item_code":"X","sample":true}"#).unwrap();
        assert_eq!(old.item_code, "X");
        assert!(serde_json::from_str::<Submission>("{}").is_err(), "the item code is required");
    }
}
