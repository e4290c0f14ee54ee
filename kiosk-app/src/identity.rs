//! Who the session is for. Held in memory only and wiped when the session ends
//! (DESIGN.md §6); `Debug` never shows it.

use kiosk_catalogue::model::CardField;
use kiosk_idcard::IdCard;
use kiosk_scanner::Scan;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// How the resident identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A card on the reader; the key is the card layout (`resident`, `hmt_permit`, ...).
    Card(&'static str),
    /// The government app's login code, scanned from a phone. The code is verified by the
    /// service network with the submission; nothing is pre-filled from it.
    AppCode,
}

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Identity {
    #[zeroize(skip)]
    pub source: Source,
    /// Name as on the card: the Chinese name, or the English one on cards without it.
    pub name: String,
    pub id_number: String,
    pub address: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// The app's login token, handed to the service network to verify.
    pub app_token: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({:?}, {})", self.source, kiosk_pii::mask_name(&self.name))
    }
}

impl Identity {
    pub fn from_card(card: &IdCard) -> Self {
        let name = if card.name.trim().is_empty() {
            card.name_en.clone().unwrap_or_default()
        } else {
            card.name.trim().to_owned()
        };
        let d = card.birth_date;
        Self {
            source: Source::Card(card.kind.key()),
            name,
            id_number: card.id_number.trim().to_owned(),
            address: card.address.as_deref().unwrap_or_default().trim().to_owned(),
            birth_date: format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
            app_token: String::new(),
        }
    }

    /// `None` unless the scan is the app's login code.
    pub fn from_scan(scan: &Scan) -> Option<Self> {
        (scan.kind == kiosk_scanner::ScanKind::LoginCode).then(|| Self {
            source: Source::AppCode,
            name: String::new(),
            id_number: String::new(),
            address: String::new(),
            birth_date: String::new(),
            app_token: scan.text.clone(),
        })
    }

    /// The value a form field marked with `prefill` starts with (empty when unknown).
    pub fn field(&self, field: CardField) -> &str {
        match field {
            CardField::Name => &self.name,
            CardField::IdNumber => &self.id_number,
            CardField::CurrentAddress => &self.address,
            CardField::BirthDate => &self.birth_date,
        }
    }

    pub fn source_key(&self) -> &'static str {
        match self.source {
            Source::Card(kind) => kind,
            Source::AppCode => "app_code",
        }
    }
}
