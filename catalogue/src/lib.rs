//! The district's service-item catalogue: what residents can do at the kiosk, how, and with
//! which form. [`model`] follows the national implementation-list fields, [`validate`] applies
//! the consistency rules of real catalogue audits, [`search`] finds items the way residents type,
//! and [`synthetic`] builds large catalogues for benchmarks.

#[cfg(feature = "import")]
pub mod import;
pub mod model;
pub mod search;
pub mod synthetic;
pub mod validate;
pub mod watch;

pub use model::{Catalogue, Item, Kind, Summary};
pub use search::{Hit, Index};
pub use validate::{Problem, Report, validate};
pub use watch::BundleWatch;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("catalogue is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("catalogue bundle is damaged or from an incompatible version: {0}")]
    Bundle(#[from] postcard::Error),
    #[error("catalogue refused, {} problem(s), first: {}", .0.errors.len(), .0.errors[0])]
    Invalid(Report),
}

/// Parses and validates; a catalogue with errors is refused whole.
pub fn load(json: &[u8]) -> Result<(Catalogue, Report), LoadError> {
    let cat: Catalogue = serde_json::from_slice(json)?;
    let report = validate(&cat);
    if report.is_ok() { Ok((cat, report)) } else { Err(LoadError::Invalid(report)) }
}

/// What a bundle says about the catalogue as a whole.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    pub catalogue_version: String,
    pub sample: bool,
    pub notice: Option<String>,
    pub departments: Vec<model::Department>,
    pub user_topics: Vec<model::Topic>,
    pub corp_topics: Vec<model::Topic>,
}

/// The head of a bundle: everything a kiosk needs at start-up.
#[derive(serde::Serialize, serde::Deserialize)]
struct Head {
    meta: Meta,
    summaries: Vec<Summary>,
    /// Where each item's details start in the body; the body's end closes the last.
    offsets: Vec<u32>,
}

/// The compact binary form kiosks load. Admins write JSON (or TOML, CSV, XLSX); publishing turns
/// it into this. A kiosk parses only the head (metadata and one summary an item) at start-up and
/// an item's details when a resident opens it: parsing all 10,000 items' details, or 20 MB of
/// JSON, takes longer than the whole load-and-index budget (DESIGN.md §5).
///
/// Layout: head length (u32, little-endian), the head (postcard), then each item (postcard).
pub fn to_bundle(cat: &Catalogue) -> Vec<u8> {
    let mut body = Vec::new();
    let mut offsets = Vec::with_capacity(cat.items.len());
    for item in &cat.items {
        offsets.push(u32::try_from(body.len()).expect("bundles are far below 4 GiB"));
        body.extend(postcard::to_allocvec(item).expect("items serialise"));
    }
    let meta = Meta {
        catalogue_version: cat.catalogue_version.clone(),
        sample: cat.sample,
        notice: cat.notice.clone(),
        departments: cat.departments.clone(),
        user_topics: cat.user_topics.clone(),
        corp_topics: cat.corp_topics.clone(),
    };
    let head = postcard::to_allocvec(&Head {
        meta,
        summaries: cat.items.iter().map(Summary::from).collect(),
        offsets,
    })
    .expect("heads serialise");
    let mut out = Vec::with_capacity(4 + head.len() + body.len());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend(head);
    out.extend(body);
    out
}

/// The bytes of a bundle: owned, or a read-only mapping of the installed file, so that the items'
/// details (most of a bundle) cost memory only when a resident opens one.
pub type BundleBytes = std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A bundle as a kiosk holds it: summaries parsed, details parsed on demand.
#[derive(Clone)]
pub struct Bundle {
    pub meta: Meta,
    pub summaries: Vec<Summary>,
    bytes: BundleBytes,
    body_start: usize,
    offsets: Vec<u32>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("meta", &self.meta)
            .field("items", &self.offsets.len())
            .field("bytes", &(*self.bytes).as_ref().len())
            .finish_non_exhaustive()
    }
}

impl Bundle {
    /// Reads the head only. The contents were validated when the bundle was applied
    /// ([`verify_bundle`]); this is the start-up path.
    pub fn open(bytes: &[u8]) -> Result<Self, LoadError> {
        Self::open_shared(std::sync::Arc::new(bytes.to_vec()))
    }

    /// As [`Bundle::open`], keeping `bytes` (a mapped file, say) instead of copying the body.
    pub fn open_shared(bytes: BundleBytes) -> Result<Self, LoadError> {
        let damaged = || LoadError::Bundle(postcard::Error::DeserializeUnexpectedEnd);
        let all = (*bytes).as_ref();
        let len = usize::try_from(u32::from_le_bytes(
            all.get(..4).ok_or_else(damaged)?.try_into().expect("4 bytes"),
        ))
        .expect("u32 fits usize");
        let head: Head = postcard::from_bytes(all.get(4..4 + len).ok_or_else(damaged)?)?;
        let body_len = all.len() - 4 - len;
        if head.offsets.len() != head.summaries.len() || head.offsets.iter().any(|&o| o as usize > body_len) {
            return Err(damaged());
        }
        Ok(Self {
            meta: head.meta,
            summaries: head.summaries,
            bytes,
            body_start: 4 + len,
            offsets: head.offsets,
        })
    }

    fn body(&self) -> &[u8] {
        &(*self.bytes).as_ref()[self.body_start..]
    }

    /// Item `i` in full, as a resident opens it.
    pub fn item(&self, i: usize) -> Result<Item, LoadError> {
        let body = self.body();
        let start = self.offsets[i] as usize;
        let end = self.offsets.get(i + 1).map_or(body.len(), |&e| e as usize);
        Ok(postcard::from_bytes(
            body.get(start..end).ok_or(LoadError::Bundle(postcard::Error::DeserializeUnexpectedEnd))?,
        )?)
    }

    /// Hands the summaries to the search index, which keeps them; items stay readable.
    pub fn take_summaries(&mut self) -> Vec<Summary> {
        std::mem::take(&mut self.summaries)
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Every item, for validation.
    pub fn into_catalogue(self) -> Result<Catalogue, LoadError> {
        let items = (0..self.len()).map(|i| self.item(i)).collect::<Result<Vec<_>, _>>()?;
        let m = self.meta;
        Ok(Catalogue {
            catalogue_version: m.catalogue_version,
            sample: m.sample,
            notice: m.notice,
            departments: m.departments,
            user_topics: m.user_topics,
            corp_topics: m.corp_topics,
            items,
        })
    }
}

/// Checks a bundle whole, as the update client does before applying it: every item parses, the
/// catalogue validates, and the summaries agree with the items.
pub fn verify_bundle(bytes: &[u8]) -> Result<(Catalogue, Report), LoadError> {
    let mut bundle = Bundle::open(bytes)?;
    let summaries = bundle.take_summaries();
    let cat = bundle.into_catalogue()?;
    if cat.items.iter().map(Summary::from).ne(summaries) {
        return Err(LoadError::Bundle(postcard::Error::DeserializeBadEncoding));
    }
    let report = validate(&cat);
    if report.is_ok() { Ok((cat, report)) } else { Err(LoadError::Invalid(report)) }
}

/// The invented sample catalogue the demo and the tests use (marked `sample`).
pub fn sample() -> Catalogue {
    serde_json::from_str(include_str!("../data/sample.json")).expect("the sample catalogue is valid JSON")
}
