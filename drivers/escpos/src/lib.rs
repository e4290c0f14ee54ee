//! ESC/POS receipt printers (`reference/escpos.md`): a slip model, a sans-IO encoder driven by
//! printer profiles, status read-back, a preview renderer, the driver over any transport, and a
//! simulator.

pub mod canvas;
pub mod code128;
pub mod doc;
pub mod encode;
pub mod job;
pub mod layout;
pub mod preview;
pub mod printer;
pub mod profile;
pub mod service;
#[cfg(feature = "sim")]
pub mod sim;
pub mod status;
pub mod text;

pub use doc::{Align, Slip, Style};
pub use printer::{Device, PortStatus, PrintReport, Printer, PrinterError, test_slip};
pub use profile::Profile;
pub use service::{PrintProblem, PrinterEvent, PrinterService, PrinterState};
pub use status::{Paper, PrinterStatus};
