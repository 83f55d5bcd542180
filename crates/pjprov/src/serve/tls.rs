//! HTTPS: a rustls server configuration from PEM files, rebuilt at every reload (a renewed certificate is
//! picked up by the next connection), and the client-certificate verifier for phones' factory
//! certificates.
//!
//! rustls uses the *ring* provider (no C toolchain needed for aws-lc) and verifies client certificates with
//! webpki: RSA of at least 2048 bits or ECDSA, SHA-256 or better. Phones whose factory chains are older
//! (1024-bit or SHA-1) cannot present them to pjprov; they fall back to the other controls.

use std::sync::Arc;

use pjprov_core::settings::TlsFiles;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// Builds the server configuration; `Ok(None)` when no certificate is configured. Errors name the file.
pub fn server_config(files: &TlsFiles) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    let (Some(cert), Some(key)) = (&files.cert, &files.key) else {
        return Ok(None);
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| format!("{}: cannot read certificates: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no PEM certificate in it", cert.display()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: cannot read a private key: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("{}: cannot read CA certificates: {e}", ca.display()))?;
            // Issue #18: which vendors' factory CAs these are, by fingerprint (data/device-cas.tsv).
            for cert in &certs {
                let (subject, sha256, known) = crate::access::describe_ca(cert);
                match known {
                    Some(known) => {
                        tracing::info!(file = %ca.display(), ca = %subject, sha256 = %sha256,
                        vendor = known.vendor, "client CA: {}'s factory CA", known.vendor)
                    }
                    None => tracing::info!(file = %ca.display(), ca = %subject, sha256 = %sha256,
                        "client CA: not in pjprov's table of factory CAs (compare its fingerprint with your vendor's)"),
                }
            }
            let (added, ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("{}: no usable CA certificate in it", ca.display()));
            }
            if ignored > 0 {
                tracing::warn!(file = %ca.display(), ignored, "some CA certificates cannot be used and are ignored");
            }
            // Phones without a certificate may still connect: the policy decides what they get.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| format!("{}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, private)
        .map_err(|e| format!("{} and {}: {e}", cert.display(), key.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}
