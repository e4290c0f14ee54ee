//! The agent's added latency on a live question (DESIGN.md §5 and issue 15's budget: ≤ 10 ms at
//! p99 on loopback): the same records question asked straight from this process to the gateway
//! (signed, mutual TLS, a kept-alive connection: what the agent itself does) and through the
//! `kiosk-sync` daemon's local API on its Unix socket. Figures only.
//! Run: `cargo bench -p kiosk-sync --bench live`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use kiosk_benchkit::Samples;
use kiosk_gateway::Faults;
use kiosk_live::LocalClient;
use kiosk_sync::{Config, Live, Uploader};
use kiosk_sync_proto::live::{Person, Records, RecordsQuery, Service, record};

const ROUNDS: usize = 500;

fn main() {
    if !kiosk_benchkit::running_as_bench("live") {
        return;
    }
    let rig = common::Rig::start("bench-live", Faults::default());
    let socket = rig.dir.join("sync.sock");
    let config_path = rig.config_with_local(&socket, None);
    // Heartbeats every second would share the agent's thread with the questions; as on a kiosk.
    let text = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(&config_path, text.replace("heartbeat_secs = 1", "heartbeat_secs = 60")).unwrap();
    let query = RecordsQuery {
        record: record::SOCIAL_INSURANCE.into(),
        person: Person { id_number: "440605199005171237".into(), name: "陈喆".into() },
        page: 0,
    };
    let body = Bytes::from(serde_json::to_vec(&query).unwrap());

    // Straight to the gateway, as the agent forwards.
    let uploader = Uploader::new(&Config::load(&config_path).unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let direct = Samples::measure(20, ROUNDS, || {
        let answer = runtime.block_on(uploader.live(Service::Records, body.clone(), Duration::from_secs(5)));
        assert!(matches!(answer, Live::Answer { status: 200, .. }), "{answer:?}");
    });

    // Through the daemon's local API.
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .args(["--config", config_path.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = LocalClient::new(&socket, Duration::from_secs(10));
    common::wait_for_local_api(&client);
    let via_agent = Samples::measure(20, ROUNDS, || {
        let _: Records = client.ask(Service::Records, &query).unwrap();
    });
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    let _ = daemon.wait();

    println!("A records question ({ROUNDS} rounds, loopback, mutual TLS, signed):");
    println!("  straight to the gateway:          {}", direct.summary());
    println!("  UI -> agent (Unix socket) -> gateway: {}", via_agent.summary());
    let added = |q: f64| via_agent.percentile(q).saturating_sub(direct.percentile(q));
    println!(
        "  added by the agent: median {}  p99 {}  (budget p99 <= 10.000 ms: {})",
        kiosk_benchkit::ms(added(0.5)),
        kiosk_benchkit::ms(added(0.99)),
        if added(0.99) <= Duration::from_millis(10) { "within" } else { "OVER" }
    );
}
