//! The generic form engine: any form a department publishes in the catalogue is filled in here,
//! pre-filled from the card and checked field by field. Errors are codes; the screen turns a code
//! into plain words in the resident's language.

use kiosk_catalogue::model::{CardField, Field, FieldKind, Form};
use kiosk_idcard::card::{IdNumberCheck, check_foreigner_2017, check_gb11643};
use kiosk_sync_proto::{FormValue, FormValues};
use zeroize::Zeroizing;

use crate::identity::Identity;

/// Why a value is not accepted; the screens word it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    Required,
    TooShort(u32),
    TooLong(u32),
    /// Not an 18-character number.
    IdNumberFormat,
    /// The check character does not match: usually one digit typed wrong.
    IdNumberCheck,
    Phone,
    Date,
    Digits,
    Choice,
}

impl FieldError {
    /// The length a too-short or too-long message names.
    pub fn limit(self) -> u32 {
        match self {
            Self::TooShort(n) | Self::TooLong(n) => n,
            _ => 0,
        }
    }
}

/// Checks one value against its field. Lengths count characters, never bytes, so a name with a
/// rare character outside the BMP counts as one.
pub fn check(field: &Field, value: &str) -> Result<(), FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return if field.required { Err(FieldError::Required) } else { Ok(()) };
    }
    let len = value.chars().count() as u32;
    if let Some(min) = field.min_len.filter(|&m| len < m) {
        return Err(FieldError::TooShort(min));
    }
    if let Some(max) = field.max_len.filter(|&m| len > m) {
        return Err(FieldError::TooLong(max));
    }
    match field.kind {
        FieldKind::Text => Ok(()),
        FieldKind::Digits if value.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        FieldKind::Digits => Err(FieldError::Digits),
        // The 2017 foreigner permanent residence card carries a 15-character number (three
        // letters and twelve digits); every other card an 18-character GB 11643 one.
        FieldKind::IdNumber if check_foreigner_2017(value).is_valid() => Ok(()),
        FieldKind::IdNumber => match check_gb11643(value) {
            IdNumberCheck::Valid => Ok(()),
            IdNumberCheck::WrongCheckCharacter => Err(FieldError::IdNumberCheck),
            IdNumberCheck::Malformed => Err(FieldError::IdNumberFormat),
        },
        FieldKind::Phone if is_phone(value) => Ok(()),
        FieldKind::Phone => Err(FieldError::Phone),
        FieldKind::Date if is_date(value) => Ok(()),
        FieldKind::Date => Err(FieldError::Date),
        FieldKind::Choice if field.choices.iter().any(|c| c == value) => Ok(()),
        FieldKind::Choice => Err(FieldError::Choice),
    }
}

/// Mainland mobile numbers (11 digits from 1) or a landline with its area code (0757-…).
fn is_phone(v: &str) -> bool {
    let mobile = v.len() == 11 && v.starts_with('1') && v.bytes().all(|b| b.is_ascii_digit());
    let landline = v.starts_with('0')
        && (10..=13).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && v.bytes().filter(|&b| b == b'-').count() <= 1;
    mobile || landline
}

/// `YYYY-MM-DD`, a real calendar day.
fn is_date(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
        return false;
    };
    y >= 1900
        && time::Month::try_from(m).ok().and_then(|m| time::Date::from_calendar_date(y, m, d).ok()).is_some()
}

/// What the keyboard shows for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyboard {
    /// Pinyin with a candidate bar, plus letters.
    Chinese,
    /// Digits, and X for ID numbers; `-` for dates and landlines.
    Digits,
    /// A list of choices instead of a keyboard.
    Choices,
}

pub fn keyboard_for(kind: FieldKind) -> Keyboard {
    match kind {
        FieldKind::Text => Keyboard::Chinese,
        FieldKind::Choice => Keyboard::Choices,
        FieldKind::Digits | FieldKind::IdNumber | FieldKind::Phone | FieldKind::Date => Keyboard::Digits,
    }
}

/// A form being filled in. Values may be personal data: wiped when dropped.
#[derive(Debug)]
pub struct FormState {
    fields: Vec<Field>,
    values: Vec<Zeroizing<String>>,
    prefilled: Vec<bool>,
    /// Shown once the resident has left the field or pressed "next": no red text while typing.
    errors: Vec<Option<FieldError>>,
    focus: usize,
}

