//! The reader as the rest of the kiosk sees it: a background thread that connects, polls for
//! cards, reads them and delivers events (to a callback, or a tokio channel), recovering by
//! itself when the reader is unplugged and plugged back. The printer's and the scanner's
//! services have the same shape.
//!
//! A thread, not a task: serial and USB I/O block, and a card read can take seconds.

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use kiosk_transport::Deliver;
use tokio::sync::mpsc;

use crate::card::IdCard;
use crate::reader::{MIN_POLL_INTERVAL, ReadOptions, Reader, ReaderError, ReaderInfo, ReaderPort};
use crate::status::Status;

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub port: ReaderPort,
    /// Time between card polls; never below 300 ms, whatever is configured.
    pub poll_interval: Duration,
    /// Time between attempts to reach a reader that is absent.
    pub reconnect_interval: Duration,
    pub read: ReadOptions,
}

impl ServiceConfig {
    pub fn new(port: ReaderPort) -> Self {
        Self {
            port,
            poll_interval: Duration::from_millis(500),
            reconnect_interval: Duration::from_secs(1),
            read: ReadOptions::default(),
        }
    }
}

/// Why the resident should lift the card and place it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiftReason {
    /// The card on the reader was read already; readers only find it again after it is lifted.
    AlreadyRead,
    /// The card did not answer properly (moved, tilted, or lifted during the read).
    CardProblem(Status),
}

/// What the reader reports.
#[derive(Debug)]
pub enum ReaderEvent {
    /// A reader answered and its SAM is healthy.
    Ready(ReaderInfo),
    /// A card was read. The card is wiped from memory when this event is dropped.
    CardRead(Box<IdCard>),
    /// Ask the resident to lift and re-place the card; not a fault.
    LiftAndReplace(LiftReason),
    /// The reader is there but not working; a technician should look (the message says what).
    Fault(String),
    /// The reader is gone (unplugged, powered off); the service keeps trying to reach it.
    Disconnected { device: String },
}

enum Control {
    ReadAgain,
    Shutdown,
}

/// Handle to the reader thread. Dropping it stops the thread.
#[derive(Debug)]
pub struct ReaderService {
    /// Set when events go to a channel ([`ReaderService::spawn`]).
    events: Option<mpsc::Receiver<ReaderEvent>>,
    control: std_mpsc::Sender<Control>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Control::ReadAgain => "ReadAgain",
            Control::Shutdown => "Shutdown",
        })
    }
}

impl ReaderService {
    /// A service whose events are read with [`ReaderService::next_event`].
    pub fn spawn(config: ServiceConfig) -> std::io::Result<Self> {
        let (tx, events) = mpsc::channel(16);
        let mut service = Self::spawn_delivering(config, Box::new(move |e| tx.blocking_send(e).is_ok()))?;
        service.events = Some(events);
        Ok(service)
    }

    /// A service that hands every event to `deliver` on its own thread.
    pub fn spawn_delivering(config: ServiceConfig, deliver: Deliver<ReaderEvent>) -> std::io::Result<Self> {
        let (control, control_rx) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("idcard-reader".into())
            .spawn(move || Worker::new(config, deliver, control_rx).run())?;
        Ok(Self { events: None, control, thread: Some(thread) })
    }

    /// The next event; `None` once the service has stopped, or when its events go to a
    /// callback ([`ReaderService::spawn_delivering`]).
    pub async fn next_event(&mut self) -> Option<ReaderEvent> {
        self.events.as_mut()?.recv().await
    }

    /// The app wants the card (again), for example after the resident pressed "read again".
    /// If the card on the reader was already read, the answer is [`LiftReason::AlreadyRead`].
    pub fn request_read(&self) {
        let _ = self.control.send(Control::ReadAgain);
    }

    /// Stops the thread and waits for it, without blocking the runtime.
    pub async fn shutdown(mut self) {
        let _ = self.control.send(Control::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

impl Drop for ReaderService {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Shutdown);
    }
}

struct Worker {
    config: ServiceConfig,
    deliver: Deliver<ReaderEvent>,
    control: std_mpsc::Receiver<Control>,
    reader: Option<Reader>,
    /// The last problem reported while unconnected, so a missing reader is reported once, not
    /// every second.
    reported_down: Option<String>,
    card_was_read: bool,
    read_requested: bool,
}

impl Worker {
    fn new(
        config: ServiceConfig,
        deliver: Deliver<ReaderEvent>,
        control: std_mpsc::Receiver<Control>,
    ) -> Self {
        Self {
            config,
            deliver,
            control,
            reader: None,
            reported_down: None,
            card_was_read: false,
            read_requested: false,
        }
    }

    fn emit(&mut self, event: ReaderEvent) -> bool {
        (self.deliver)(event)
    }

    fn run(mut self) {
        loop {
            let alive = match self.reader.take() {
                None => self.connect(),
                Some(reader) => self.poll(reader),
            };
            if !alive {
                return;
            }
            let wait = if self.reader.is_some() {
                self.config.poll_interval.max(MIN_POLL_INTERVAL)
            } else {
                self.config.reconnect_interval
            };
            match self.control.recv_timeout(wait) {
                Ok(Control::ReadAgain) => self.read_requested = true,
                Ok(Control::Shutdown) | Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
                Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Returns false when nobody listens any more.
    fn connect(&mut self) -> bool {
        match Reader::open(&self.config.port) {
            Ok((reader, info)) => {
                self.reader = Some(reader);
                self.reported_down = None;
                self.emit(ReaderEvent::Ready(info))
            }
            Err(e) => {
                let message = e.to_string();
                if self.reported_down.as_ref() == Some(&message) {
                    return true;
                }
                tracing::warn!(port = %self.config.port, error = %message, "ID card reader unavailable");
                self.reported_down = Some(message.clone());
                self.emit(if e.is_disconnect() || matches!(e, ReaderError::NoReader { .. }) {
                    ReaderEvent::Disconnected { device: self.config.port.to_string() }
                } else {
                    ReaderEvent::Fault(message)
                })
            }
        }
    }

    fn poll(&mut self, mut reader: Reader) -> bool {
        let outcome = match reader.find_card() {
            Ok(false) => {
                if std::mem::take(&mut self.read_requested) && self.card_was_read {
                    return self.keep(reader, ReaderEvent::LiftAndReplace(LiftReason::AlreadyRead));
                }
                self.reader = Some(reader);
                return true;
            }
            Ok(true) => {
                self.card_was_read = false;
                self.read_requested = false;
                reader.read_found_card(self.config.read)
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(card) => {
                self.card_was_read = true;
                tracing::info!(kind = card.kind.key(), "card read");
                self.keep(reader, ReaderEvent::CardRead(Box::new(card)))
            }
            Err(e) => match e.card_placement_status() {
                Some(status) => {
                    tracing::info!(%status, "card read failed; asking to re-place the card");
                    self.keep(reader, ReaderEvent::LiftAndReplace(LiftReason::CardProblem(status)))
                }
                None if e.is_disconnect() => {
                    tracing::warn!(error = %e, "ID card reader disconnected");
                    self.reported_down = Some(e.to_string());
                    self.emit(ReaderEvent::Disconnected { device: reader.describe() })
                }
                // Anything else: report, drop the connection and start again from the probe, as
                // power-cycling the reader would.
                None => {
                    tracing::warn!(error = %e, "ID card reader fault");
                    self.emit(ReaderEvent::Fault(e.to_string()))
                }
            },
        }
    }

    fn keep(&mut self, reader: Reader, event: ReaderEvent) -> bool {
        self.reader = Some(reader);
        self.emit(event)
    }
}
