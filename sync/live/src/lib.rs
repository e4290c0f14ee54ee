//! The UI's side of the live services: asks the sync agent's local API (`kiosk_sync_proto::live`)
//! on its Unix socket and returns typed answers, or a typed reason the UI can put in plain words
//! (the network is down, no answer in time, the agent is not running). Blocking on purpose: the
//! UI calls it from a worker thread and never from its event loop; a resident's "cancel" drops
//! the answer, and the agent's deadline bounds how long the thread runs.
//!
//! Questions and answers carry personal data: the bytes on the wire are wiped after use.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_sync_proto::Problem;
use kiosk_sync_proto::live::{self, LocalStatus, Service, problem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

/// An answer's status and body (wiped when dropped).
type Answer = (u16, Zeroizing<Vec<u8>>);

/// The largest answer taken (a page of a record is a few kB).
const MAX_ANSWER: usize = 4 << 20;

/// Why a live request has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("the service network cannot be reached: {0}")]
    NetworkUnavailable(String),
    #[error("the service network did not answer in time")]
    Timeout,
    /// The service network said there is no such record or person, or refused the question.
    #[error("the service network refused the question ({code}): {message}")]
    Refused { code: String, message: String },
    #[error("the service network failed: {0}")]
    Upstream(String),
    #[error("the sync agent refused this program: it must run in the kiosk group")]
    Forbidden,
    /// No agent listening (not running, or a wrong socket path in the configuration).
    #[error("the sync agent is not reachable at {socket}: {why}")]
    AgentUnreachable { socket: String, why: String },
    #[error("the sync agent's answer is not understood: {0}")]
    Protocol(String),
}

/// The agent's local API at a socket path.
#[derive(Debug, Clone)]
pub struct LocalClient {
    socket: PathBuf,
    /// How long to wait for the agent, beyond its own deadline for the service network.
    timeout: Duration,
}

impl LocalClient {
    /// `timeout` should exceed the agent's `local.deadline_ms`, so that the agent's `timeout`
    /// answer arrives rather than a cut connection.
    pub fn new(socket: impl Into<PathBuf>, timeout: Duration) -> Self {
        Self { socket: socket.into(), timeout }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Whether the agent runs and believes the service network reachable.
    pub fn status(&self) -> Result<LocalStatus, LiveError> {
        let (status, body) = self.exchange("GET", live::LOCAL_STATUS, &[])?;
        decode(status, &body)
    }

    /// Asks `service` the question `query` and reads the answer as `A`.
    pub fn ask<A: DeserializeOwned>(&self, service: Service, query: &impl Serialize) -> Result<A, LiveError> {
        let body = Zeroizing::new(serde_json::to_vec(query).map_err(|e| LiveError::Protocol(e.to_string()))?);
        let (status, answer) = self.exchange("POST", &service.local_path(), &body)?;
        decode(status, &answer)
    }

    /// One HTTP/1.1 exchange on a fresh connection; the status and the body.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Zeroizing<Vec<u8>>), LiveError> {
        let unreachable = |e: std::io::Error| LiveError::AgentUnreachable {
            socket: self.socket.display().to_string(),
            why: e.to_string(),
        };
        let mut stream = UnixStream::connect(&self.socket).map_err(unreachable)?;
        stream.set_read_timeout(Some(self.timeout)).map_err(unreachable)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(unreachable)?;
        let mut request = Zeroizing::new(
            format!(
                "{method} {path} HTTP/1.1\r\nHost: kiosk-sync\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes(),
        );
        request.extend_from_slice(body);
        stream.write_all(&request).map_err(unreachable)?;
        let mut raw = Zeroizing::new(Vec::new());
        let mut chunk = Zeroizing::new([0u8; 8192]);
        loop {
            match stream.read(&mut *chunk) {
                Ok(0) => break,
                Ok(n) => {
                    raw.extend_from_slice(&chunk[..n]);
                    if raw.len() > MAX_ANSWER {
                        return Err(LiveError::Protocol("the answer is too large".into()));
                    }
                    if let Some(done) = complete(&raw)? {
                        return Ok(done);
                    }
                }
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return Err(LiveError::Timeout);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(unreachable(e)),
            }
        }
        complete(&raw)?
            .ok_or_else(|| LiveError::Protocol("the agent closed the connection mid-answer".into()))
    }
}

/// The status and body once `raw` holds a whole response.
fn complete(raw: &[u8]) -> Result<Option<Answer>, LiveError> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(LiveError::Protocol(format!("not an HTTP answer: {e}"))),
    };
    let status = response.code.unwrap_or(0);
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .ok_or_else(|| LiveError::Protocol("the answer has no Content-Length".into()))?;
    if raw.len() < head + length {
        return Ok(None);
    }
    Ok(Some((status, Zeroizing::new(raw[head..head + length].to_vec()))))
}

/// A 200's body as `A`, or the problem as a [`LiveError`].
fn decode<A: DeserializeOwned>(status: u16, body: &[u8]) -> Result<A, LiveError> {
    if status == 200 {
        return serde_json::from_slice(body)
            .map_err(|e| LiveError::Protocol(format!("unreadable answer: {e}")));
    }
    let p = serde_json::from_slice::<Problem>(body)
        .map_err(|_| LiveError::Protocol(format!("HTTP {status} without a problem document")))?;
    Err(match p.code.as_str() {
        problem::NETWORK_UNAVAILABLE => LiveError::NetworkUnavailable(p.message),
        problem::TIMEOUT => LiveError::Timeout,
        problem::FORBIDDEN => LiveError::Forbidden,
        problem::UPSTREAM => LiveError::Upstream(p.message),
        _ => LiveError::Refused { code: p.code, message: p.message },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_whole_and_problems_typed() {
        let body = br#"{"code":"network_unavailable","message":"cable unplugged"}"#;
        let mut raw = format!("HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\n\r\n", body.len())
            .into_bytes();
        raw.extend_from_slice(body);
        let raw = raw.as_slice();
        assert_eq!(complete(&raw[..40]).unwrap(), None, "the head is not complete");
        assert_eq!(complete(&raw[..raw.len() - 1]).unwrap(), None, "the body is not complete");
        let (status, body) = complete(raw).unwrap().unwrap();
        assert_eq!(status, 503);
        assert_eq!(
            decode::<LocalStatus>(status, &body),
            Err(LiveError::NetworkUnavailable("cable unplugged".into()))
        );
        assert_eq!(
            decode::<LocalStatus>(422, br#"{"code":"bad_request","message":"no such record"}"#),
            Err(LiveError::Refused { code: "bad_request".into(), message: "no such record".into() })
        );
        assert!(matches!(decode::<LocalStatus>(502, b"<html>"), Err(LiveError::Protocol(_))));
        assert!(matches!(complete(b"garbage\r\n\r\n"), Err(LiveError::Protocol(_))));
    }

    #[test]
    fn no_agent_is_a_clear_error() {
        let client = LocalClient::new("/nonexistent/kiosk-sync.sock", Duration::from_secs(1));
        match client.status() {
            Err(LiveError::AgentUnreachable { socket, .. }) => {
                assert_eq!(socket, "/nonexistent/kiosk-sync.sock")
            }
            other => panic!("{other:?}"),
        }
    }
}
