//! 办件进度查询: how a resident's applications are progressing, asked live. Two ways in: by the
//! card ("my applications": everything the service network filed for this person, and what still
//! waits in this kiosk's outbox, shown as such), or by the slip (its case number, typed or scanned
//! from its QR code, and the query password printed beside it), which needs no card at all.
//!
//! The answer and the typed password are personal data: wiped when the lookup ends.

use kiosk_sync_proto::live::{Person, Progress, ProgressQuery};
use zeroize::Zeroizing;

use crate::lookup::{Ask, Question, State};
use crate::receipt::TRACKING_BASE;

/// Digits of a case number after its `NH` (a date and a six-digit sequence).
pub const CASE_DIGITS: usize = 14;
/// Digits of the slip's query password.
pub const PASSWORD_DIGITS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// By the card read: the resident's own applications.
    Mine,
    /// By the slip: one case by its number and password.
    Slip,
}

/// Which of the slip's two numbers the keypad types into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Entry {
    #[default]
    Reference,
    Password,
}

/// An application of this resident that the kiosk has not handed to the service network yet
/// (it waits in the outbox, for example while the network is down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingHere {
    pub item_name: String,
    /// China Standard Time, as the slip printed it.
    pub submitted_at: String,
    /// The submission number on the slip (申办流水号).
    pub submission_id: String,
}

/// An unsent application as the shell read it from the outbox, for [`Lookup::waiting_read`]
/// to pick this resident's from.
#[derive(Debug)]
pub struct Unsent {
    pub submission_id: String,
    pub submission: kiosk_sync_proto::Submission,
}

/// The progress screen's lookup.
#[derive(Debug)]
pub struct Lookup {
    pub mode: Mode,
    /// `None` while the slip's numbers are being typed.
    pub state: Option<State<Progress>>,
    pub asked: u64,
    /// The masked holder, by card.
    pub holder: String,
    /// By slip: what was typed (digits after `NH`) or scanned (the whole reference).
    reference: Zeroizing<String>,
    password: Zeroizing<String>,
    pub entry: Entry,
    pub waiting_here: Vec<WaitingHere>,
    /// The case shown in full, by its index in the answer.
    pub open: Option<usize>,
}

impl Lookup {
    pub fn mine(holder: &str) -> Self {
        Self::new(Mode::Mine, kiosk_pii::mask_name(holder))
    }

    /// By slip, with the reference scanned from its QR code when there was one.
    pub fn slip(scanned: Option<String>) -> Self {
        let mut lookup = Self::new(Mode::Slip, String::new());
        if let Some(reference) = scanned {
            *lookup.reference = reference;
            lookup.entry = Entry::Password;
        }
        lookup
    }

    fn new(mode: Mode, holder: String) -> Self {
        Self {
            mode,
            state: None,
            asked: 0,
            holder,
            reference: Zeroizing::new(String::new()),
            password: Zeroizing::new(String::new()),
            entry: Entry::Reference,
            waiting_here: Vec::new(),
            open: None,
        }
    }

    /// The reference as the service network knows it: typed digits get their `NH`.
    pub fn reference(&self) -> String {
        if !self.reference.is_empty() && self.reference.bytes().all(|b| b.is_ascii_digit()) {
            format!("NH{}", &*self.reference)
        } else {
            self.reference.to_string()
        }
    }

    /// Whether the reference came from the slip's QR code (and is not typed).
    pub fn scanned(&self) -> bool {
        !self.reference.is_empty() && !self.reference.bytes().all(|b| b.is_ascii_digit())
    }

    pub fn password_len(&self) -> usize {
        self.password.len()
    }

    /// Both numbers are complete enough to ask.
    pub fn can_search(&self) -> bool {
        let reference = self.scanned() || self.reference.len() == CASE_DIGITS;
        self.mode == Mode::Slip && reference && self.password.len() == PASSWORD_DIGITS
    }

    /// A digit of the keypad, into the number being typed; a full number moves on to the next.
    pub fn key(&mut self, digit: char) {
        if !digit.is_ascii_digit() || self.mode != Mode::Slip {
            return;
        }
        match self.entry {
            Entry::Reference => {
                if self.scanned() {
                    self.reference.clear();
                }
                if self.reference.len() < CASE_DIGITS {
                    self.reference.push(digit);
                }
                if self.reference.len() == CASE_DIGITS {
                    self.entry = Entry::Password;
                }
            }
            Entry::Password if self.password.len() < PASSWORD_DIGITS => self.password.push(digit),
            Entry::Password => {}
        }
    }

