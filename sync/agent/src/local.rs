//! The local API (`kiosk_sync_proto::live`): the UI asks the agent for live services on a Unix
//! socket, and the agent, which alone holds the network credentials, forwards each question to
//! the service network signed like an upload, within a deadline. The UI never waits on the
//! network itself and never holds a credential.
//!
//! Only callers running as the kiosk's group (or as the agent's own user, or root) are served:
//! the socket is `0660` and given to that group, and each connection's peer credentials are
//! checked as well. Bodies carry personal data: they pass through in memory and are never logged.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use kiosk_sync_proto::Problem;
use kiosk_sync_proto::live::{self, LocalStatus, Service, problem};
use tokio::net::UnixListener;

use crate::config::Local;
use crate::{Live, Uploader};

/// Who may use the socket.
#[derive(Debug, Clone)]
pub struct Access {
    own_uid: u32,
    gid: Option<u32>,
    /// The group's members by name (supplementary membership, which peer credentials do not
    /// show), resolved to user IDs.
    member_uids: Vec<u32>,
}

impl Access {
    /// The agent's user, root and the members of `group` (which may not exist on a developer's
    /// machine: then only the agent's user and root).
    pub fn for_group(group: &str) -> Self {
        let own_uid = nix::unistd::geteuid().as_raw();
        let found = nix::unistd::Group::from_name(group).ok().flatten();
        if found.is_none() {
            tracing::warn!(group, "no such group: the local API serves only the agent's own user");
        }
        let member_uids = found
            .as_ref()
            .map(|g| {
                g.mem
                    .iter()
                    .filter_map(|name| nix::unistd::User::from_name(name).ok().flatten())
                    .map(|u| u.uid.as_raw())
                    .collect()
            })
            .unwrap_or_default();
        Self { own_uid, gid: found.map(|g| g.gid.as_raw()), member_uids }
    }

    pub fn allows(&self, uid: u32, gid: u32) -> bool {
        uid == 0 || uid == self.own_uid || Some(gid) == self.gid || self.member_uids.contains(&uid)
    }
}

/// Forwards the UI's questions.
#[derive(Clone)]
pub struct Forwarder {
    uploader: Arc<Uploader>,
    kiosk_id: String,
    deadline: Duration,
    access: Arc<Access>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder").field("deadline", &self.deadline).finish_non_exhaustive()
    }
}

impl Forwarder {
    pub fn new(uploader: Arc<Uploader>, kiosk_id: &str, config: &Local) -> Self {
        Self {
            uploader,
            kiosk_id: kiosk_id.to_owned(),
            deadline: config.deadline(),
            access: Arc::new(Access::for_group(&config.group)),
        }
    }
}

/// Binds the socket: a stale one from a previous run is replaced, the file is made `0660` and
/// given to the configured group.
pub fn bind(config: &Local) -> Result<UnixListener> {
    let path = &config.socket;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            std::fs::remove_file(path)
                .with_context(|| format!("removing the stale socket {}", path.display()))?;
        }
        Ok(_) => anyhow::bail!("{} exists and is not a socket; refusing to replace it", path.display()),
        Err(_) => {}
    }
    let listener = UnixListener::bind(path)
        .with_context(|| format!("binding the local API socket {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .with_context(|| format!("making {} 0660", path.display()))?;
    give_to_group(path, &config.group);
    tracing::info!(socket = %path.display(), group = %config.group, "local API listening");
    Ok(listener)
}

fn give_to_group(path: &Path, group: &str) {
    let Some(g) = nix::unistd::Group::from_name(group).ok().flatten() else { return };
    if let Err(e) = nix::unistd::chown(path, None, Some(g.gid)) {
        tracing::warn!(socket = %path.display(), group, error = %e, "the socket could not be given to the group");
    }
}

/// Serves the local API until the task is dropped.
pub async fn serve(listener: UnixListener, forwarder: Forwarder) {
    let access = forwarder.access.clone();
    let app = router(forwarder);
    let refused = Router::new().fallback(|| async {
        problem_response(
            StatusCode::FORBIDDEN,
            problem::FORBIDDEN,
            "only the kiosk's programs may ask the agent",
        )
    });
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "local API: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let allowed = stream.peer_cred().is_ok_and(|c| access.allows(c.uid(), c.gid()));
        if !allowed {
            tracing::warn!(peer = ?stream.peer_cred().ok().map(|c| (c.uid(), c.gid())), "local API: caller refused");
        }
        let service = TowerToHyperService::new(if allowed { app.clone() } else { refused.clone() });
        tokio::spawn(async move {
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(error = %e, "local API connection ended");
            }
        });
    }
}

