//! The admin address: `/metrics`, `/healthz`, and the API.
//!
//! Reading is open to whoever reaches the address (loopback by default).

use std::convert::Infallible;
use std::sync::Arc;

use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::body::Body;
use super::http::{self, Conn, State};
use super::metrics;

/// Answers one admin request.
pub async fn handle<B>(
    state: Arc<State>,
    _conn: Conn,
    req: Request<B>,
) -> Result<Response<Body>, Infallible> {
    Ok(match req.uri().path() {
        "/metrics" => {
            let (throttle_clients, throttle_refused) = state.access.throttle_gauges();
            let gauges = metrics::Gauges {
                throttle_clients,
                throttle_refused,
                log_dropped: state.log.as_ref().map_or(0, |sink| sink.dropped()),
            };
            let mut response = http::plain(StatusCode::OK, &state.metrics.render(gauges));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        "/healthz" => http::health(&state),
        _ => http::plain(
            StatusCode::NOT_FOUND,
            "404 Not Found: try /metrics or /healthz\n",
        ),
    })
}
