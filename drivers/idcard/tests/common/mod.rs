//! A simulated reader on the master side of a pseudo-terminal; the driver under test opens the
//! slave side by path with the real serial code, as it would open `/dev/ttyUSB0`.
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::path::{Path, PathBuf};

use kiosk_idcard::sim::{SimLine, SimServer, Simulator, sample_cards};
use kiosk_idcard::{IdCard, ReaderPort, SamId};
use serialport::{SerialPort, TTYPort};

pub const SAM: SamId = SamId { a: 5, b: 1, c: 20_240_612, d: 12_345, e: 1_234_567_890 };

pub struct PtyReader {
    pub server: SimServer,
    /// Held open so the pty stays up while the driver closes and reopens its side.
    _slave: TTYPort,
    pub path: String,
}

impl PtyReader {
    pub fn start(sim: Simulator) -> Self {
        let (master, slave) = TTYPort::pair().expect("pseudo-terminals are available");
        let path = slave.name().expect("a pty slave has a path");
        let server = SimServer::spawn(Box::new(master), SimLine::PtyMaster, sim).unwrap();
        Self { server, _slave: slave, path }
    }

    pub fn with_card(card: IdCard) -> Self {
        let mut sim = Simulator::new(SAM);
        sim.place_card(card);
        Self::start(sim)
    }

    pub fn port(&self) -> ReaderPort {
        ReaderPort::Serial { path: self.path.clone(), baud: None }
    }

    /// Makes `link` point at this pty, as udev's `/dev/serial/by-id` links point at the tty.
    pub fn link_as(&self, link: &Path) {
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&self.path, link).unwrap();
    }
}

pub fn card(name: &str) -> IdCard {
    sample_cards().into_iter().find(|(n, _)| *n == name).expect("known sample card").1
}

pub fn temp_link(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("kiosk-idcard-{}-{name}", std::process::id()))
}
