//! The kiosk's devices seen from the UI: the three drivers' services (reader, printer, scanner),
//! each on its own thread, deliver into one channel and wake the UI's event loop, which takes the
//! event at once; the UI thread never waits on a device.

use std::sync::mpsc;

use kiosk_config::DeviceConfig;
use kiosk_escpos::{PrinterEvent, PrinterService, Slip};
use kiosk_idcard::{ReaderEvent, ReaderService, ServiceConfig};
use kiosk_scanner::{ScannerEvent, ScannerService};
use kiosk_transport::Deliver;

pub use kiosk_escpos::PrintProblem;

#[derive(Debug)]
pub enum Event {
    Reader(ReaderEvent),
    Scanner(ScannerEvent),
    Printer(PrinterEvent),
}

/// Handles to the running device services; dropping it stops them.
#[derive(Debug)]
pub struct Devices {
    pub events: mpsc::Receiver<Event>,
    printer: Option<PrinterService>,
    _reader: Option<ReaderService>,
    _scanner: Option<ScannerService>,
}

/// A service's events into the UI's channel, each followed by `wake` (which has the UI's event
/// loop take it now rather than at its next tick).
fn deliver<E: Send + 'static>(tx: &mpsc::Sender<Event>, wrap: fn(E) -> Event, wake: fn()) -> Deliver<E> {
    let tx = tx.clone();
    Box::new(move |e| {
        let delivered = tx.send(wrap(e)).is_ok();
        wake();
        delivered
    })
}

impl Devices {
    /// Starts a service for each configured device; `wake` is called after every event.
    pub fn start(config: &DeviceConfig, wake: fn()) -> std::io::Result<Self> {
        let (tx, events) = mpsc::channel();
        let reader = config
            .reader
            .as_ref()
            .map(|port| {
                ReaderService::spawn_delivering(
                    ServiceConfig::new(port.clone()),
                    deliver(&tx, Event::Reader, wake),
                )
            })
            .transpose()?;
        let scanner = config
            .scanner
            .as_ref()
            .map(|(device, mode, scan)| {
                ScannerService::spawn_delivering(
                    device.clone(),
                    *mode,
                    scan.clone(),
                    deliver(&tx, Event::Scanner, wake),
                )
            })
            .transpose()?;
        let printer = config
            .printer
            .as_ref()
            .map(|device| {
                PrinterService::spawn_delivering(device.clone(), deliver(&tx, Event::Printer, wake))
            })
            .transpose()?;
        Ok(Self { events, printer, _reader: reader, _scanner: scanner })
    }

    /// Queues a slip; the outcome comes back as [`PrinterEvent::Printed`].
    pub fn print(&self, slip: Slip) -> bool {
        self.printer.as_ref().is_some_and(|p| p.print(slip))
    }

    pub fn print_test_slip(&self) -> bool {
        self.printer.as_ref().is_some_and(PrinterService::print_test_slip)
    }

    pub fn has_printer(&self) -> bool {
        self.printer.is_some()
    }
}
