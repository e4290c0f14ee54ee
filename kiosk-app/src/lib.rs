//! The touchscreen app's core: what the resident's session is, screen by screen, with no UI
//! toolkit in it. The Slint front end (`kiosk-ui`) only shows what this says and forwards
//! touches, cards, scans and timer ticks to it, so the journey, the idle wipe, validation,
//! masking and the technician PIN are all tested here without a screen.

pub mod form;
pub mod identity;
pub mod ime;
pub mod library;
pub mod lookup;
pub mod pin;
pub mod progress;
pub mod receipt;
pub mod records_slip;
pub mod session;
pub mod view;

pub use identity::Identity;
pub use library::Library;
pub use receipt::Receipt;
pub use session::{
    Config, Device, Devices, Enqueue, Filing, Health, Idle, Lang, Notice, Printing, Queued, Rating, Screen,
    Session, Stamp, SubmitError,
};
pub use view::{Page, View};
