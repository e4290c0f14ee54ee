//! The district's service-item catalogue: what residents can do at the kiosk, how, and with
//! which form. [`model`] follows the national implementation-list fields, [`validate`] applies
//! the consistency rules of real catalogue audits, [`search`] finds items the way residents type,
//! and [`synthetic`] builds large catalogues for benchmarks.

pub mod model;
pub mod search;
pub mod synthetic;
pub mod validate;

pub use model::{Catalogue, Item, Kind};
pub use search::{Hit, Index};
pub use validate::{Problem, Report, validate};

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

/// The compact binary form kiosks load: admins write JSON (or TOML, CSV, XLSX), publishing turns
/// it into this, because parsing 20 MB of JSON for 10,000 items alone takes longer than the whole
/// load-and-index budget (DESIGN.md §5).
pub fn to_bundle(cat: &Catalogue) -> Vec<u8> {
    postcard::to_allocvec(cat).expect("catalogues serialise")
}

/// Loads a bundle and validates it, like [`load`].
pub fn load_bundle(bytes: &[u8]) -> Result<(Catalogue, Report), LoadError> {
    let cat: Catalogue = postcard::from_bytes(bytes)?;
    let report = validate(&cat);
    if report.is_ok() { Ok((cat, report)) } else { Err(LoadError::Invalid(report)) }
}

/// The invented sample catalogue the demo and the tests use (marked `sample`).
pub fn sample() -> Catalogue {
    serde_json::from_str(include_str!("../data/sample.json")).expect("the sample catalogue is valid JSON")
}
