//! Heartbeats through a real Mosquitto broker on loopback, with mutual TLS from the kiosk CA: the
//! kiosk's retained status arrives, and when the kiosk dies without saying goodbye the broker
//! publishes its last will, marking it offline.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{KIOSK, OBSERVER, Rig};
use kiosk_gateway::{Faults, certs};
use kiosk_sync::mqtt::Status;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, Transport};

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Mosquitto with TLS from the dev CA; a client certificate is required and names the client.
fn start_broker(rig: &Rig, port: u16) -> Broker {
    let certs = rig.dir.join("certs");
    let conf = rig.dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\nrequire_certificate true\n\
             use_identity_as_username true\nallow_anonymous false\npersistence false\nuser root\nlog_dest stderr\n",
            ca = certs.join(certs::CA).display(),
            cert = certs.join(certs::SERVER).display(),
            key = certs.join(certs::SERVER_KEY).display(),
        ),
    )
    .unwrap();
    // Debian puts the broker in /usr/sbin, which is not on every user's PATH.
    let binary = if std::path::Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    };
    // Owned by `Broker` at once, so it is killed and reaped on every path out of here.
    let broker = Broker(
        Command::new(binary)
            .args(["-c", conf.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is installed (scripts/setup installs it)"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return broker;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("mosquitto did not start");
}

/// Waits for a status message of the kiosk matching `want`.
async fn next_status(events: &mut rumqttc::EventLoop, want: impl Fn(&Status) -> bool) -> Status {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, events.poll())
            .await
            .expect("a status within 20 s")
            .expect("broker connection");
        if let Event::Incoming(Packet::Publish(p)) = event {
            let status: Status = serde_json::from_slice(&p.payload).expect("a status document");
            if status.kiosk_id == KIOSK && want(&status) {
                return status;
            }
        }
    }
}

#[test]
fn status_is_retained_and_the_last_will_marks_a_dead_kiosk_offline() {
    let rig = Rig::start("mqtt", Faults::default());
    let port = free_port();
    let _broker = start_broker(&rig, port);
    rig.enqueue(2);
    let config = rig.config_with_mqtt(port);
    // Stop the agent from uploading so the heartbeat shows a queue: point it at a closed port.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&format!(":{}\"", rig.api.port()), &format!(":{}\"", free_port()));
    std::fs::write(&config, text).unwrap();
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .args(["--config", config.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let read = |f: std::path::PathBuf| std::fs::read(f).unwrap();
        let (cert, key) = certs::kiosk_files(&rig.dir.join("certs"), OBSERVER);
        let mut options = MqttOptions::new("observer", "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        options.set_transport(Transport::tls(
            read(rig.dir.join("certs").join(certs::CA)),
            Some((read(cert), read(key))),
            None,
        ));
        let (client, mut events) = AsyncClient::new(options, 16);
        client.subscribe("kiosk/+/status", QoS::AtLeastOnce).await.unwrap();

        let online = next_status(&mut events, |s| s.online).await;
        let hb = online.heartbeat.expect("the heartbeat rides in the status");
        assert_eq!((hb.kiosk_id.as_str(), hb.queue_pending), (KIOSK, 2));

        kiosk.kill().unwrap(); // power cut: no disconnect, no goodbye
        let _ = kiosk.wait();
        let offline = next_status(&mut events, |s| !s.online).await;
        assert!(offline.heartbeat.is_none());

        // Someone who looks later still sees the kiosk offline: the will was retained.
        let (cert, key) = certs::kiosk_files(&rig.dir.join("certs"), OBSERVER);
        let mut options = MqttOptions::new("late-observer", "127.0.0.1", port);
        options.set_transport(Transport::tls(
            read(rig.dir.join("certs").join(certs::CA)),
            Some((read(cert), read(key))),
            None,
        ));
        let (late, mut late_events) = AsyncClient::new(options, 16);
        late.subscribe("kiosk/+/status", QoS::AtLeastOnce).await.unwrap();
        let retained = next_status(&mut late_events, |_| true).await;
        assert!(!retained.online, "the retained status is the last will");
    });
}
