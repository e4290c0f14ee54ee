//! Second-generation ID card readers speaking the GA/T 467 SAM protocol
//! (`reference/idcard.md`): Huashi, Shensi, Synjones/XZX, Routon and others, over a UART, a
//! USB-serial port or the four-pipe USB module.
//!
//! Layers, from the wire up: [`frame`] (sans-IO codec) → [`command`] and [`status`] → [`card`]
//! (layouts) → [`exchange`] (one command's answer, timeout and retry) and [`read`] (a card read
//! with its pacing), both sans-IO → [`reader`]
//! (blocking driver over a `kiosk_transport::Link`) → [`service`] (the
//! async face for the kiosk). [`sim`] is a reader on the device side for demos and tests.

pub mod card;
pub mod command;
pub mod exchange;
pub mod frame;
pub mod photo;
pub mod probe;
pub mod read;
pub mod reader;
pub mod samid;
pub mod service;
#[cfg(feature = "sim")]
pub mod sim;
pub mod status;
pub mod usb;

pub use card::{CardKind, IdCard};
pub use reader::{ReadOptions, Reader, ReaderError, ReaderInfo, ReaderPort};
pub use samid::SamId;
pub use service::{LiftReason, ReaderEvent, ReaderService, ServiceConfig};
pub use status::Status;
