//! The 市民之窗 touchscreen app: the Slint screens over the app core (`kiosk-app`), the device
//! services; with the `demo` feature also demo mode, headless screenshots and the start-up probe,
//! which the kiosk's image leaves out. `main.rs` only parses the command line.

pub mod app;
pub mod controller;
#[cfg(feature = "demo")]
pub mod demo;
pub mod devices;
pub mod font;
#[cfg(feature = "demo")]
pub mod headless;
pub mod live;
pub mod logbuf;
pub mod mapped;
pub mod pin;
#[cfg(feature = "demo")]
pub mod probe;
#[cfg(feature = "demo")]
pub mod screenshots;
pub mod view;

/// The compiled `.slint` screens (`ui/app.slint`).
#[allow(missing_debug_implementations, clippy::all, clippy::pedantic)]
pub mod ui {
    slint::include_modules!();
}

pub use app::App;
pub use controller::Kiosk;
