//! Live questions to the sync agent, off the UI thread: each question the core asks
//! (`kiosk_app::lookup::Ask`) runs on a thread of its own with `kiosk-live`'s client, and its
//! answer is queued for the pump with its number (an answer the resident no longer waits for is
//! dropped by the core). The agent's deadline bounds each thread; the UI never waits on it.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use kiosk_app::lookup::{Ask, LiveFailure, Question, Reply};
use kiosk_live::{LiveError, LocalClient};
use kiosk_sync_proto::live::{Progress, Records, Service};

/// An answer with the number of its question.
pub type Answer = (u64, Result<Reply, LiveFailure>);

/// Longer than the agent's own deadline (4 s by default): its `timeout` answer is what arrives.
const WAIT_FOR_AGENT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct Live {
    client: Option<LocalClient>,
    wake: fn(),
    answers: (mpsc::Sender<Answer>, mpsc::Receiver<Answer>),
}

impl Live {
    /// Asks the agent at `socket`; without one (not configured) every question is answered
    /// "unavailable" at once.
    pub fn new(socket: Option<PathBuf>, wake: fn()) -> Self {
        Self { client: socket.map(|s| LocalClient::new(s, WAIT_FOR_AGENT)), wake, answers: mpsc::channel() }
    }

    pub fn ask(&self, ask: Ask) {
        let tx = self.answers.0.clone();
        let Some(client) = self.client.clone() else {
            let _ = tx.send((ask.id, Err(LiveFailure::Unavailable)));
            (self.wake)();
            return;
        };
        let wake = self.wake;
        std::thread::spawn(move || {
            let Ask { id, question } = ask;
            let answer = match &question {
                Question::Records(query) => {
                    client.ask::<Records>(Service::Records, query).map(Reply::Records)
                }
                Question::Progress(query) => {
                    client.ask::<Progress>(Service::Progress, query).map(Reply::Progress)
                }
            };
            drop(question);
            let answer = answer.map_err(|e| {
                tracing::info!(error = %e, "live question not answered");
                failure(&e)
            });
            let _ = tx.send((id, answer));
            wake();
        });
    }

    /// The answers that arrived since the last call.
    pub fn answers(&self) -> impl Iterator<Item = Answer> + '_ {
        self.answers.1.try_iter()
    }
}

fn failure(e: &LiveError) -> LiveFailure {
    match e {
        LiveError::NetworkUnavailable(_) => LiveFailure::NetworkUnavailable,
        LiveError::Timeout => LiveFailure::Timeout,
        LiveError::Refused { code, .. } if code == kiosk_sync_proto::live::problem::NOT_FOUND => {
            LiveFailure::NotFound
        }
        _ => LiveFailure::Unavailable,
    }
}
