//! QR and barcode scanners as they attach to kiosks: USB CDC serial (line-framed), HID keyboard
//! emulation (boot reports) and HID POS; scans typed (URL, digits, login code, text), repeats
//! merged, garbage refused with a reason; and a simulator for each mode.

pub mod classify;
pub mod frame;
pub mod scanner;
#[cfg(feature = "sim")]
pub mod sim;

pub use classify::{Rejection, Scan, ScanConfig, ScanKind};
pub use frame::Suffix;
pub use scanner::{Device, Mode, Pipeline, ScanEvent, Scanner, ScannerEvent, ScannerService};
