//! The state of each part of the kiosk (devices, uploads, clock, updates) as the UI and the
//! agent record it beside the queue: the maintenance screen shows it and the heartbeat carries
//! it. Typed, so that a reader decides on `Health` and never on the wording of `detail`.

use serde::Serialize;

/// A part of the kiosk with a state of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The ID card reader (kiosk-ui).
    Idcard,
    /// The receipt printer (kiosk-ui).
    Printer,
    /// The QR/barcode scanner (kiosk-ui).
    Scanner,
    /// Whether uploads get through, and if not, the agent's words for why.
    Uploads,
    /// The kiosk's clock against the gateway's.
    Clock,
    /// The last catalogue release check: installed, current or refused.
    CatalogueUpdate,
    /// The running OS release and slot.
    Os,
    /// The last OS release check.
    OsUpdate,
}

impl Part {
    pub const ALL: [Part; 8] = [
        Part::Idcard,
        Part::Printer,
        Part::Scanner,
        Part::Uploads,
        Part::Clock,
        Part::CatalogueUpdate,
        Part::Os,
        Part::OsUpdate,
    ];

    /// The stored and reported name (`catalogue_update`); stable across versions.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Idcard => "idcard",
            Part::Printer => "printer",
            Part::Scanner => "scanner",
            Part::Uploads => "uploads",
            Part::Clock => "clock",
            Part::CatalogueUpdate => "catalogue_update",
            Part::Os => "os",
            Part::OsUpdate => "os_update",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// How a part is: what the maintenance screen colours and the fleet view sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    /// Works, but needs a look (paper low, an update refused, the clock off).
    Warning,
    /// Does not work (disconnected, faulty, uploads refused).
    Fault,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Warning => "warning",
            Health::Fault => "fault",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Health::Ok, Health::Warning, Health::Fault].into_iter().find(|h| h.as_str() == name)
    }
}

/// A part's state: its health, and words for the technician (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartState {
    pub health: Health,
    pub detail: String,
}

impl PartState {
    pub fn ok(detail: impl Into<String>) -> Self {
        Self { health: Health::Ok, detail: detail.into() }
    }

    pub fn warning(detail: impl Into<String>) -> Self {
        Self { health: Health::Warning, detail: detail.into() }
    }

    pub fn fault(detail: impl Into<String>) -> Self {
        Self { health: Health::Fault, detail: detail.into() }
    }
}

impl std::fmt::Display for PartState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.health, self.detail.is_empty()) {
            (health, true) => f.write_str(health.as_str()),
            (Health::Ok, false) => f.write_str(&self.detail),
            (health, false) => write!(f, "{}: {}", health.as_str(), self.detail),
        }
    }
}
