//! The reference gateway: the kiosk upload API of `sync/openapi.yaml` with its own SQLite store,
//! for development, the demo and the tests. Kiosks talk to it over TLS with a client certificate
//! and signed requests; technicians and admins read counts and the fleet view on a separate
//! plain-HTTP admin port (bind it to loopback). It can inject faults: 5xx, 429 with Retry-After,
//! slow answers past the client's timeout, connections dropped after the submission was filed,
//! and bodies that trickle.

pub mod certs;
pub mod live;
pub mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use kiosk_sync_proto as proto;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::store::{Outcome, Store};

/// Fault rates (0.0–1.0 each, drawn once per submission).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub server_error: f64,
    pub too_many: f64,
    pub retry_after_secs: u64,
    /// Answer only after `slow_secs`, past a kiosk's timeout (the submission is still filed).
    pub timeout: f64,
    pub slow_secs: u64,
    /// File the submission, then drop the connection without answering.
    pub drop: f64,
    /// Answer with a body that trickles out a byte at a time.
    pub slow_body: f64,
    /// Answer every submission only after this long (the case is filed first): a slow network,
    /// so that a kiosk killed or blocked at any moment is caught mid-upload.
    pub delay_ms: u64,
    /// The gateway's clock runs this far ahead of the machine's (negative: behind), as a kiosk
    /// whose own clock is off by as much sees it.
    pub clock_skew_secs: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    ServerError,
    TooMany,
    Timeout,
    Drop,
    SlowBody,
}

pub struct Gateway {
    store: Store,
    /// App key → shared secret.
    secrets: HashMap<String, Vec<u8>>,
    faults: Faults,
    rng: Mutex<fastrand::Rng>,
    /// A static catalogue update repository served to kiosks under `/catalogue/`.
    catalogue_repo: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("faults", &self.faults).finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A time (ms since the epoch) in China Standard Time, where the service network's dates are.
pub(crate) fn cst(ms: i64) -> time::OffsetDateTime {
    let offset = time::UtcOffset::from_hms(8, 0, 0).expect("a valid offset");
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset)
}

impl Gateway {
    pub fn new(db: &Path, secrets: HashMap<String, Vec<u8>>, faults: Faults, seed: u64) -> Result<Self> {
        let store = Store::open(db).with_context(|| format!("opening the gateway store {}", db.display()))?;
        Ok(Self {
            store,
            secrets,
            faults,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            catalogue_repo: None,
        })
    }

    /// Serve the catalogue repository written by `kioskctl catalogue publish`. Its files are
    /// signed, so this server (or any mirror) needs no trust of its own.
    pub fn with_catalogue_repo(mut self, dir: std::path::PathBuf) -> Self {
        self.catalogue_repo = Some(dir);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The gateway's idea of the time, in ms.
    fn now_ms(&self) -> i64 {
        now_ms() + self.faults.clock_skew_secs * 1000
    }

    fn draw(&self) -> Fault {
        let x = self.rng.lock().unwrap_or_else(|p| p.into_inner()).f64();
        let f = &self.faults;
        let mut edge = 0.0;
        for (p, fault) in [
            (f.server_error, Fault::ServerError),
            (f.too_many, Fault::TooMany),
            (f.timeout, Fault::Timeout),
            (f.drop, Fault::Drop),
            (f.slow_body, Fault::SlowBody),
        ] {
            edge += p;
            if x < edge {
                let _ = self.store.bump("faults");
                return fault;
            }
        }
        Fault::None
    }
}

/// What the TLS layer learned about this connection.
#[derive(Debug, Clone)]
struct Conn {
    /// The common name of the client certificate: the kiosk ID.
    kiosk: Option<String>,
    abort: Arc<Notify>,
}

fn problem(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(proto::Problem { code: code.to_owned(), message: message.to_owned() })).into_response()
}

/// Why a request was turned away, answered as a problem document.
#[derive(Debug)]
struct Rejection(StatusCode, &'static str, String);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        problem(self.0, self.1, &self.2)
    }
}

