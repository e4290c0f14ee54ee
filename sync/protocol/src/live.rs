//! Live services: questions a resident asks the service network while standing at the kiosk (my
//! records, and later progress, appointments and certificates). The UI never talks to the
//! network: it asks the sync agent on a local Unix socket (`/local/v1/...`, no signature; the
//! socket's group and the caller's credentials guard it), and the agent forwards the question to
//! the gateway (`/v1/live/...`), signed like an upload, within a deadline. Both hops carry the
//! same bodies, defined here once.
//!
//! Questions and answers carry personal data: they are wiped when dropped and their `Debug`
//! shows no value.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The gateway's live endpoints are under this prefix, the agent's local ones under
/// [`LOCAL_PREFIX`]; the rest of the path is the service's name ([`Service::path`]).
pub const GATEWAY_PREFIX: &str = "/v1/live/";
pub const LOCAL_PREFIX: &str = "/local/v1/";

/// The local API's own health endpoint: the agent answers it without the network.
pub const LOCAL_STATUS: &str = "/local/v1/status";

/// Problem codes of the local API (the body is a [`crate::Problem`]). The UI words each.
pub mod problem {
    /// The agent knows the link to the service network is down: answered at once.
    pub const NETWORK_UNAVAILABLE: &str = "network_unavailable";
    /// The service network did not answer within the request's deadline.
    pub const TIMEOUT: &str = "timeout";
    /// The service network answered with an error of its own (5xx, or a problem it names).
    pub const UPSTREAM: &str = "upstream_error";
    /// The question was malformed (the UI's fault, never the resident's).
    pub const BAD_REQUEST: &str = "bad_request";
    /// No such record or person at the service network.
    pub const NOT_FOUND: &str = "not_found";
    /// The caller is not in the kiosk's group.
    pub const FORBIDDEN: &str = "forbidden";
    pub const ALL: &[&str] = &[NETWORK_UNAVAILABLE, TIMEOUT, UPSTREAM, BAD_REQUEST, NOT_FOUND, FORBIDDEN];
}

/// The live services the agent forwards; anything else on the socket is refused, so the agent
/// is no open proxy to the service network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// A resident's own records (social insurance contributions, housing provident fund).
    Records,
}

impl Service {
    pub const ALL: [Service; 1] = [Service::Records];

    /// The path's last part, the same at both hops.
    pub fn name(self) -> &'static str {
        match self {
            Service::Records => "records",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The agent's local path (`/local/v1/records`).
    pub fn local_path(self) -> String {
        format!("{LOCAL_PREFIX}{}", self.name())
    }

    /// The gateway's path (`/v1/live/records`).
    pub fn gateway_path(self) -> String {
        format!("{GATEWAY_PREFIX}{}", self.name())
    }
}

/// Who asks: the person on the card the kiosk read (the SAM module authenticated it).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Person {
    pub id_number: String,
    pub name: String,
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Person { .. }")
    }
}

/// Which record a query item shows (the catalogue's `record` of a `query` item).
pub mod record {
    /// 社保缴费记录: monthly contributions per insurance.
    pub const SOCIAL_INSURANCE: &str = "social_insurance";
    /// 公积金余额与明细: the account's movements and balance.
    pub const HOUSING_FUND: &str = "housing_fund";
    pub const ALL: &[&str] = &[SOCIAL_INSURANCE, HOUSING_FUND];
}

/// `POST records`: one page of a person's record, newest first.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct RecordsQuery {
    /// One of [`record::ALL`].
    pub record: String,
    pub person: Person,
    /// From 0.
    #[serde(default)]
    pub page: u32,
}

impl std::fmt::Debug for RecordsQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordsQuery").field("record", &self.record).field("page", &self.page).finish()
    }
}

/// A figure of the record's summary: what it is (a code the screen words) and its amount.
/// `Debug` shows the key only.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct Figure {
    /// `balance`, `monthly_deposit`, `months_paid`, `total_personal`, `total_employer`.
    pub key: String,
    /// Money in fen (1/100 yuan), or a count for `months_paid`.
    pub value: i64,
}

/// One line of a record. `Debug` shows its period and kind only.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct RecordRow {
    /// The month (`2026-10`) or the day (`2026-10-15`) it belongs to.
    pub period: String,
    /// What it is, a code the screen words: `pension`, `medical`, `unemployment`, `injury`
    /// (contributions), `deposit`, `withdrawal`, `interest` (provident fund).
    pub kind: String,
    /// The person's part, in fen (negative for a withdrawal).
    pub amount: i64,
    /// The employer's part (contributions), or the balance after it (provident fund), in fen.
    pub other: i64,
    /// The contribution base, in fen (contributions); 0 otherwise.
    #[serde(default)]
    pub base: i64,
    /// The paying employer or the office, in the service network's words.
    #[serde(default)]
    pub payer: String,
}

impl std::fmt::Debug for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Figure").field("key", &self.key).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RecordRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordRow")
            .field("period", &self.period)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The answer to [`RecordsQuery`].
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Records {
    pub record: String,
    /// The account or insurance number, masked by the service network as it would print it.
    pub account: String,
    pub summary: Vec<Figure>,
    pub rows: Vec<RecordRow>,
    pub page: u32,
    pub pages: u32,
    /// When the service network last updated the record (`2026-11-29`).
    pub as_of: String,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("record", &self.record)
            .field("rows", &self.rows.len())
            .field("page", &self.page)
            .finish_non_exhaustive()
    }
}

/// What `GET /local/v1/status` says: whether the agent believes the service network reachable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalStatus {
    pub kiosk_id: String,
    pub online: bool,
    /// Seconds since the last answer from the service network, when there was one.
    pub last_contact_secs: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_name_their_paths_at_both_hops() {
        assert_eq!(Service::Records.local_path(), "/local/v1/records");
        assert_eq!(Service::Records.gateway_path(), "/v1/live/records");
        assert_eq!(Service::from_name("records"), Some(Service::Records));
        assert_eq!(Service::from_name("status"), None);
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let q = RecordsQuery {
            record: record::HOUSING_FUND.into(),
            person: Person { id_number: "440602199001011234".into(), name: "陈小明".into() },
            page: 0,
        };
        let shown = format!("{q:?} {:?}", q.person);
        assert!(!shown.contains("4406") && !shown.contains("陈"), "{shown}");
        let mut r = Records::default();
        r.rows.push(RecordRow { period: "2026-10".into(), amount: 123_456, ..Default::default() });
        assert!(!format!("{r:?}").contains("123456"));
    }
}
