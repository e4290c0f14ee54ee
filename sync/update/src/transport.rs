//! Fetching repository files: `file://` for USB sticks, `https://` through the agent's own
//! mutually authenticated client (the same CA pinning and kiosk certificate as uploads), so an
//! update server is reached like the gateway and not through the system's CA store.

use std::time::Duration;

use bytes::Bytes;
use tough::{FilesystemTransport, Transport, TransportError, TransportErrorKind, TransportStream};
use url::Url;

#[derive(Debug, Clone)]
pub struct KioskTransport {
    pub https: Option<reqwest::Client>,
}

#[tough::async_trait]
impl Transport for KioskTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        match (url.scheme(), &self.https) {
            ("file", _) => FilesystemTransport.fetch(url).await,
            ("https", Some(client)) => fetch_https(client, url).await,
            _ => Err(TransportError::new(TransportErrorKind::UnsupportedUrlScheme, url)),
        }
    }
}

/// The whole of a download may take long (an OS release is hundreds of MB over a slow line), so
/// the agent's short per-request timeout is lifted; a line that stalls fails instead, when no
/// data arrives for this long.
const STALLED: Duration = Duration::from_secs(60);
const LONGEST: Duration = Duration::from_secs(6 * 3600);

async fn fetch_https(client: &reqwest::Client, url: Url) -> Result<TransportStream, TransportError> {
    let other =
        |url: &Url, e: reqwest::Error| TransportError::new_with_cause(TransportErrorKind::Other, url, e);
    let response = client.get(url.clone()).timeout(LONGEST).send().await.map_err(|e| other(&url, e))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(TransportError::new(TransportErrorKind::FileNotFound, url));
    }
    let response = response.error_for_status().map_err(|e| other(&url, e))?;
    // Chunk by chunk through a small channel, so tough's size limits stop an endless body before
    // it fills memory: when tough drops the stream, the reader's next send fails and it stops.
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, TransportError>>(4);
    let mut response = response;
    tokio::spawn(async move {
        loop {
            let item = match tokio::time::timeout(STALLED, response.chunk()).await {
                Ok(Ok(Some(chunk))) => Ok(chunk),
                Ok(Ok(None)) => break,
                Ok(Err(e)) => Err(TransportError::new_with_cause(TransportErrorKind::Other, &url, e)),
                Err(stalled) => Err(TransportError::new_with_cause(TransportErrorKind::Other, &url, stalled)),
            };
            let failed = item.is_err();
            if futures::SinkExt::send(&mut tx, item).await.is_err() || failed {
                break;
            }
        }
    });
    Ok(Box::pin(rx))
}