impl FormState {
    pub fn new(form: &Form, identity: Option<&Identity>) -> Self {
        let values: Vec<Zeroizing<String>> = form
            .fields
            .iter()
            .map(|f| {
                Zeroizing::new(match (f.prefill, identity) {
                    (Some(card_field), Some(id)) => id.field(card_field).to_owned(),
                    _ => String::new(),
                })
            })
            .collect();
        let prefilled = values.iter().map(|v| !v.is_empty()).collect();
        let n = form.fields.len();
        let mut state =
            Self { fields: form.fields.clone(), values, prefilled, errors: vec![None; n], focus: 0 };
        state.focus = state.first_open().unwrap_or(0);
        state
    }

    /// Whether the resident typed or chose anything: what "finish" would throw away.
    pub fn has_input(&self) -> bool {
        self.values.iter().zip(&self.prefilled).any(|(v, &from_card)| !from_card && !v.trim().is_empty())
    }

    /// The catalogue's field definitions, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The field being typed into.
    pub fn focused(&self) -> usize {
        self.focus
    }

    pub fn value(&self, i: usize) -> &str {
        &self.values[i]
    }

    /// What the form screen shows: values from the card stay masked until the resident
    /// replaces them; what they type is shown as typed.
    pub fn shown_value(&self, i: usize) -> String {
        if self.prefilled[i] { masked(&self.fields[i], &self.values[i]) } else { self.values[i].to_string() }
    }

    pub fn is_prefilled(&self, i: usize) -> bool {
        self.prefilled[i]
    }

    pub fn error(&self, i: usize) -> Option<FieldError> {
        self.errors[i]
    }

