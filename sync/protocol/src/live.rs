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
    /// How a resident's applications are progressing (办件进度查询): by card, or by the case
    /// number and query password on the slip.
    Progress,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::Records, Service::Progress];

    /// The path's last part, the same at both hops.
    pub fn name(self) -> &'static str {
        match self {
            Service::Records => "records",
            Service::Progress => "progress",
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

/// The steps of a case (`Step::step`), in the order a case goes through them; the screen
/// words each. 受理 is the department's act, never the kiosk's.
pub mod step {
    /// 提交: the service network received the application.
    pub const SUBMITTED: &str = "submitted";
    /// 受理: the department took the case on.
    pub const ACCEPTED: &str = "accepted";
    /// 审核: under review.
    pub const REVIEW: &str = "review";
    /// 补正: the department asks for more or corrected materials.
    pub const SUPPLEMENT: &str = "supplement";
    /// 办结: decided; the result is ready.
    pub const CONCLUDED: &str = "concluded";
    pub const ALL: &[&str] = &[SUBMITTED, ACCEPTED, REVIEW, SUPPLEMENT, CONCLUDED];
}

/// What the resident must do next (`Case::next`); the screen words each.
pub mod next {
    /// Nothing: the department is working on it.
    pub const WAIT: &str = "wait";
    /// Bring or send the materials the department names in `Case::note`.
    pub const SUPPLEMENT: &str = "supplement";
    /// Collect the result (a licence, a card) at the hall, or by post as chosen.
    pub const COLLECT: &str = "collect";
    /// Nothing more: the case is closed.
    pub const NONE: &str = "none";
    pub const ALL: &[&str] = &[WAIT, SUPPLEMENT, COLLECT, NONE];
}

/// `POST progress`: a resident's cases, either everything filed for the person on the card, or
/// one case by the number on its slip and the query password printed beside it. A wrong
/// password is answered as an unknown number, so a number alone reveals nothing.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct ProgressQuery {
    /// By card: the person the kiosk read.
    #[serde(default)]
    pub person: Option<Person>,
    /// By slip: the case number (办件编号), or the submission number (申办流水号) a slip
    /// printed before the case number came back.
    #[serde(default)]
    pub reference: String,
    /// By slip: the six digits of the query password.
    #[serde(default)]
    pub password: String,
}

impl std::fmt::Debug for ProgressQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressQuery")
            .field("by_card", &self.person.is_some())
            .field("by_slip", &!self.reference.is_empty())
            .finish()
    }
}

/// A step of a case: what it is and when it happened (China Standard Time, to the minute),
/// empty while it lies ahead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct Step {
    /// One of [`step::ALL`].
    pub step: String,
    #[serde(default)]
    pub at: String,
}

/// One case as the service network follows it. `Debug` shows its state only.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct Case {
    /// 办件编号.
    pub case_number: String,
    /// The kiosk's submission number it was filed under (empty for cases filed elsewhere).
    #[serde(default)]
    pub submission_id: String,
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    /// When the service network received it (China Standard Time, to the minute).
    pub received_at: String,
    /// Every step the case goes through, in order: done ones carry a time.
    pub steps: Vec<Step>,
    /// The index in `steps` of the step the case is at now.
    pub current: u32,
    /// One of [`next::ALL`].
    pub next: String,
    /// The department's own words on what it needs, or where to collect; may be empty.
    #[serde(default)]
    pub note: String,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("item_code", &self.item_code)
            .field("current", &self.current)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The answer to [`ProgressQuery`]: newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Progress {
    pub cases: Vec<Case>,
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
        assert_eq!(Service::Progress.local_path(), "/local/v1/progress");
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
