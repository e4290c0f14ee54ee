//! A simulated reader on the master side of a pseudo-terminal; the driver under test opens the
//! slave side by path with the real serial code, as it would open `/dev/ttyUSB0`.
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::path::PathBuf;

use kiosk_idcard::sim::{PtySim, Simulator, sample_cards};
use kiosk_idcard::{IdCard, ReaderPort, SamId};

pub const SAM: SamId = SamId { a: 5, b: 1, c: 20_240_612, d: 12_345, e: 1_234_567_890 };

pub fn start(sim: Simulator) -> PtySim {
    PtySim::start(sim).expect("pseudo-terminals are available")
}

pub fn with_card(card: IdCard) -> PtySim {
    let mut sim = Simulator::new(SAM);
    sim.place_card(card);
    start(sim)
}

pub fn port(rig: &PtySim) -> ReaderPort {
    ReaderPort::Serial { path: rig.path.clone(), baud: None }
}

pub fn card(name: &str) -> IdCard {
    sample_cards().into_iter().find(|(n, _)| *n == name).expect("known sample card").1
}

pub fn temp_link(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("kiosk-idcard-{}-{name}", std::process::id()))
}
