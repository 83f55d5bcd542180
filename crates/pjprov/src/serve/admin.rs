//! The admin address: `/` (the status page), `/metrics`, `/healthz`, and the API under `/api/v1/`
//! (`docs/api.md`).
//!
//! Reading is open to whoever reaches the address (loopback by default). Anything that changes state
//! (`POST /api/v1/notify`, `POST /api/v1/enrol/open` and `/close`) answers loopback clients only, unless
//! `[admin] token` is set and presented as `Authorization: Bearer TOKEN` ([`may_change`]).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::body::Body;
use super::http::{self, Conn, State};
use super::{api, metrics, status_page};

/// Largest request body the API reads.
const MAX_BODY: usize = 64 * 1024;

/// Answers one admin request.
pub async fn handle(
    state: Arc<State>,
    conn: Conn,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    Ok(match (req.method().clone(), path.as_str()) {
        (Method::GET | Method::HEAD, "/metrics") => {
            let (throttle_clients, throttle_refused) = state.access.throttle_gauges();
            let snapshot = state.snapshot.load();
            let (digest_nonces, digest_replays) = state.access.nonce_gauges(&snapshot);
            let views = api::phones(&snapshot, &state.inventory);
            let gauges = metrics::Gauges {
                throttle_clients,
                throttle_refused,
                log_dropped: state.log.as_ref().map_or(0, |sink| sink.dropped()),
                phones_by_state: api::counts(&views),
                database_up: state.database.gauges().0,
                database_failures: state.database.gauges().1,
                digest_nonces,
                digest_replays,
                enrol_windows: state
                    .access
                    .enrolment()
                    .open_windows(jiff::Timestamp::now().as_second()),
            };
            let mut response = http::plain(StatusCode::OK, &state.metrics.render(gauges));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        (Method::GET | Method::HEAD, "/healthz") => http::health(&state),
        (Method::GET | Method::HEAD, "/") => {
            let page = status_page::render(&state, &query);
            typed(StatusCode::OK, "text/html; charset=utf-8", page)
        }
        (Method::GET, "/api/v1/phones") => json(StatusCode::OK, &api::list(&state, &query)),
        (Method::GET, "/api/v1/unknown") => json(StatusCode::OK, &api::unknown(&state)),
        (Method::GET, p) if p.starts_with("/api/v1/phones/") => {
            match api::one(&state, &p["/api/v1/phones/".len()..]) {
                Some(value) => json(StatusCode::OK, &value),
                None => problem(StatusCode::NOT_FOUND, "no phone has that MAC"),
            }
        }
        (Method::GET, "/api/v1/enrol") => json(StatusCode::OK, &api::enrol_list(&state)),
        // Issue #18: provisioning windows. Changes state: loopback or the token, as notify.
        (Method::POST, "/api/v1/enrol/open" | "/api/v1/enrol/close") => {
            if !may_change(&state, &conn, &req) {
                problem(
                    StatusCode::FORBIDDEN,
                    "changes are for loopback clients, or with the [admin] token as a bearer token",
                )
            } else {
                let open = path == "/api/v1/enrol/open";
                match read_body(req).await {
                    Err(status) => problem(status, "the request body is too large or broken"),
                    Ok(body) => {
                        let answer = if open {
                            api::enrol_open(&state, http::normalize(conn.peer.ip()), &body)
                        } else {
                            api::enrol_close(&state, &body)
                        };
                        match answer {
                            Ok(value) => json(StatusCode::OK, &value),
                            Err((status, why)) => problem(
                                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                                &why,
                            ),
                        }
                    }
                }
            }
        }
        (Method::POST, "/api/v1/notify") => {
            if !may_change(&state, &conn, &req) {
                problem(
                    StatusCode::FORBIDDEN,
                    "changes are for loopback clients, or with the [admin] token as a bearer token",
                )
            } else {
                match read_body(req).await {
                    Err(status) => problem(status, "the request body is too large or broken"),
                    Ok(body) => match api::notify(&state, &body) {
                        Ok(value) => json(StatusCode::ACCEPTED, &value),
                        Err((status, why)) => problem(
                            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                            &why,
                        ),
                    },
                }
            }
        }
        (_, p) if p.starts_with("/api/") => {
            problem(StatusCode::NOT_FOUND, "no such API call (see docs/api.md)")
        }
        _ => http::plain(
            StatusCode::NOT_FOUND,
            "404 Not Found: try /, /metrics, /healthz or /api/v1/phones\n",
        ),
    })
}

/// Whether this request may change state: from loopback, or with the `[admin] token` as a bearer token
/// (compared in constant time).
pub fn may_change<B>(state: &State, conn: &Conn, req: &Request<B>) -> bool {
    let snapshot = state.snapshot.load();
    if let Some(token) = &snapshot.settings().admin.token
        && let Some(presented) = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
    {
        return crate::access::credentials::constant_time_eq(
            presented.trim().as_bytes(),
            token.expose().as_bytes(),
        );
    }
    http::normalize(conn.peer.ip()).is_loopback()
}

async fn read_body(req: Request<hyper::body::Incoming>) -> Result<Bytes, StatusCode> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(StatusCode::PAYLOAD_TOO_LARGE),
    }
}

fn typed(status: StatusCode, content_type: &'static str, text: String) -> Response<Body> {
    let len = text.len();
    let mut response = Response::new(Body::full(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    typed(status, "application/json", value.to_string())
}

fn problem(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({"error": message}))
}
