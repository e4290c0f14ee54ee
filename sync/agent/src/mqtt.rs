//! Heartbeats over MQTT, for fleets an operator already watches through a broker cluster: the
//! kiosk publishes its health as a retained message on `{prefix}/{kiosk_id}/status`, and leaves a
//! retained last will there, so a kiosk that loses power shows as offline without any server of
//! ours in the loop. The connection uses the kiosk's certificate, as uploads do.

use std::time::Duration;

use anyhow::{Context, Result};
use kiosk_sync_proto::Heartbeat;
use rumqttc::{AsyncClient, LastWill, MqttOptions, QoS, Transport};
use serde::Deserialize;

use crate::config::Config;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_prefix")]
    pub topic_prefix: String,
    /// Seconds without traffic after which the broker publishes the last will (×1.5).
    #[serde(default = "default_keep_alive")]
    pub keep_alive_secs: u64,
}

fn default_port() -> u16 {
    8883
}

fn default_prefix() -> String {
    "kiosk".into()
}

fn default_keep_alive() -> u64 {
    30
}

/// The retained status document.
#[derive(Debug, serde::Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub online: bool,
    pub kiosk_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<Heartbeat>,
}

pub fn status_topic(prefix: &str, kiosk_id: &str) -> String {
    format!("{prefix}/{kiosk_id}/status")
}

/// A connected publisher; its event loop runs on a task until this is dropped.
#[derive(Debug)]
pub struct MqttHeartbeat {
    client: AsyncClient,
    topic: String,
    kiosk_id: String,
    driver: tokio::task::JoinHandle<()>,
}

impl MqttHeartbeat {
    pub fn connect(config: &Config, mqtt: &MqttConfig) -> Result<Self> {
        let read = |p: &std::path::Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
        let topic = status_topic(&mqtt.topic_prefix, &config.kiosk_id);
        let mut options = MqttOptions::new(format!("kiosk-{}", config.kiosk_id), &mqtt.host, mqtt.port);
        options.set_keep_alive(Duration::from_secs(mqtt.keep_alive_secs.max(1)));
        options.set_transport(Transport::tls(
            read(&config.ca)?,
            Some((read(&config.client_cert)?, read(&config.client_key)?)),
            None,
        ));
        let offline = serde_json::to_vec(&Status {
            online: false,
            kiosk_id: config.kiosk_id.clone(),
            heartbeat: None,
        })?;
        options.set_last_will(LastWill::new(&topic, offline, QoS::AtLeastOnce, true));
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        let driver = tokio::spawn(async move {
            loop {
                if let Err(e) = eventloop.poll().await {
                    tracing::warn!(error = %e, "MQTT connection lost; reconnecting");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        });
        Ok(Self { client, topic, kiosk_id: config.kiosk_id.clone(), driver })
    }

    pub async fn publish(&self, hb: &Heartbeat) -> Result<()> {
        let status = Status { online: true, kiosk_id: self.kiosk_id.clone(), heartbeat: Some(hb.clone()) };
        self.client
            .publish(&self.topic, QoS::AtLeastOnce, true, serde_json::to_vec(&status)?)
            .await
            .context("queueing the MQTT heartbeat")
    }
}

impl Drop for MqttHeartbeat {
    fn drop(&mut self) {
        self.driver.abort();
    }
}
