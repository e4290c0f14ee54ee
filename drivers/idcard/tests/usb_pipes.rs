//! The four-pipe USB adapter, with the simulator behind in-process pipes that route bytes the way
//! the SAM USB module does: frame headers on 0x02/0x81, the rest on 0x06/0x85. The same driver
//! against a real USB stack runs in the virtual rig (hw-tests).

use std::collections::VecDeque;
use std::time::Duration;

use kiosk_idcard::sim::{Simulator, sample_cards};
use kiosk_idcard::usb::{BulkPipes, SamUsbLink};
use kiosk_idcard::{ReadOptions, Reader, SamId};
use kiosk_transport::LinkError;

struct SimPipes {
    sim: Simulator,
    /// Host writes, per OUT endpoint, in order.
    writes: Vec<(u8, usize)>,
    header_in: VecDeque<u8>,
    body_in: VecDeque<u8>,
    out: Vec<u8>,
}

impl SimPipes {
    fn new(sim: Simulator) -> Self {
        Self {
            sim,
            writes: Vec::new(),
            header_in: VecDeque::new(),
            body_in: VecDeque::new(),
            out: Vec::new(),
        }
    }
}

impl BulkPipes for SimPipes {
    fn write_ep(&mut self, ep: u8, bytes: &[u8], _timeout: Duration) -> Result<(), LinkError> {
        self.writes.push((ep, bytes.len()));
        self.out.extend_from_slice(bytes);
        if ep == 0x06 {
            let command = std::mem::take(&mut self.out);
            for reply in self.sim.feed(&command, None) {
                self.header_in.extend(&reply.bytes[..7]);
                self.body_in.extend(&reply.bytes[7..]);
            }
        }
        Ok(())
    }

    fn read_ep(&mut self, ep: u8, buf: &mut [u8], _timeout: Duration) -> Result<usize, LinkError> {
        let queue = match ep {
            0x81 => &mut self.header_in,
            0x85 => &mut self.body_in,
            other => panic!("read from unexpected endpoint {other:#04x}"),
        };
        // Full-speed bulk packets carry at most 64 bytes.
        let n = buf.len().min(queue.len()).min(64);
        for b in buf.iter_mut().take(n) {
            *b = queue.pop_front().unwrap();
        }
        Ok(n)
    }

    fn discard(&mut self) {
        self.header_in.clear();
        self.body_in.clear();
    }

    fn describe(&self) -> String {
        "in-process SAM pipes".into()
    }
}

#[test]
fn reads_a_card_through_four_pipes() {
    let (_, card) = sample_cards().into_iter().find(|(n, _)| *n == "resident_long_term").unwrap();
    let mut sim = Simulator::new(SamId { a: 5, b: 1, c: 20_240_101, d: 1, e: 2 });
    sim.place_card(card.clone());
    let pipes = SimPipes::new(sim);
    let mut reader = Reader::new(Box::new(SamUsbLink::new(pipes)));
    assert_eq!(reader.sam_id().unwrap().to_string(), "05.01-20240101-0000000001-0000000002");
    let got = reader
        .read_card(ReadOptions { fingerprint: true, appended_addresses: true })
        .unwrap()
        .expect("card present");
    assert_eq!(got, card);
    assert_eq!(got.fingerprint.as_ref().map(Vec::len), Some(1024));
}

#[test]
fn frames_are_split_seven_header_bytes_then_the_body() {
    use kiosk_transport::Link;
    let pipes = SimPipes::new(Simulator::new(SamId { a: 5, b: 1, c: 0, d: 0, e: 0 }));
    let mut link = SamUsbLink::new(pipes);
    link.send(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x11, 0xFF, 0xED]).unwrap();
    assert_eq!(link.pipes().writes, vec![(0x02, 7), (0x06, 3)]);
    let mut buf = [0u8; 64];
    let n = link.recv(&mut buf, Duration::from_millis(10)).unwrap();
    assert_eq!(&buf[..n], &[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04], "header from 0x81");
    let n = link.recv(&mut buf, Duration::from_millis(10)).unwrap();
    assert_eq!(&buf[..n], &[0x00, 0x00, 0x90, 0x94], "body from 0x85");
    // Nothing more is pending: the next read goes back to the header pipe and finds it empty.
    assert_eq!(link.recv(&mut buf, Duration::from_millis(5)).unwrap(), 0);
}