    pub fn backspace(&mut self) {
        match self.entry {
            // A scanned reference goes whole: it was never typed.
            Entry::Reference if self.scanned() => self.reference.clear(),
            Entry::Reference => {
                self.reference.pop();
            }
            Entry::Password => {
                self.password.pop();
            }
        }
    }

    /// A scan while the slip's numbers are typed: the slip's QR code fills the reference.
    pub fn scanned_code(&mut self, text: &str) -> bool {
        let Some(reference) = slip_reference(text) else { return false };
        *self.reference = reference;
        self.entry = Entry::Password;
        true
    }

    /// The question to ask now, numbered `id`: by card for `person`, else by slip.
    pub fn ask(&mut self, id: u64, person: Option<Person>) -> Option<Ask> {
        let query = match (self.mode, person) {
            (Mode::Mine, Some(person)) => {
                ProgressQuery { person: Some(person), reference: String::new(), password: String::new() }
            }
            (Mode::Slip, _) if self.can_search() => ProgressQuery {
                person: None,
                reference: self.reference(),
                password: self.password.to_string(),
            },
            _ => return None,
        };
        self.asked = id;
        self.open = None;
        self.state = Some(State::Waiting);
        Some(Ask { id, question: Question::Progress(query) })
    }

    /// The outbox's unsent applications: those of the person with `id_number` are kept (by
    /// their form's applicant number), the rest dropped at once.
    pub fn waiting_read(&mut self, unsent: Vec<Unsent>, id_number: &str) {
        self.waiting_here = unsent
            .into_iter()
            .filter(|u| u.submission.form.get("id_number").is_some_and(|n| n.eq_ignore_ascii_case(id_number)))
            .map(|u| WaitingHere {
                item_name: u.submission.item_name.clone(),
                submitted_at: u.submission.submitted_at.clone(),
                submission_id: u.submission_id,
            })
            .collect();
    }

    pub fn progress(&self) -> Option<&Progress> {
        match &self.state {
            Some(State::Shown(p)) => Some(p),
            _ => None,
        }
    }
}

/// The reference a slip's QR code carries (`receipt::TRACKING_BASE` + the case number or the
/// submission number); anything else is not a slip.
pub fn slip_reference(text: &str) -> Option<String> {
    let reference = text.trim().strip_prefix(TRACKING_BASE)?;
    let ok = !reference.is_empty()
        && reference.len() <= 64
        && reference.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| reference.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slip_numbers_are_typed_or_scanned() {
        let mut l = Lookup::slip(None);
        assert!(!l.can_search());
        for d in "20261201000042".chars() {
            l.key(d);
        }
        assert_eq!(l.reference(), "NH20261201000042");
        assert_eq!(l.entry, Entry::Password, "a whole case number moves on to the password");
        for d in "1234567".chars() {
            l.key(d);
        }
        assert_eq!(l.password_len(), PASSWORD_DIGITS, "no seventh digit");
        assert!(l.can_search());
        let Some(Ask { question: Question::Progress(q), .. }) = l.ask(7, None) else { panic!() };
        assert_eq!(
            (q.reference.as_str(), q.password.as_str(), q.person.is_none()),
            ("NH20261201000042", "123456", true)
        );

        let url = format!("{TRACKING_BASE}0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
        let mut scanned = Lookup::slip(slip_reference(&url));
        assert!(scanned.scanned() && scanned.entry == Entry::Password);
        assert_eq!(scanned.reference(), "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
        assert_eq!(slip_reference("https://example.com/t/NH1"), None, "another site's code is no slip");
        assert_eq!(slip_reference(&format!("{TRACKING_BASE}../../etc")), None);
        scanned.entry = Entry::Reference;
        scanned.backspace();
        assert_eq!(scanned.reference(), "", "a scanned number goes whole");
    }

    #[test]
    fn only_this_residents_waiting_applications_are_kept() {
        let unsent = |id: &str, number: &str| {
            let mut s = kiosk_sync_proto::Submission::default();
            s.item_name = "个人参保证明打印".into();
            s.submitted_at = "2026-12-01 10:00:00".into();
            s.form.0.push(kiosk_sync_proto::FormValue { key: "id_number".into(), value: number.into() });
            Unsent { submission_id: id.into(), submission: s }
        };
        let mut l = Lookup::mine("陈小明");
        assert_eq!(l.holder, "陈*明");
        l.waiting_read(
            vec![unsent("a", "44060219900101123x"), unsent("b", "110105194912310021")],
            "44060219900101123X",
        );
        assert_eq!(l.waiting_here.len(), 1);
        assert_eq!(l.waiting_here[0].submission_id, "a");
    }
}