/// The routes, for [`serve`] and for tests that call them without a socket.
pub fn router(forwarder: Forwarder) -> Router {
    Router::new()
        .route(live::LOCAL_STATUS, get(status))
        .route(&format!("{}{{service}}", live::LOCAL_PREFIX), post(forward))
        .with_state(forwarder)
}

fn problem_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(Problem { code: code.to_owned(), message: message.to_owned() })).into_response()
}

async fn status(State(f): State<Forwarder>) -> Json<LocalStatus> {
    let (online, since) = f.uploader.online();
    Json(LocalStatus { kiosk_id: f.kiosk_id.clone(), online, last_contact_secs: since.map(|d| d.as_secs()) })
}

async fn forward(State(f): State<Forwarder>, UrlPath(name): UrlPath<String>, body: Bytes) -> Response {
    let Some(service) = Service::from_name(&name) else {
        return problem_response(StatusCode::NOT_FOUND, problem::NOT_FOUND, "no such live service");
    };
    let started = Instant::now();
    let outcome = f.uploader.live(service, body, f.deadline).await;
    let ms = started.elapsed().as_millis() as u64;
    match outcome {
        Live::Answer { status, body } if (200..300).contains(&status) => {
            tracing::info!(service = service.name(), status, ms, "live request answered");
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        // The service network's own refusal of the question (no such person, a malformed
        // question) is passed on as it said it.
        Live::Answer { status, body }
            if matches!(status, 404 | 422)
                && serde_json::from_slice::<Problem>(&body)
                    .is_ok_and(|p| problem::ALL.contains(&p.code.as_str())) =>
        {
            tracing::info!(
                service = service.name(),
                status,
                ms,
                "live request refused by the service network"
            );
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Live::Answer { status, body } => {
            let said = serde_json::from_slice::<Problem>(&body).map_or_else(
                |_| format!("HTTP {status}"),
                |p| format!("HTTP {status} {}: {}", p.code, p.message),
            );
            tracing::warn!(
                service = service.name(),
                status,
                ms,
                "live request failed at the service network"
            );
            problem_response(
                StatusCode::BAD_GATEWAY,
                problem::UPSTREAM,
                &format!("the service network answered {said}"),
            )
        }
        Live::Unavailable(why) => {
            tracing::info!(service = service.name(), ms, "live request: network unavailable");
            problem_response(StatusCode::SERVICE_UNAVAILABLE, problem::NETWORK_UNAVAILABLE, &why)
        }
        Live::Timeout => {
            tracing::warn!(service = service.name(), ms, "live request timed out");
            problem_response(
                StatusCode::GATEWAY_TIMEOUT,
                problem::TIMEOUT,
                &format!("no answer from the service network within {} ms", f.deadline.as_millis()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_agent_root_and_the_group_are_allowed() {
        let access = Access { own_uid: 990, gid: Some(991), member_uids: vec![1001] };
        assert!(access.allows(990, 100), "the agent's own user");
        assert!(access.allows(0, 0), "root");
        assert!(access.allows(1234, 991), "primary group kiosk");
        assert!(access.allows(1001, 100), "a member of kiosk");
        assert!(!access.allows(1000, 100), "anyone else");
        let no_group = Access { own_uid: 990, gid: None, member_uids: Vec::new() };
        assert!(!no_group.allows(1000, 991));
    }
}
