//! Running a device simulator: its state shared with the thread that serves a link, and
//! pseudo-terminals for serial devices. Shared by the simulators beside each driver.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serialport::{SerialPort, TTYPort};

/// A simulator's state and the thread serving it; dropping this stops and joins the thread.
pub struct SimThread<S> {
    state: Arc<Mutex<S>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl<S> std::fmt::Debug for SimThread<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimThread").finish_non_exhaustive()
    }
}

impl<S: Send + 'static> SimThread<S> {
    /// Runs `serve` on a new thread; it should return soon after `stop` turns true.
    pub fn spawn(
        name: &str,
        state: S,
        serve: impl FnOnce(&Mutex<S>, &AtomicBool) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (state, stop) = (Arc::new(Mutex::new(state)), Arc::new(AtomicBool::new(false)));
        let thread = std::thread::Builder::new().name(name.to_owned()).spawn({
            let (state, stop) = (state.clone(), stop.clone());
            move || serve(&state, &stop)
        })?;
        Ok(Self { state, stop, thread: Some(thread) })
    }

    /// The simulator's state, to change cards, paper or faults while it runs.
    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<S> Drop for SimThread<S> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The host side of a new pseudo-terminal, held open so the pty survives a host (the driver
/// under test) closing and reopening it by path.
#[derive(Debug)]
pub struct PtyHold {
    pub path: String,
    _slave: TTYPort,
}

/// A new pseudo-terminal: the master for the simulator, and the hold whose `path` the driver
/// opens as it would open `/dev/ttyUSB0`.
pub fn pty() -> std::io::Result<(TTYPort, PtyHold)> {
    let (master, slave) = TTYPort::pair()?;
    let path = slave.name().ok_or_else(|| std::io::Error::other("pseudo-terminal without a path"))?;
    Ok((master, PtyHold { path, _slave: slave }))
}