/// Checks the signed headers; the kiosk ID on success.
fn verify(
    gw: &Gateway,
    conn: &Conn,
    headers: &HeaderMap,
    path: &str,
    key: &str,
    body: &[u8],
) -> Result<String, Rejection> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let missing = |name: &str| {
        Rejection(StatusCode::BAD_REQUEST, "missing_header", format!("header {name} is required"))
    };
    let kiosk = h(proto::HEADER_KIOSK_ID).ok_or_else(|| missing(proto::HEADER_KIOSK_ID))?;
    if conn.kiosk.as_deref() != Some(kiosk) {
        return Err(Rejection(
            StatusCode::FORBIDDEN,
            "kiosk_mismatch",
            "the kiosk ID does not match the client certificate".into(),
        ));
    }
    let app_key = h(proto::HEADER_APP_KEY).ok_or_else(|| missing(proto::HEADER_APP_KEY))?;
    let secret = gw
        .secrets
        .get(app_key)
        .ok_or_else(|| Rejection(StatusCode::UNAUTHORIZED, "unknown_app_key", "unknown app key".into()))?;
    let timestamp: i64 =
        h(proto::HEADER_TIMESTAMP).ok_or_else(|| missing(proto::HEADER_TIMESTAMP))?.parse().map_err(
            |_| Rejection(StatusCode::BAD_REQUEST, "bad_timestamp", "timestamp must be Unix seconds".into()),
        )?;
    let now = gw.now_ms();
    if (now / 1000 - timestamp).abs() > proto::REPLAY_WINDOW_SECS {
        return Err(Rejection(
            StatusCode::UNAUTHORIZED,
            "clock_skew",
            "timestamp outside the replay window: check the kiosk's clock (NTP)".into(),
        ));
    }
    let nonce = h(proto::HEADER_NONCE).ok_or_else(|| missing(proto::HEADER_NONCE))?;
    let signature = h(proto::HEADER_SIGNATURE).ok_or_else(|| missing(proto::HEADER_SIGNATURE))?;
    let alg = proto::Algorithm::from_name(h(proto::HEADER_SIGNATURE_ALG).unwrap_or("HMAC-SHA256"))
        .ok_or_else(|| {
            Rejection(
                StatusCode::BAD_REQUEST,
                "bad_algorithm",
                "signature algorithm must be HMAC-SHA256 or HMAC-SM3".into(),
            )
        })?;
    let signed = proto::Signed {
        method: "POST",
        path,
        kiosk_id: kiosk,
        app_key,
        timestamp,
        nonce,
        idempotency_key: key,
        body,
    };
    if !signed.verify(alg, secret, signature) {
        return Err(Rejection(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the request signature does not verify".into(),
        ));
    }
    match gw.store.fresh_nonce(kiosk, nonce, now, proto::REPLAY_WINDOW_SECS * 1000) {
        Ok(true) => Ok(kiosk.to_owned()),
        Ok(false) => {
            Err(Rejection(StatusCode::UNAUTHORIZED, "replayed_nonce", "this nonce was used already".into()))
        }
        Err(e) => Err(Rejection(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string())),
    }
}

/// A request filed once: its idempotency key and the kiosk its signature proves, or the answer
/// that turns it away.
fn keyed(
    gw: &Gateway,
    conn: &Conn,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(String, String), Rejection> {
    let Some(key) =
        headers.get(proto::HEADER_IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned)
    else {
        return Err(Rejection(
            StatusCode::BAD_REQUEST,
            "missing_header",
            "header idempotency-key is required".into(),
        ));
    };
    let kiosk = verify(gw, conn, headers, path, &key, body).inspect_err(|_| {
        let _ = gw.store.bump("rejected");
    })?;
    Ok((key, kiosk))
}

/// The answer an injected 5xx or 429 gives, whatever was asked.
fn injected_refusal(gw: &Gateway, fault: Fault) -> Option<Response> {
    match fault {
        Fault::ServerError => {
            Some(problem(StatusCode::SERVICE_UNAVAILABLE, "injected", "injected server error"))
        }
        Fault::TooMany => {
            let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "injected", "slow down");
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(gw.faults.retry_after_secs));
            Some(r)
        }
        _ => None,
    }
}

