//! The live path as the UI uses it: `kiosk-sync` (the daemon) serves its local API on a Unix
//! socket; a question asked there with `kiosk-live`'s client is forwarded to the reference
//! gateway over mutual TLS, signed, and the answer comes back. With the gateway gone the agent
//! says at once that the network is down; with a slow gateway it says `timeout` at its deadline;
//! the socket is `0660`; nothing personal reaches the agent's log, at TRACE. Progress lookups
//! (办件进度) find what the daemon uploaded: by the applicant's card, and by the slip's number
//! and query password, a wrong password finding nothing.

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Rig;
use kiosk_gateway::Faults;
use kiosk_live::{LiveError, LocalClient};
use kiosk_sync_proto::live::{Person, Progress, ProgressQuery, Records, RecordsQuery, Service, record};

const ID: &str = "440605199005171237";
const NAME: &str = "陈喆";

struct Daemon(Child);

impl Daemon {
    fn start(rig: &Rig, deadline_ms: u64) -> (Self, LocalClient) {
        let socket = rig.dir.join("run").join("sync.sock");
        let config = rig.config_with_local(&socket, Some(deadline_ms));
        let child = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
            .args(["--config", config.to_str().unwrap()])
            .env("RUST_LOG", "trace")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Longer than any answer takes: a `timeout` can only be the agent's.
        let client = LocalClient::new(&socket, Duration::from_secs(10));
        common::wait_for_local_api(&client);
        (Self(child), client)
    }

    /// Stops the daemon and returns what it logged.
    fn stop(mut self) -> String {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
        let mut log = String::new();
        self.0.stderr.take().unwrap().read_to_string(&mut log).unwrap();
        log
    }
}

fn query(record: &str) -> RecordsQuery {
    RecordsQuery {
        record: record.into(),
        person: Person { id_number: ID.into(), name: NAME.into() },
        page: 0,
    }
}

#[test]
fn questions_reach_the_service_network_and_a_dead_link_is_said_at_once() {
    let rig = Rig::start("live", Faults::default());
    let (daemon, client) = Daemon::start(&rig, 2_000);
    let socket = client.socket().to_owned();
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o660, "the socket is for the kiosk's group only");

    for which in record::ALL {
        let records: Records = client.ask(Service::Records, &query(which)).unwrap();
        assert_eq!(records.record, *which);
        assert!(!records.rows.is_empty() && records.pages >= 1 && !records.summary.is_empty());
        let again: Records = client.ask(Service::Records, &query(which)).unwrap();
        assert_eq!(records, again, "the same person's record is the same twice");
    }
    let status = client.status().unwrap();
    assert!(status.online && status.kiosk_id == common::KIOSK);

    // A malformed question is refused by the service network, and said so.
    let bad = query("bank_statement");
    match client.ask::<Records>(Service::Records, &bad) {
        Err(LiveError::Refused { code, .. }) => assert_eq!(code, "bad_request"),
        other => panic!("{other:?}"),
    }

    // An application the daemon uploads is followed by the applicant's card and by its slip.
    let password = "482913";
    let key = {
        let form = format!(
            r#"{{"item_code":"440605-JZZ-001","item_name":"个人参保证明打印","kiosk_id":"{}","query_password":"{password}","form":{{"name":"{NAME}","id_number":"{ID}"}}}}"#,
            common::KIOSK
        );
        let sub = kiosk_outbox::NewSubmission {
            item_code: "440605-JZZ-001",
            stream_key: "",
            payload: form.as_bytes(),
        };
        rig.outbox().enqueue(&sub, kiosk_outbox::now_ms()).unwrap().idempotency_key
    };
    let started = Instant::now();
    let case = loop {
        if let Some((_, case)) = rig.filed().into_iter().find(|(k, _)| *k == key) {
            break case;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the daemon did not upload the application");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mine = ProgressQuery {
        person: Some(Person { id_number: ID.into(), name: NAME.into() }),
        reference: String::new(),
        password: String::new(),
    };
    let answer: Progress = client.ask(Service::Progress, &mine).unwrap();
    let filed = answer.cases.iter().find(|c| c.case_number == case).expect("the filed case by card");
    assert_eq!((filed.submission_id.as_str(), filed.item_name.as_str()), (key.as_str(), "个人参保证明打印"));
    assert!(answer.cases.len() > 1, "and the person's earlier cases");
    for reference in [case.as_str(), key.as_str()] {
        let by_slip = ProgressQuery { person: None, reference: reference.into(), password: password.into() };
        let answer: Progress = client.ask(Service::Progress, &by_slip).unwrap();
        assert_eq!(answer.cases.len(), 1, "by slip: that case only");
        assert_eq!(answer.cases[0].case_number, case);
    }
    let wrong = ProgressQuery { person: None, reference: case.clone(), password: "000000".into() };
    match client.ask::<Progress>(Service::Progress, &wrong) {
        Err(LiveError::Refused { code, .. }) => assert_eq!(code, "not_found"),
        other => panic!("a wrong password: {other:?}"),
    }

    // The gateway goes away: the first question finds out, the next is answered at once.
    drop(rig);
    match client.ask::<Records>(Service::Records, &query(record::SOCIAL_INSURANCE)) {
        Err(LiveError::NetworkUnavailable(_) | LiveError::Timeout) => {}
        other => panic!("{other:?}"),
    }
    let asked = Instant::now();
    match client.ask::<Records>(Service::Records, &query(record::SOCIAL_INSURANCE)) {
        Err(LiveError::NetworkUnavailable(why)) => assert!(!why.is_empty()),
        other => panic!("{other:?}"),
    }
    let at_once = asked.elapsed();
    assert!(!client.status().unwrap().online);
    let log = daemon.stop();
    eprintln!("network unavailable answered in {at_once:?} (the deadline is 2 s)");
    assert!(log.contains("live request answered"), "{log}");
    for personal in [ID, NAME, password] {
        assert!(!log.contains(personal), "personal data in the agent's TRACE log");
    }
}

#[test]
fn a_slow_service_network_is_a_timeout_within_the_deadline() {
    let rig = Rig::start("live-slow", Faults { delay_ms: 3_000, ..Faults::default() });
    let (daemon, client) = Daemon::start(&rig, 500);
    // The gateway answers after 3 s, the client would wait 10 s: a timeout is the agent's 500 ms.
    assert_eq!(
        client.ask::<Records>(Service::Records, &query(record::HOUSING_FUND)),
        Err(LiveError::Timeout)
    );
    daemon.stop();
}
