//! Talking to the running server's admin address, for `pjprov status` and `pjprov notify`: one HTTP/1.1
//! request over one connection (hyper's client).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

use crate::cli::AdminClient;

/// `GET path` as JSON; `None` when the server refused it (said on standard error, the command then exits 1).
pub fn get_json(admin: &AdminClient, path: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let (status, text) = call(admin, "GET", path, None)?;
    if status != 200 {
        eprintln!("pjprov: the server said {status}: {}", text.trim());
        return Ok(None);
    }
    Ok(Some(serde_json::from_str(&text)?))
}

/// Sends `method path` (with a JSON `body`) and returns the status and the body.
pub fn call(
    admin: &AdminClient,
    method: &str,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<(u16, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let stream = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            tokio::net::TcpStream::connect(admin.admin),
        )
        .await
        .map_err(|_| anyhow::anyhow!("{} did not answer", admin.admin))?
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot reach pjprov's admin address {}: {e} (is `pjprov serve` running? --admin gives its --admin-listen)",
                admin.admin
            )
        })?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, admin.admin.to_string());
        if let Some(token) = &admin.token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            sender.send_request(request),
        )
        .await
        .map_err(|_| anyhow::anyhow!("{} took too long to answer", admin.admin))??;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    })
}
