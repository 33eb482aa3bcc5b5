//! RTSP over TLS (`rtsps://`): the rustls configurations of the server and of the client.
//!
//! rustls with its `ring` provider: no OpenSSL, and no cmake or assembler at build time (what
//! the default aws-lc-rs provider would need). The connections themselves live with their
//! runtimes ([`crate::server::runtime`], [`crate::client`]); this module only turns files and
//! options into configurations, with errors that name the file and never show key material.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use crate::client::CertificateCheck;

/// The default port of `rtsps://` (RFC 2326 3.2).
pub const DEFAULT_TLS_PORT: u16 = 322;

/// Why a TLS configuration could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate file could not be read or holds no certificate.
    #[error("certificate file {}: {reason}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The private key file could not be read or holds no usable key.
    #[error("private key file {}: {reason}", path.display())]
    PrivateKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never its content).
        reason: String,
    },
    /// The certificate and key do not make a usable identity (for example they do not match).
    #[error("certificate and key: {0}")]
    Identity(String),
    /// The system's trusted roots could not be loaded.
    #[error("no trusted root certificates: {0}")]
    Roots(String),
}

/// What a PEM reading error says, without the bytes it quotes (a key file's lines are secret).
fn pem_reason(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::Io(io) => io.to_string(),
        Error::NoItemsFound => "no PEM section of the expected kind".to_owned(),
        Error::MissingSectionEnd { .. } => "a PEM section has no END line".to_owned(),
        Error::IllegalSectionStart { .. } => "a malformed PEM BEGIN line".to_owned(),
        Error::Base64Decode(_) => "malformed base64 in a PEM section".to_owned(),
        _ => "malformed PEM".to_owned(),
    }
}

/// Every certificate of a PEM file (a chain: the leaf first).
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |reason: String| TlsError::Certificate {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(pem_reason(&e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(pem_reason(&e)))?;
    if certs.is_empty() {
        return Err(err("no CERTIFICATE section".to_owned()));
    }
    Ok(certs)
}

/// rustls with *ring*: rustls 0.23.48 marks it deprecated because *ring* has no post-quantum key
/// exchange (only aws-lc-rs does), but aws-lc-rs needs cmake and an assembler to build, and the
/// peers RTSPS meets (GnuTLS in FFmpeg and GStreamer, cameras) negotiate X25519 or P-256 anyway.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The server's certificate chain and private key, ready to serve `rtsps://`.
#[derive(Clone)]
pub struct ServerIdentity {
    config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration holds the private key: nothing of it goes into a log.
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// The identity in two PEM files: `cert` (the chain, leaf first) and `key` (PKCS#8, PKCS#1
    /// or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain = certificates(cert)?;
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::PrivateKey {
            path: key.to_owned(),
            reason: pem_reason(&e),
        })?;
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Identity(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| TlsError::Identity(e.to_string()))?;
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// A new server side of a TLS connection.
    pub(crate) fn accept(&self) -> Result<rustls::ServerConnection, rustls::Error> {
        rustls::ServerConnection::new(Arc::clone(&self.config))
    }
}

/// The client configuration for `check`.
pub(crate) fn client_config(
    check: &CertificateCheck,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Identity(e.to_string()))?;
    let roots = match check {
        CertificateCheck::InsecureAcceptAny => {
            let verifier = AcceptAny(provider());
            let config = builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            return Ok(Arc::new(config));
        }
        CertificateCheck::CaFile(path) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(path)? {
                roots.add(cert).map_err(|e| TlsError::Certificate {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
            roots
        }
        CertificateCheck::SystemRoots => {
            // The system's store (Debian's ca-certificates), not a copy built into the library:
            // an administrator's added or removed CAs count.
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            // A store with a few unreadable entries is still a store; none at all is not.
            let (_added, _ignored) = roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map_or_else(|| "the system has none".to_owned(), ToString::to_string);
                return Err(TlsError::Roots(why));
            }
            roots
        }
    };
    Ok(Arc::new(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

/// The name the client expects in the server's certificate.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_owned())
        .map_err(|_| TlsError::Identity(format!("{host:?} is not a valid TLS server name")))
}

/// [`CertificateCheck::InsecureAcceptAny`]: takes any certificate, but still checks that the server
/// holds its key (the handshake's signatures), as an unchecked connection costs no less.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rtsp_core_tls_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn identity_from_made_certificate() {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = scratch("ok.crt");
        let key = scratch("ok.key");
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
        let identity = ServerIdentity::from_pem_files(&cert, &key).unwrap();
        // What a log shows of it: nothing of the key.
        assert_eq!(format!("{identity:?}"), "ServerIdentity { .. }");
        identity.accept().unwrap();
        client_config(&CertificateCheck::CaFile(cert.clone())).unwrap();
        client_config(&CertificateCheck::InsecureAcceptAny).unwrap();
    }

    #[test]
    fn bad_files_are_named_and_keys_never_shown() {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = scratch("bad.crt");
        let key = scratch("bad.key");
        let other_key = scratch("other.key");
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&other_key, other.key_pair.serialize_pem()).unwrap();

        let missing = scratch("missing.crt");
        let e = ServerIdentity::from_pem_files(&missing, &key).unwrap_err();
        assert!(matches!(e, TlsError::Certificate { .. }), "{e}");
        assert!(e.to_string().contains("missing.crt"), "{e}");

        // A key file whose base64 is broken: the error names the file, not its lines.
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nSECRETSECRET!!\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = ServerIdentity::from_pem_files(&cert, &key).unwrap_err();
        assert!(matches!(e, TlsError::PrivateKey { .. }), "{e}");
        assert!(e.to_string().contains("bad.key"), "{e}");
        assert!(!e.to_string().contains("SECRET"), "{e}");

        // The certificate's file given as the key: no key in it.
        let e = ServerIdentity::from_pem_files(&cert, &cert).unwrap_err();
        assert!(matches!(e, TlsError::PrivateKey { .. }), "{e}");

        // A key that is not the certificate's.
        let e = ServerIdentity::from_pem_files(&cert, &other_key).unwrap_err();
        assert!(matches!(e, TlsError::Identity(_)), "{e}");

        // A CA file without certificates.
        let e = client_config(&CertificateCheck::CaFile(other_key.clone())).unwrap_err();
        assert!(matches!(e, TlsError::Certificate { .. }), "{e}");
    }
}