async fn submit(
    State(gw): State<Arc<Gateway>>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = gw.draw();
    if let Some(refused) = injected_refusal(&gw, fault) {
        return refused;
    }
    let (key, kiosk) = match keyed(&gw, &conn, &headers, proto::PATH_SUBMISSIONS, &body) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    // Read as the kiosk wrote it (`kiosk_sync_proto::Submission`); dropping it wipes the form.
    let filing = match serde_json::from_slice::<proto::Submission>(&body) {
        Ok(submission) if !submission.item_code.is_empty() => live::filing(&submission),
        Ok(_) | Err(_) => {
            let _ = gw.store.bump("rejected");
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body must be a submission: JSON with an item_code, and the form as an object of strings",
            );
        }
    };
    if fault == Fault::Timeout {
        tokio::time::sleep(Duration::from_secs(gw.faults.slow_secs)).await;
    }
    let hash = hex::encode(Sha256::digest(&body));
    let store_gw = gw.clone();
    let received = gw.now_ms();
    let outcome =
        tokio::task::spawn_blocking(move || store_gw.store.submit(&key, &kiosk, &filing, &hash, received))
            .await;
    let (status, accepted) = match outcome {
        Ok(Ok(Outcome::New(a))) => (StatusCode::CREATED, a),
        Ok(Ok(Outcome::Duplicate(a))) => (StatusCode::OK, a),
        Ok(Ok(Outcome::Conflict)) => {
            return problem(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                "this idempotency key was used for a different submission or by another kiosk",
            );
        }
        Ok(Err(e)) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    };
    if gw.faults.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(gw.faults.delay_ms)).await;
    }
    match fault {
        Fault::Drop => {
            // Filed, but the kiosk never hears so: it must send again and get the same case.
            conn.abort.notify_one();
            std::future::pending::<()>().await;
            unreachable!()
        }
        Fault::SlowBody => {
            let json = serde_json::to_vec(&accepted).expect("answers serialise");
            let stream = tokio_stream_bytes(json);
            Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .expect("a valid response")
        }
        _ => (status, Json(accepted)).into_response(),
    }
}

/// A rating (好差评), filed once per idempotency key like a submission.
async fn evaluate(
    State(gw): State<Arc<Gateway>>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = injected_refusal(&gw, gw.draw()) {
        return refused;
    }
    let (key, kiosk) = match keyed(&gw, &conn, &headers, proto::PATH_EVALUATIONS, &body) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    let evaluation = match serde_json::from_slice::<proto::Evaluation>(&body) {
        Ok(e) if e.is_valid() => e,
        Ok(_) | Err(_) => {
            let _ = gw.store.bump("rejected");
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body must be an evaluation: an item code, a level 1 to 5, known reasons only when dissatisfied",
            );
        }
    };
    let hash = hex::encode(Sha256::digest(&body));
    let (store_gw, received) = (gw.clone(), gw.now_ms());
    let outcome = tokio::task::spawn_blocking(move || {
        store_gw.store.evaluate(&key, &kiosk, &evaluation, &hash, received)
    })
    .await;
    match outcome {
        Ok(Ok(Outcome::New(a))) => (StatusCode::CREATED, Json(a)).into_response(),
        Ok(Ok(Outcome::Duplicate(a))) => (StatusCode::OK, Json(a)).into_response(),
        Ok(Ok(Outcome::Conflict)) => problem(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "this idempotency key was used for a different evaluation or by another kiosk",
        ),
        Ok(Err(e)) => problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    }
}

async fn ratings(State(gw): State<Arc<Gateway>>) -> Response {
    match gw.store.ratings() {
        Ok(r) => Json(r).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    }
}

/// A body that trickles out one byte every 20 ms.
fn tokio_stream_bytes(
    bytes: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold(0usize, move |i| {
        let bytes = bytes.clone();
        async move {
            if i >= bytes.len() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((Ok(Bytes::copy_from_slice(&bytes[i..i + 1])), i + 1))
        }
    })
}

