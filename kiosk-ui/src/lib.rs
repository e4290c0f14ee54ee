//! The 市民之窗 touchscreen app: the Slint screens over the app core (`kiosk-app`), the device
//! services, demo mode and headless screenshots. `main.rs` only parses the command line.

pub mod app;
pub mod config;
pub mod controller;
pub mod demo;
pub mod devices;
pub mod font;
pub mod headless;
pub mod logbuf;
pub mod mapped;
pub mod probe;
pub mod screenshots;
pub mod view;

/// The compiled `.slint` screens (`ui/app.slint`).
#[allow(missing_debug_implementations, clippy::all, clippy::pedantic)]
pub mod ui {
    slint::include_modules!();
}

pub use app::App;
pub use controller::Kiosk;
