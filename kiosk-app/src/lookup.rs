//! Live questions: what the shell carries to the sync agent ([`Ask`]), the answer or why there is
//! none, and a resident's own records (the masked summary slip is `records_slip.rs`; progress
//! lookups are `progress.rs`). Answers hold personal data: they are wiped when the lookup ends
//! (the protocol's answers zeroise themselves), and only masked values reach the screen and the
//! slip.

use kiosk_catalogue::model::Record;
use kiosk_sync_proto::live::{Person, Progress, ProgressQuery, Records, RecordsQuery};

/// A live question for the shell to carry out (the agent's local API, off the UI thread),
/// answered with `Session::live_answer` and the same `id`: an answer to an older question (the
/// resident paged on, or left) is dropped.
#[derive(Debug)]
pub struct Ask {
    pub id: u64,
    pub question: Question,
}

#[derive(Debug)]
pub enum Question {
    Records(RecordsQuery),
    Progress(ProgressQuery),
}

/// The agent's answer to a [`Question`], of the same service.
#[derive(Debug)]
pub enum Reply {
    Records(Records),
    Progress(Progress),
}

/// Why a live question has no answer, as the screen words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveFailure {
    /// The service network cannot be reached; what still works offline is said.
    NetworkUnavailable,
    /// No answer in time.
    Timeout,
    /// The service network has no such record for this person.
    NotFound,
    /// Anything else: the agent is not running, the service network failed.
    Unavailable,
}

/// Where a lookup is.
#[derive(Debug)]
pub enum State<T = Records> {
    Waiting,
    Shown(Box<T>),
    Failed(LiveFailure),
}

/// The records screen's lookup.
#[derive(Debug)]
pub struct Lookup {
    pub record: Record,
    pub page: u32,
    pub state: State,
    /// The question out now.
    pub asked: u64,
    /// The masked holder, for the screen and the slip.
    pub holder: String,
    pub holder_number: String,
}

impl Lookup {
    pub fn new(record: Record, name: &str, id_number: &str) -> Self {
        Self {
            record,
            page: 0,
            state: State::Waiting,
            asked: 0,
            holder: kiosk_pii::mask_name(name),
            holder_number: kiosk_pii::mask_id_number(id_number),
        }
    }

    /// The question for `page`, numbered `id`.
    pub fn ask(&mut self, id: u64, page: u32, person: Person) -> Ask {
        self.page = page;
        self.asked = id;
        self.state = State::Waiting;
        Ask {
            id,
            question: Question::Records(RecordsQuery { record: self.record.code().to_owned(), person, page }),
        }
    }

    pub fn records(&self) -> Option<&Records> {
        match &self.state {
            State::Shown(r) => Some(r),
            _ => None,
        }
    }
}

/// Money in fen as the screen and the slip show it: `1,234.56`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_and_signed() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123_456), "1,234.56");
        assert_eq!(yuan(-100_000_000), "-1,000,000.00");
    }
}
