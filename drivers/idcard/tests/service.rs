//! The async reader service over pseudo-terminals: events, re-placement, polling rate, and
//! recovery from a reader that is unplugged and plugged back.

mod common;

use std::time::Duration;

use common::{SAM, card, temp_link};
use kiosk_idcard::command::Command;
use kiosk_idcard::reader::MIN_POLL_INTERVAL;
use kiosk_idcard::sim::Simulator;
use kiosk_idcard::{LiftReason, ReaderEvent, ReaderPort, ReaderService, ServiceConfig, Status};

async fn next(service: &mut ReaderService) -> ReaderEvent {
    tokio::time::timeout(Duration::from_secs(15), service.next_event())
        .await
        .expect("an event within 15 s")
        .expect("the service is running")
}

fn config(port: ReaderPort) -> ServiceConfig {
    let mut c = ServiceConfig::new(port);
    c.poll_interval = Duration::from_millis(10); // raised to the 300 ms floor by the service
    c.reconnect_interval = Duration::from_millis(100);
    c
}

#[tokio::test]
async fn reads_a_card_then_asks_to_re_place_it() {
    let rig = common::start(Simulator::new(SAM));
    let mut service = ReaderService::spawn(config(common::port(&rig))).unwrap();
    match next(&mut service).await {
        ReaderEvent::Ready(info) => assert_eq!(info.sam_id, SAM),
        other => panic!("{other:?}"),
    }
    rig.sim().place_card(card("resident"));
    match next(&mut service).await {
        ReaderEvent::CardRead(c) => {
            assert_eq!(c.name, "陈喆");
            assert_eq!(c.current_address(), Some("广东省佛山市南海区大沥镇黄岐广佛路3号"));
        }
        other => panic!("{other:?}"),
    }
    // The app asks for the card again while it still lies on the reader.
    service.request_read();
    assert!(matches!(next(&mut service).await, ReaderEvent::LiftAndReplace(LiftReason::AlreadyRead)));
    rig.sim().lift_card();
    rig.sim().place_card(card("foreigner_2017"));
    match next(&mut service).await {
        ReaderEvent::CardRead(c) => assert_eq!(c.name_en.as_deref(), Some("MARTIN, CLAIRE ELODIE")),
        other => panic!("{other:?}"),
    }
    service.shutdown().await;
}

#[tokio::test]
async fn a_failed_read_is_a_re_placement_prompt_not_a_fault() {
    let rig = common::start(Simulator::new(SAM));
    let mut service = ReaderService::spawn(config(common::port(&rig))).unwrap();
    assert!(matches!(next(&mut service).await, ReaderEvent::Ready(_)));
    {
        let mut sim = rig.sim();
        sim.faults.lift_during_read = true;
        sim.place_card(card("hmt_permit"));
    }
    match next(&mut service).await {
        ReaderEvent::LiftAndReplace(LiftReason::CardProblem(Status::ReadFailed)) => {}
        other => panic!("{other:?}"),
    }
    rig.sim().place_card(card("hmt_permit"));
    assert!(matches!(next(&mut service).await, ReaderEvent::CardRead(_)));
    service.shutdown().await;
}

#[tokio::test]
async fn polls_no_faster_than_every_300_ms() {
    let rig = common::start(Simulator::new(SAM));
    let mut service = ReaderService::spawn(config(common::port(&rig))).unwrap();
    assert!(matches!(next(&mut service).await, ReaderEvent::Ready(_)));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    service.shutdown().await;
    let finds: Vec<_> =
        rig.sim().history().iter().filter(|(_, c)| *c == Command::FindCard).map(|(t, _)| *t).collect();
    assert!(finds.len() >= 3, "polled {} times", finds.len());
    for pair in finds.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= MIN_POLL_INTERVAL, "two polls only {gap:?} apart");
    }
}

#[tokio::test]
async fn recovers_when_the_reader_is_unplugged_and_plugged_back() {
    let link = temp_link("replug");
    let port = ReaderPort::Serial { path: link.to_string_lossy().into_owned(), baud: None };
    let first = common::start(Simulator::new(SAM));
    first.link_as(&link).unwrap();
    let mut service = ReaderService::spawn(config(port)).unwrap();
    assert!(matches!(next(&mut service).await, ReaderEvent::Ready(_)));

    // Unplug: the device node and its by-id link disappear.
    drop(first);
    std::fs::remove_file(&link).unwrap();
    match next(&mut service).await {
        ReaderEvent::Disconnected { .. } => {}
        other => panic!("{other:?}"),
    }

    // Plug back in: a new tty behind the same stable name, with a card already on it.
    let second = common::with_card(card("foreigner_2023"));
    second.link_as(&link).unwrap();
    assert!(matches!(next(&mut service).await, ReaderEvent::Ready(_)));
    match next(&mut service).await {
        ReaderEvent::CardRead(c) => assert_eq!(c.nationality.as_deref(), Some("CAN")),
        other => panic!("{other:?}"),
    }
    service.shutdown().await;
    let _ = std::fs::remove_file(&link);
}

#[tokio::test]
async fn a_reader_that_never_answers_is_reported_once() {
    let mut sim = Simulator::new(SAM);
    sim.faults.silent = true;
    let rig = common::start(sim);
    let mut service = ReaderService::spawn(config(common::port(&rig))).unwrap();
    match next(&mut service).await {
        ReaderEvent::Disconnected { device } => assert!(device.contains(&rig.path)),
        other => panic!("{other:?}"),
    }
    // Further failed attempts are not repeated as events.
    let more = tokio::time::timeout(Duration::from_millis(3500), service.next_event()).await;
    assert!(more.is_err(), "unexpected event: {more:?}");
    // Once it answers, the service picks it up.
    rig.sim().faults.silent = false;
    assert!(matches!(next(&mut service).await, ReaderEvent::Ready(_)));
    service.shutdown().await;
}