async fn heartbeat(
    State(gw): State<Arc<Gateway>>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kiosk = match verify(&gw, &conn, &headers, proto::PATH_HEARTBEATS, "", &body) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    let Ok(hb) = serde_json::from_slice::<proto::Heartbeat>(&body) else {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "not a heartbeat document");
    };
    if hb.kiosk_id != kiosk {
        return problem(StatusCode::FORBIDDEN, "kiosk_mismatch", "the heartbeat names another kiosk");
    }
    match gw.store.heartbeat(&hb, gw.now_ms()) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    }
}

async fn counts(State(gw): State<Arc<Gateway>>) -> Response {
    match gw.store.counts() {
        Ok(c) => Json(c).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    }
}

async fn fleet_json(State(gw): State<Arc<Gateway>>) -> Response {
    match gw.store.fleet() {
        Ok(f) => Json(f).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn fleet_html(State(gw): State<Arc<Gateway>>) -> Response {
    let rows = match gw.store.fleet() {
        Ok(f) => f,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    };
    let ratings = gw.store.ratings().unwrap_or_default();
    let now = now_ms();
    let body: String = rows
        .iter()
        .map(|r| {
            let hb = &r.heartbeat;
            let rated = ratings.by_kiosk.get(&r.kiosk_id).copied().unwrap_or_default();
            let devices: Vec<String> =
                hb.devices.iter().map(|(k, v)| format!("{}: {}", escape(k), escape(v))).collect();
            format!(
                "<tr><td>{}</td><td>{} s ago</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.kiosk_id),
                (now - r.last_seen) / 1000,
                escape(&hb.software_version),
                escape(hb.catalogue_version.as_deref().unwrap_or("—")),
                hb.catalogue_refused
                    .as_deref()
                    .map(|why| format!("<br><b>更新被拒 update refused:</b> {}", escape(why)))
                    .unwrap_or_default(),
                hb.queue_pending,
                hb.queue_dead,
                if hb.queue_quarantined > 0 {
                    format!("<br><b>已隔离 quarantined:</b> {}", hb.queue_quarantined)
                } else {
                    String::new()
                },
                [
                    hb.upload_problem.as_deref().map(escape),
                    hb.clock_offset_secs
                        .filter(|s| s.abs() >= 30)
                        .map(|s| format!("时钟偏差 clock off by {s} s")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("<br>"),
                devices.join(", "),
                rated.map(|n| n.to_string()).join(" / ")
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>市民之窗 终端状态 / Kiosk fleet</title>\
         <h1>市民之窗 终端状态 / Kiosk fleet</h1><table border=\"1\" cellpadding=\"4\">\
         <tr><th>终端 Kiosk</th><th>最近心跳 Last seen</th><th>版本 Version</th><th>事项目录 Catalogue</th>\
         <th>待上传 Pending</th><th>失败 Dead</th><th>问题 Problems</th><th>设备 Devices</th>\
         <th>好差评 Ratings<br>非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意</th></tr>{body}</table></html>"
    ))
    .into_response()
}

/// The kiosk-facing API (served over mutual TLS).
pub fn api_router(gw: Arc<Gateway>) -> Router {
    Router::new()
        .route(proto::PATH_SUBMISSIONS, post(submit))
        .route(proto::PATH_HEARTBEATS, post(heartbeat))
        .route(proto::PATH_EVALUATIONS, post(evaluate))
        .route(&format!("{}{{service}}", proto::live::GATEWAY_PREFIX), post(live::answer))
        .route("/catalogue/{*path}", get(catalogue_file))
        .layer(axum::middleware::from_fn_with_state(gw.clone(), date_header))
        .with_state(gw)
}

/// Every answer carries the gateway's time (`Date`), from which kiosks correct their clocks.
/// Set here rather than left to the HTTP server so it is the gateway's own (possibly skewed) clock.
async fn date_header(
    State(gw): State<Arc<Gateway>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let when = std::time::UNIX_EPOCH + Duration::from_millis(gw.now_ms().max(0) as u64);
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(when)) {
        response.headers_mut().insert(header::DATE, v);
    }
    response
}

/// A file of the catalogue repository. Only plain names below the repository: no `..`, no
/// hidden files, no directory listings.
async fn catalogue_file(
    State(gw): State<Arc<Gateway>>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Response {
    let Some(root) = &gw.catalogue_repo else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let safe = path.split('/').all(|c| {
        !c.is_empty()
            && !c.starts_with('.')
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    });
    if !safe {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Streamed: OS releases are hundreds of MB.
    match tokio::fs::File::open(root.join(&path)).await {
        Ok(file) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file)),
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Counts and the fleet view (plain HTTP; bind to loopback or an admin network).
pub fn admin_router(gw: Arc<Gateway>) -> Router {
    Router::new()
        .route("/admin/counts", get(counts))
        .route("/admin/ratings", get(ratings))
        .route("/v1/fleet", get(fleet_json))
        .route("/fleet", get(fleet_html))
        .with_state(gw)
}

/// TLS that insists on a client certificate issued by the kiosk CA.
pub fn tls_config(certs_dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let ca = CertificateDer::pem_file_iter(certs_dir.join(certs::CA))
        .with_context(|| format!("reading {}", certs_dir.join(certs::CA).display()))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut roots = rustls::RootCertStore::empty();
    for c in ca {
        roots.add(c)?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots)).build()?;
    let chain =
        CertificateDer::pem_file_iter(certs_dir.join(certs::SERVER))?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(certs_dir.join(certs::SERVER_KEY))?;
    let config =
        rustls::ServerConfig::builder().with_client_cert_verifier(verifier).with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    parsed.subject().iter_common_name().next()?.as_str().ok().map(str::to_owned)
}

/// Serves the API over mutual TLS until the listener fails.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    gw: Arc<Gateway>,
) -> Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let app = api_router(gw);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake refused");
                    return;
                }
            };
            let kiosk = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).and_then(common_name);
            let abort = Arc::new(Notify::new());
            let service =
                TowerToHyperService::new(app.layer(Extension(Conn { kiosk, abort: abort.clone() })));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = abort.notified() => tracing::debug!(%peer, "connection dropped on purpose"),
            }
        });
    }
}

