//! A full read, at the most verbose log level, leaves no name, number or address in the logs,
//! and the card's `Debug` output is masked.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::card;
use kiosk_idcard::{ReadOptions, Reader, ReaderEvent, ReaderService, ServiceConfig};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The secrets of a card, as text and as the UCS-2 hex a careless frame dump would show.
fn secrets(c: &kiosk_idcard::IdCard) -> Vec<String> {
    let mut out = vec![c.name.clone(), c.id_number.clone(), c.id_number[6..14].to_owned()];
    out.extend(c.address.iter().cloned());
    out.extend(c.appended_addresses.iter().cloned());
    out.push(c.birth_date.compact());
    let hex: Vec<String> = out
        .iter()
        .map(|s| s.encode_utf16().flat_map(|u| u.to_le_bytes()).map(|b| format!("{b:02x}")).collect())
        .collect();
    out.extend(hex.iter().map(|h| h.to_uppercase()));
    out.extend(hex);
    out
}

#[test]
fn a_full_read_logs_nothing_personal() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let expected = card("resident");
    tracing::subscriber::with_default(subscriber, || {
        let rig = common::with_card(expected.clone());
        let (mut reader, _) = Reader::open(&common::port(&rig)).unwrap();
        let got = reader.read_card(ReadOptions::default()).unwrap().unwrap();
        tracing::info!(card = ?got, "what a careless log line would print");

        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            rig.sim().lift_card();
            rig.sim().place_card(expected.clone());
            let mut config = ServiceConfig::new(common::port(&rig));
            config.poll_interval = Duration::from_millis(300);
            drop(reader);
            let mut service = ReaderService::spawn(config).unwrap();
            loop {
                match tokio::time::timeout(Duration::from_secs(10), service.next_event()).await {
                    Ok(Some(ReaderEvent::CardRead(c))) => {
                        tracing::info!(event = ?c, "card event");
                        break;
                    }
                    Ok(Some(other)) => tracing::info!(event = ?other, "event"),
                    other => panic!("no card event: {other:?}"),
                }
            }
            service.shutdown().await;
        });
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("card read"), "the capture works: {logs}");
    assert!(logs.contains("TRACE"), "trace level was captured");
    for secret in secrets(&expected) {
        assert!(!logs.contains(&secret), "log contains {secret:?}:\n{logs}");
    }
    // The masked forms are what a technician sees.
    assert!(logs.contains("陈*"), "{logs}");
    assert!(logs.contains("4406**********1237"), "{logs}");
}

#[test]
fn debug_output_is_masked() {
    let c = card("resident");
    let debug = format!("{c:?}");
    for secret in secrets(&c) {
        assert!(!debug.contains(&secret), "{debug}");
    }
    assert!(debug.contains("陈*") && debug.contains("1990-**-**"), "{debug}");
}
