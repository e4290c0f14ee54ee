//! Decoding of the card photo. WLT is a proprietary format and every known decoder is a licensed
//! vendor library (often bound to the reader's SAM ID), so none ships with the kiosk. A site that
//! holds a licence plugs its decoder in behind [`PhotoDecoder`]; until then the UI says the photo
//! is not available instead of showing a made-up image.

use zeroize::Zeroizing;

use crate::card::WltPhoto;
use crate::samid::SamId;

/// A decoded photo: 102 × 126 pixels, 24-bit BGR, top row first.
#[derive(Clone)]
pub struct DecodedPhoto {
    pub width: u32,
    pub height: u32,
    pub bgr: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for DecodedPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecodedPhoto({}x{})", self.width, self.height)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("no licensed WLT photo decoder is installed; the photo is kept undecoded")]
    NoDecoder,
    #[error("the photo decoder refused this reader (licence bound to another SAM ID?)")]
    NotLicensed,
    #[error("the photo data is not WLT ({0} bytes)")]
    NotWlt(usize),
}

/// A vendor's WLT decoder, reached through FFI or a decoding service.
pub trait PhotoDecoder: Send + Sync {
    /// `sam` is the reader's SAM ID where the card came from a reader; decoders licensed per
    /// reader refuse without it.
    fn decode(&self, photo: &WltPhoto, sam: Option<&SamId>) -> Result<DecodedPhoto, PhotoError>;
}

/// The decoder a kiosk has when no vendor decoder is configured: it says so.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPhotoDecoder;

impl PhotoDecoder for NoPhotoDecoder {
    fn decode(&self, photo: &WltPhoto, _sam: Option<&SamId>) -> Result<DecodedPhoto, PhotoError> {
        if photo.looks_valid() { Err(PhotoError::NoDecoder) } else { Err(PhotoError::NotWlt(photo.0.len())) }
    }
}