/// A running gateway, for tests and the demo.
#[derive(Debug)]
pub struct Running {
    pub api: SocketAddr,
    pub admin: SocketAddr,
    pub gateway: Arc<Gateway>,
}

/// A development gateway in `dir`, for demos and tests: dev certificates for `kiosk_ids`, the
/// app key's secret, its own store, both ports on loopback. Returns the running gateway.
pub async fn start_dev(
    dir: &Path,
    kiosk_ids: &[String],
    app_key: &str,
    secret: &[u8],
    faults: Faults,
    seed: u64,
    catalogue_repo: Option<std::path::PathBuf>,
) -> Result<Running> {
    certs::generate(&dir.join("certs"), kiosk_ids)?;
    let mut gw = Gateway::new(
        &dir.join("gateway.db"),
        HashMap::from([(app_key.to_owned(), secret.to_vec())]),
        faults,
        seed,
    )?;
    if let Some(repo) = catalogue_repo {
        gw = gw.with_catalogue_repo(repo);
    }
    start(gw, &dir.join("certs"), "127.0.0.1:0".parse()?, "127.0.0.1:0".parse()?).await
}

/// Binds both ports and serves them on the current runtime.
pub async fn start(gw: Gateway, certs_dir: &Path, api: SocketAddr, admin: SocketAddr) -> Result<Running> {
    let tls = tls_config(certs_dir)?;
    let gw = Arc::new(gw);
    let api_listener = TcpListener::bind(api).await.with_context(|| format!("binding {api}"))?;
    let admin_listener = TcpListener::bind(admin).await.with_context(|| format!("binding {admin}"))?;
    let running =
        Running { api: api_listener.local_addr()?, admin: admin_listener.local_addr()?, gateway: gw.clone() };
    tokio::spawn(serve_tls(api_listener, tls, gw.clone()));
    let admin_app = admin_router(gw);
    tokio::spawn(async move { axum::serve(admin_listener, admin_app).await });
    Ok(running)
}
