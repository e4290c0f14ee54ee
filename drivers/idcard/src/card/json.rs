//! The JSON shape of a card: what `kiosk-diag idcard decode --json` prints, and what a simulator
//! card file contains, so a technician can feed a decoded card back into a simulator.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{
    CardDate, CardError, CardKind, IdCard, Sex, WLT_MAGIC, WltPhoto, ethnicity_code, ethnicity_name,
};

/// A card as JSON. Dates are `YYYY-MM-DD`; `valid_until` may be `long-term`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct CardJson {
    /// `resident`, `hmt_permit`, `foreigner_2017` or `foreigner_2023`.
    pub card_type: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// `male`, `female`, `unknown` or `unspecified`.
    pub sex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity_code: Option<String>,
    pub birth_date: String,
    #[serde(default)]
    pub address: Option<String>,
    pub id_number: String,
    #[serde(default)]
    pub issuer: Option<String>,
    pub valid_from: String,
    pub valid_until: String,
    /// Derived from the number; ignored when a card is built from JSON.
    #[serde(default)]
    pub id_number_valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_count: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_count: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_number_link: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appended_addresses: Vec<String>,
    #[serde(default)]
    #[zeroize(skip)]
    pub photo: PhotoJson,
    /// 0, 512 or 1024: how many fingerprint bytes the card holds (simulated cards get synthetic
    /// minutiae of that size).
    #[serde(default)]
    pub fingerprint_bytes: usize,
}

/// What is known about the photo. It is never decoded here: WLT needs a licensed vendor decoder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhotoJson {
    pub format: String,
    pub bytes: usize,
    pub decoded: bool,
}

impl From<&IdCard> for CardJson {
    fn from(card: &IdCard) -> Self {
        Self {
            card_type: card.kind.key().to_owned(),
            name: card.name.clone(),
            name_en: card.name_en.clone(),
            sex: card.sex.key().to_owned(),
            ethnicity: card.ethnicity.map(ethnicity_name),
            ethnicity_code: card.ethnicity.map(|c| format!("{c:02}")),
            birth_date: card.birth_date.to_string(),
            address: card.address.clone(),
            id_number: card.id_number.clone(),
            issuer: card.issuer.clone(),
            valid_from: card.valid_from.to_string(),
            valid_until: card.valid_until.map_or_else(|| "long-term".to_owned(), |d| d.to_string()),
            id_number_valid: card.id_number_check().is_valid(),
            nationality: card.nationality.clone(),
            pass_number: card.pass_number.clone(),
            issue_count: card.issue_count.clone(),
            card_version: card.card_version.clone(),
            renewal_count: card.renewal_count.clone(),
            previous_number_link: card.previous_number_link.clone(),
            appended_addresses: card.appended_addresses.clone(),
            photo: PhotoJson { format: "wlt".into(), bytes: card.photo.0.len(), decoded: false },
            fingerprint_bytes: card.fingerprint.as_ref().map_or(0, Vec::len),
        }
    }
}

impl CardJson {
    /// The same card with names and numbers masked, the birth day and month hidden and addresses
    /// replaced by a marker, for output a bystander may see.
    pub fn masked(&self) -> Self {
        let mut m = self.clone();
        m.name = kiosk_pii::mask_name(&self.name);
        m.name_en = self.name_en.as_deref().map(kiosk_pii::mask_name);
        m.id_number = kiosk_pii::mask_id_number(&self.id_number);
        m.pass_number = self.pass_number.as_deref().map(kiosk_pii::mask_id_number);
        m.birth_date = kiosk_pii::mask_birth_date(&self.birth_date);
        m.address = self.address.as_deref().map(kiosk_pii::redact_address);
        m.appended_addresses = self.appended_addresses.iter().map(|a| kiosk_pii::redact_address(a)).collect();
        m
    }
}

fn field(field: &'static str, problem: &'static str) -> CardError {
    CardError::Field { field, problem }
}

fn date(value: &str, name: &'static str) -> Result<CardDate, CardError> {
    CardDate::parse(value).ok_or(field(name, "not a YYYY-MM-DD date"))
}

/// Deterministic filler so simulated photos and fingerprints have the real sizes and headers.
fn synthetic(header: &[u8], len: usize, seed: u8) -> Vec<u8> {
    let mut v = header.to_vec();
    v.extend((v.len()..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v.truncate(len);
    v
}

impl TryFrom<&CardJson> for IdCard {
    type Error = CardError;

    /// Builds a simulated card. Photo and fingerprint are synthetic bytes of the real sizes; they
    /// are not images of anyone.
    fn try_from(j: &CardJson) -> Result<Self, CardError> {
        let kind = CardKind::from_key(&j.card_type).ok_or(field("card_type", "not a known card type"))?;
        let ethnicity = match (&j.ethnicity_code, &j.ethnicity) {
            (Some(code), _) => Some(code.parse().map_err(|_| field("ethnicity_code", "not a number"))?),
            (None, Some(name)) => {
                Some(ethnicity_code(name).ok_or(field("ethnicity", "not a GB/T 3304 name"))?)
            }
            (None, None) => None,
        };
        if !matches!(j.fingerprint_bytes, 0 | 512 | 1024) {
            return Err(field("fingerprint_bytes", "must be 0, 512 or 1024"));
        }
        Ok(IdCard {
            kind,
            name: j.name.clone(),
            name_en: j.name_en.clone(),
            sex: Sex::from_key(&j.sex).ok_or(field("sex", "must be male, female, unknown or unspecified"))?,
            ethnicity,
            birth_date: date(&j.birth_date, "birth_date")?,
            address: j.address.clone(),
            id_number: j.id_number.clone(),
            issuer: j.issuer.clone(),
            valid_from: date(&j.valid_from, "valid_from")?,
            valid_until: match j.valid_until.as_str() {
                "long-term" | "长期" => None,
                d => Some(date(d, "valid_until")?),
            },
            nationality: j.nationality.clone(),
            pass_number: j.pass_number.clone(),
            issue_count: j.issue_count.clone(),
            card_version: j.card_version.clone(),
            renewal_count: j.renewal_count.clone(),
            previous_number_link: j.previous_number_link.clone(),
            appended_addresses: j.appended_addresses.clone(),
            photo: WltPhoto(synthetic(&WLT_MAGIC, 1024, 7)),
            fingerprint: (j.fingerprint_bytes > 0).then(|| synthetic(&[0x43, 0x01], j.fingerprint_bytes, 3)),
        })
    }
}