    pub fn focused_field(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    /// Moves the focus, checking the field left behind.
    pub fn focus(&mut self, i: usize) {
        if i < self.fields.len() {
            self.check_field(self.focus);
            self.focus = i;
        }
    }

    /// Typed text goes into the focused field; a too-long value is cut at the field's limit.
    pub fn type_text(&mut self, text: &str) {
        let Some(field) = self.fields.get(self.focus) else { return };
        let max = field.max_len.unwrap_or(200) as usize;
        let value = &mut self.values[self.focus];
        // A masked value from the card cannot be edited unseen: typing replaces it.
        if self.prefilled[self.focus] {
            value.clear();
        }
        for c in text.chars() {
            if value.chars().count() >= max {
                break;
            }
            value.push(if field.kind == FieldKind::IdNumber { c.to_ascii_uppercase() } else { c });
        }
        self.prefilled[self.focus] = false;
        if self.errors[self.focus].is_some() {
            self.errors[self.focus] = check(field, value).err();
        }
    }

    pub fn backspace(&mut self) {
        if let Some(value) = self.values.get_mut(self.focus) {
            if self.prefilled[self.focus] {
                value.clear();
            }
            value.pop();
            self.prefilled[self.focus] = false;
        }
    }

    pub fn clear(&mut self) {
        if let Some(value) = self.values.get_mut(self.focus) {
            value.clear();
            self.prefilled[self.focus] = false;
        }
    }

    pub fn choose(&mut self, i: usize, choice: &str) {
        if let Some(field) = self.fields.get(i)
            && field.choices.iter().any(|c| c == choice)
        {
            self.values[i] = Zeroizing::new(choice.to_owned());
            self.errors[i] = None;
            self.focus = i;
        }
    }

    fn check_field(&mut self, i: usize) {
        if let Some(field) = self.fields.get(i) {
            self.errors[i] = check(field, &self.values[i]).err();
        }
    }

    /// Checks every field; on failure the focus moves to the first wrong one.
    pub fn check_all(&mut self) -> bool {
        for i in 0..self.fields.len() {
            self.check_field(i);
        }
        match self.errors.iter().position(Option::is_some) {
            Some(i) => {
                self.focus = i;
                false
            }
            None => true,
        }
    }

    fn first_open(&self) -> Option<usize> {
        self.values.iter().position(|v| v.is_empty())
    }

    /// The values as the submission carries them, in the form's order. Personal data: they
    /// are wiped with the submission.
    pub fn values(&self) -> FormValues {
        FormValues(
            self.fields
                .iter()
                .zip(&self.values)
                .map(|(f, v)| FormValue { key: f.key.clone(), value: v.trim().to_owned() })
                .collect(),
        )
    }
}

/// A value as a screen may show it: names, ID numbers, phones and addresses
/// masked (DESIGN.md §6).
pub fn masked(field: &Field, value: &str) -> String {
    match (field.prefill, field.kind) {
        (Some(CardField::Name), _) => kiosk_pii::mask_name(value),
        (_, FieldKind::IdNumber) => kiosk_pii::mask_id_number(value),
        (_, FieldKind::Phone) => kiosk_pii::mask_phone(value),
        // Long digit strings are account numbers (bank, social security, provident fund).
        (_, FieldKind::Digits) if value.chars().count() >= 12 => kiosk_pii::mask_account_number(value),
        (Some(CardField::CurrentAddress), _) => kiosk_pii::mask_address(value),
        (Some(CardField::BirthDate), _) => kiosk_pii::mask_birth_date(value),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind) -> Field {
        Field {
            key: "k".into(),
            label_zh: "字段".into(),
            label_en: "Field".into(),
            kind,
            required: true,
            prefill: None,
            min_len: None,
            max_len: None,
            choices: vec!["是".into(), "否".into()],
        }
    }

    #[test]
    fn each_kind_accepts_good_values_and_names_what_is_wrong() {
        let id = field(FieldKind::IdNumber);
        assert_eq!(check(&id, "11010519491231002X"), Ok(()));
        assert_eq!(check(&id, "110105194912310021"), Err(FieldError::IdNumberCheck));
        assert_eq!(check(&id, "1101051949"), Err(FieldError::IdNumberFormat));
        assert_eq!(check(&id, "CAN310180010145"), Ok(()), "a 2017 foreigner card's number");
        assert_eq!(check(&id, "CA0310180010145"), Err(FieldError::IdNumberFormat));
        assert_eq!(check(&id, " "), Err(FieldError::Required));
        let phone = field(FieldKind::Phone);
        assert_eq!(check(&phone, "13800138000"), Ok(()));
        assert_eq!(check(&phone, "0757-86280000"), Ok(()));
        assert_eq!(check(&phone, "23800138000"), Err(FieldError::Phone));
        assert_eq!(check(&phone, "1380013800"), Err(FieldError::Phone));
        let date = field(FieldKind::Date);
        assert_eq!(check(&date, "2024-02-29"), Ok(()));
        assert_eq!(check(&date, "2023-02-29"), Err(FieldError::Date));
        assert_eq!(check(&date, "2023/02/01"), Err(FieldError::Date));
        assert_eq!(check(&field(FieldKind::Digits), "12a"), Err(FieldError::Digits));
        assert_eq!(check(&field(FieldKind::Choice), "是"), Ok(()));
        assert_eq!(check(&field(FieldKind::Choice), "也许"), Err(FieldError::Choice));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut name = field(FieldKind::Text);
        name.min_len = Some(2);
        name.max_len = Some(3);
        assert_eq!(check(&name, "𠮷野"), Ok(()));
        assert_eq!(check(&name, "𠮷"), Err(FieldError::TooShort(2)));
        assert_eq!(check(&name, "𠮷野家吉"), Err(FieldError::TooLong(3)));
    }

    #[test]
    fn prefill_typing_and_errors() {
        let mut name = field(FieldKind::Text);
        name.key = "name".into();
        name.prefill = Some(CardField::Name);
        let mut phone = field(FieldKind::Phone);
        phone.key = "phone".into();
        let form = Form { fields: vec![name, phone] };
        let card = kiosk_idcard::sim::sample_cards().remove(0).1;
        let identity = Identity::from_card(&card);
        let mut state = FormState::new(&form, Some(&identity));
        assert_eq!(state.value(0), card.name);
        assert!(state.is_prefilled(0));
        assert_eq!(state.focus, 1, "the focus starts on the first empty field");
        state.type_text("1380013");
        assert_eq!(state.error(1), None, "no error while typing");
        assert!(!state.check_all());
        assert_eq!(state.error(1), Some(FieldError::Phone));
        state.type_text("8000");
        assert_eq!(state.error(1), None, "a shown error clears as soon as the value is right");
        assert!(state.check_all());
        let values = state.values();
        assert_eq!(values.get("phone"), Some("13800138000"));
        assert_eq!(values.get("name"), Some(card.name.as_str()));
    }
}
