//! Opening connections: [`ConnectionSpec`] → `tokio_postgres` client over TLS or not, with
//! errors turned into one clear line, and [`probe`] to check a server.
//!
//! TLS is rustls (with the *ring* provider) through `tokio-postgres-rustls`, set up by [`Tls`]
//! from the spec's `sslmode` and files, as libpq does (see [`SslMode`] for the table):
//!
//! - `prefer` / `allow` / `require` without a root certificate file encrypt without checking the
//!   server's certificate (a verifier that accepts any chain but still checks the handshake
//!   signatures);
//! - `require` when a root certificate file exists, and `verify-ca`, check the chain against
//!   `sslrootcert` (default `~/.postgresql/root.crt`) but not the host name;
//! - `verify-full` checks the chain and that the certificate names the host (or its IP address);
//! - `sslrootcert=system` trusts the platform's CA store and, like libpq 16, only goes with
//!   `verify-full` (its default then);
//! - a client certificate (`sslcert`, default `~/.postgresql/postgresql.crt`, with `sslkey`) is
//!   sent when its file exists.
//!
//! libpq's retries are kept where they matter: `allow` tries again with TLS, and `prefer` again
//! without, when the server refuses the first login with SQLSTATE 28000 (a `pg_hba.conf` that
//! wants, or refuses, encryption). `connect_timeout` bounds each whole attempt (TCP connection,
//! TLS and login), not only the TCP connection.

use crate::spec::{ConnectionSpec, PasswordSource, SslMode};
use crate::{Error, runtime};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::error::Error as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::Client;
use tokio_postgres::config::SslMode as WireSslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What [`probe`] learns about a server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerInfo {
    /// `server_version`, e.g. `15.20 (Debian 15.20-0+deb12u1)`.
    pub version: String,
    /// `server_version_num`, e.g. `150020`.
    pub version_num: i32,
    /// `current_user`.
    pub user: String,
    /// `current_database()`.
    pub database: String,
    /// Whether the user is a superuser (needed to `SET deadlock_timeout`).
    pub superuser: bool,
    /// Whether this session is encrypted (`pg_stat_ssl.ssl`).
    pub tls: bool,
}

/// Connects and asks the server who and what it is. The error for an unreachable host, a
/// refused login, a TLS failure, or something that is not PostgreSQL is one line without the
/// password.
pub async fn probe(spec: &ConnectionSpec) -> Result<ServerInfo, Error> {
    let client = connect(spec, None).await?;
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), \
                    current_setting('server_version_num')::int4, \
                    current_user::text, current_database()::text, \
                    current_setting('is_superuser') = 'on', \
                    coalesce((SELECT ssl FROM pg_catalog.pg_stat_ssl \
                              WHERE pid = pg_catalog.pg_backend_pid()), false)",
            &[],
        )
        .await
        .map_err(|e| query_error("reading the server version", &e))?;
    Ok(ServerInfo {
        version: row.get(0),
        version_num: row.get(1),
        user: row.get(2),
        database: row.get(3),
        superuser: row.get(4),
        tls: row.get(5),
    })
}

/// Blocking [`probe`], on a current-thread runtime of its own. Do not call it from async code.
pub fn probe_blocking(spec: &ConnectionSpec) -> Result<ServerInfo, Error> {
    runtime()?.block_on(probe(spec))
}

/// Opens one connection and spawns its I/O task on the current tokio runtime.
/// `application_name` overrides the spec's (used to name the runner's sessions).
pub(crate) async fn connect(
    spec: &ConnectionSpec,
    application_name: Option<&str>,
) -> Result<Client, Error> {
    let tls = Tls::new(spec)?;
    connect_with(spec, application_name, &tls).await
}

/// [`connect`] with TLS already set up (a session keeps its [`Tls`] for cancel requests).
pub(crate) async fn connect_with(
    spec: &ConnectionSpec,
    application_name: Option<&str>,
    tls: &Tls,
) -> Result<Client, Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(spec.host())
        .port(spec.port())
        .user(spec.user())
        .dbname(spec.dbname())
        .application_name(application_name.unwrap_or(spec.application_name()));
    if let Some(addr) = spec.hostaddr().and_then(|a| a.parse().ok()) {
        config.hostaddr(addr);
    }
    if let Some(p) = spec.password() {
        config.password(p.expose());
    }
    if let Some(t) = spec.connect_timeout() {
        config.connect_timeout(t);
    }
    if let Some(o) = spec.options() {
        config.options(o);
    }
    let timeout = spec.connect_timeout();
    // A retry that fails too reports both attempts, like libpq.
    let both = |first: Failure, first_label, second: Failure, second_label| {
        vec![(first_label, first), (second_label, second)]
    };
    let result = match tls.wire_mode() {
        WireSslMode::Disable if tls.sslmode == SslMode::Allow && !tls.unix_socket => {
            match attempt(&mut config, WireSslMode::Disable, tls, timeout).await {
                Err(first) if first.refused_login() => {
                    attempt(&mut config, WireSslMode::Require, tls, timeout)
                        .await
                        .map_err(|second| both(first, "without TLS", second, "with TLS"))
                }
                other => other.map_err(|f| vec![("", f)]),
            }
        }
        WireSslMode::Prefer => {
            match attempt(&mut config, WireSslMode::Prefer, tls, timeout).await {
                Err(first) if first.used_tls && first.refused_login() => {
                    attempt(&mut config, WireSslMode::Disable, tls, timeout)
                        .await
                        .map_err(|second| both(first, "with TLS", second, "without TLS"))
                }
                other => other.map_err(|f| vec![("", f)]),
            }
        }
        mode => attempt(&mut config, mode, tls, timeout)
            .await
            .map_err(|f| vec![("", f)]),
    };
    match result {
        Ok(client) => Ok(client),
        Err(failures) => Err(connect_error(spec, tls, &failures).await),
    }
}

/// One failed connection attempt.
struct Failure {
    /// `None` when the attempt ran out of `connect_timeout`.
    error: Option<tokio_postgres::Error>,
    /// Whether a TLS handshake was started.
    used_tls: bool,
    /// The attempt's bound.
    timeout: Option<Duration>,
}

impl Failure {
    /// The server refused the login (SQLSTATE 28000: no `pg_hba.conf` line for it).
    fn refused_login(&self) -> bool {
        self.error
            .as_ref()
            .and_then(|e| e.code())
            .is_some_and(|c| *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
    }
}

async fn attempt(
    config: &mut tokio_postgres::Config,
    mode: WireSslMode,
    tls: &Tls,
    timeout: Option<Duration>,
) -> Result<Client, Failure> {
    config.ssl_mode(mode);
    let connector = tls.connector();
    let used = Arc::clone(&connector.used);
    let connecting = config.connect(connector);
    let result = match timeout {
        Some(t) => match tokio::time::timeout(t, connecting).await {
            Ok(r) => r.map_err(Some),
            Err(_) => Err(None),
        },
        None => connecting.await.map_err(Some),
    };
    match result {
        Ok((client, connection)) => {
            tokio::spawn(async move {
                // Errors surface on the client's next query; nothing to report here.
                let _ = connection.await;
            });
            Ok(client)
        }
        Err(error) => Err(Failure {
            error,
            used_tls: used.load(Ordering::Relaxed),
            timeout,
        }),
    }
}

/// The TLS side of the connections to one [`ConnectionSpec`]: the rustls configuration (trust
/// anchors, how much to verify, client certificate), built once from the spec's settings and
/// files, and what to say about them in errors. A [`Session`](crate::session::Session) keeps
/// it for its cancel requests, which need the same TLS as the connection.
#[derive(Clone)]
pub(crate) struct Tls {
    /// The effective `sslmode`.
    sslmode: SslMode,
    /// Unix socket connections are never encrypted.
    unix_socket: bool,
    rustls: MakeRustlsConnect,
    /// What is checked, for errors.
    verify: Verify,
}

/// How much of the server's certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verify {
    /// Nothing (the handshake signatures still are).
    Nothing,
    /// The chain, against the trust anchors described.
    Chain(String),
    /// The chain and the host name.
    ChainAndName(String),
}

impl Tls {
    /// Sets up TLS for `spec`: reads the root certificates and the client certificate the
    /// `sslmode` needs. Errors ([`Error::Tls`]) name the file and what to do.
    pub(crate) fn new(spec: &ConnectionSpec) -> Result<Tls, Error> {
        let sslmode = spec.sslmode();
        if spec.sslrootcert() == Some("system") && sslmode != SslMode::VerifyFull {
            return Err(Error::Tls(format!(
                "weak sslmode={sslmode} may not be used with sslrootcert=system \
                 (use sslmode=verify-full)"
            )));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let unix_socket = spec.is_unix_socket();
        let in_use = !unix_socket && sslmode != SslMode::Disable;
        let (roots, verify) = if in_use {
            trust_anchors(spec, sslmode)?
        } else {
            (None, Verify::Nothing)
        };
        let verifier = Arc::new(Verifier {
            webpki: match roots {
                Some(roots) => Some(
                    WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots),
                        Arc::clone(&provider),
                    )
                    .build()
                    .map_err(|e| Error::Tls(format!("cannot use the root certificates: {e}")))?,
                ),
                None => None,
            },
            check_name: matches!(verify, Verify::ChainAndName(_)),
            provider: Arc::clone(&provider),
        });
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let client_cert = if in_use {
            client_certificate(spec)?
        } else {
            None
        };
        let mut config = match client_cert {
            Some((path, certs, key)) => builder.with_client_auth_cert(certs, key).map_err(|e| {
                Error::Tls(format!(
                    "cannot use the client certificate {}: {e}",
                    path.display()
                ))
            })?,
            None => builder.with_no_client_auth(),
        };
        // What libpq 17 sends; servers before 17 ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(Tls {
            sslmode,
            unix_socket,
            rustls: MakeRustlsConnect::new(config),
            verify,
        })
    }

    /// The first mode to ask tokio-postgres for.
    fn wire_mode(&self) -> WireSslMode {
        if self.unix_socket {
            return WireSslMode::Disable;
        }
        match self.sslmode {
            SslMode::Disable | SslMode::Allow => WireSslMode::Disable,
            SslMode::Prefer => WireSslMode::Prefer,
            _ => WireSslMode::Require,
        }
    }

    /// A connector for one connection (or cancel request).
    pub(crate) fn connector(&self) -> TlsConnector {
        TlsConnector {
            inner: self.rustls.clone(),
            used: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The root certificates `sslmode` needs, and what is verified with them.
fn trust_anchors(
    spec: &ConnectionSpec,
    sslmode: SslMode,
) -> Result<(Option<RootCertStore>, Verify), Error> {
    let verifying = matches!(sslmode, SslMode::VerifyCa | SslMode::VerifyFull);
    if !verifying && sslmode != SslMode::Require {
        return Ok((None, Verify::Nothing));
    }
    let (roots, described) = if spec.sslrootcert() == Some("system") {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err(Error::Tls(
                "sslrootcert=system: no CA certificates found in the system's store \
                 (install ca-certificates, or give sslrootcert=FILE)"
                    .to_string(),
            ));
        }
        (roots, "the system's CA certificates".to_string())
    } else {
        let path = match spec.sslrootcert() {
            Some(p) => Some(PathBuf::from(p)),
            None => spec.postgresql_file("root.crt"),
        };
        let Some(path) = path.filter(|p| p.exists()) else {
            if !verifying {
                // libpq: `require` without a root certificate file checks nothing.
                return Ok((None, Verify::Nothing));
            }
            let shown = match spec.sslrootcert() {
                Some(p) => p.to_string(),
                None => spec
                    .postgresql_file("root.crt")
                    .map_or_else(|| "~/.postgresql/root.crt".to_string(), show_path),
            };
            return Err(Error::Tls(format!(
                "root certificate file {shown} does not exist, and sslmode={sslmode} needs one \
                 (give sslrootcert=FILE, use sslrootcert=system for the system's CAs, or \
                 sslmode=require to skip the check)"
            )));
        };
        (read_roots(&path)?, format!("a CA in {}", show_path(path)))
    };
    let verify = match sslmode {
        SslMode::VerifyFull => Verify::ChainAndName(described),
        _ => Verify::Chain(described),
    };
    Ok((Some(roots), verify))
}

fn read_roots(path: &Path) -> Result<RootCertStore, Error> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::Tls(format!(
            "cannot read root certificate file {}: {e}",
            path.display()
        ))
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
        let cert = cert.map_err(|e| unreadable(&e))?;
        roots.add(cert).map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(unreadable(&"no PEM certificates in it"));
    }
    Ok(roots)
}

type ClientCert = (
    PathBuf,
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
);

/// The client certificate and key, when the certificate file exists (libpq: a missing
/// certificate file, given or default, means no client certificate).
fn client_certificate(spec: &ConnectionSpec) -> Result<Option<ClientCert>, Error> {
    let cert_path = match spec.sslcert() {
        Some(p) => Some(PathBuf::from(p)),
        None => spec.postgresql_file("postgresql.crt"),
    };
    let Some(cert_path) = cert_path.filter(|p| p.is_file()) else {
        return Ok(None);
    };
    let key_path = match spec.sslkey() {
        Some(p) => PathBuf::from(p),
        None => spec
            .postgresql_file("postgresql.key")
            .unwrap_or_else(|| cert_path.with_extension("key")),
    };
    let Ok(meta) = std::fs::metadata(&key_path) else {
        return Err(Error::Tls(format!(
            "certificate {} is present, but not its private key file {} (give sslkey=FILE)",
            cert_path.display(),
            key_path.display()
        )));
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let mode = meta.permissions().mode();
        // libpq: u=rw (0600) or less, or u=rw,g=r (0640) or less when root owns it.
        let loose = if meta.uid() == 0 {
            mode & 0o037 != 0
        } else {
            mode & 0o077 != 0
        };
        if loose {
            return Err(Error::Tls(format!(
                "private key file {} has group or world access; permissions should be u=rw \
                 (0600) or less",
                key_path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::Tls(format!(
                "cannot read client certificate {}: {e}",
                cert_path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Tls(format!(
            "no PEM certificate in client certificate file {}",
            cert_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| {
        Error::Tls(format!(
            "cannot read private key {} (PEM, not encrypted): {e}",
            key_path.display()
        ))
    })?;
    Ok(Some((cert_path, certs, key)))
}

fn show_path(p: impl AsRef<Path>) -> String {
    p.as_ref().display().to_string()
}

/// The server certificate check of one `sslmode`: webpki's chain check when there are trust
/// anchors, with its host name verdict ignored for `verify-ca` (webpki checks the name last,
/// after the chain, so a name error means the chain was good).
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `tokio-postgres-rustls`'s connector, noting whether a handshake was started (the server
/// said yes to the SSL request), so `prefer` knows whether a refused login was over TLS.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    inner: MakeRustlsConnect,
    used: Arc<AtomicBool>,
}

impl<S> MakeTlsConnect<S> for TlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    MakeRustlsConnect: MakeTlsConnect<S>,
{
    type Stream = <MakeRustlsConnect as MakeTlsConnect<S>>::Stream;
    type TlsConnect = NotingConnect<<MakeRustlsConnect as MakeTlsConnect<S>>::TlsConnect>;
    type Error = <MakeRustlsConnect as MakeTlsConnect<S>>::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Self::TlsConnect, Self::Error> {
        Ok(NotingConnect {
            inner: MakeTlsConnect::<S>::make_tls_connect(&mut self.inner, domain)?,
            used: Arc::clone(&self.used),
        })
    }
}

/// One handshake of a [`TlsConnector`].
pub(crate) struct NotingConnect<T> {
    inner: T,
    used: Arc<AtomicBool>,
}

impl<S, T: TlsConnect<S>> TlsConnect<S> for NotingConnect<T> {
    type Stream = T::Stream;
    type Error = T::Error;
    type Future = T::Future;

    fn connect(self, stream: S) -> Self::Future {
        self.used.store(true, Ordering::Relaxed);
        self.inner.connect(stream)
    }
}

/// The one-line error for a failed connection: each attempt's reason, labelled when there
/// were two.
async fn connect_error(
    spec: &ConnectionSpec,
    tls: &Tls,
    failures: &[(&'static str, Failure)],
) -> Error {
    let mut parts = Vec::new();
    for (label, failure) in failures {
        let reason = failure_reason(spec, tls, failure).await;
        parts.push(if label.is_empty() {
            reason
        } else {
            format!("{label}: {reason}")
        });
    }
    let mut reason = parts.join("; ");
    if let Some(p) = spec.password() {
        // Belt and braces: no server or driver message should contain it, but never print it.
        if p.expose().len() >= 3 {
            reason = reason.replace(p.expose(), "****");
        }
    }
    Error::Connect {
        target: spec.to_string(),
        reason,
    }
}

/// Why one attempt failed, with a hint.
async fn failure_reason(spec: &ConnectionSpec, tls: &Tls, failure: &Failure) -> String {
    let Some(e) = &failure.error else {
        return format!(
            "no answer from the server within {} s (is the host reachable, and is that a \
             PostgreSQL server? see connect_timeout)",
            failure.timeout.map_or(0, |t| t.as_secs())
        );
    };
    if let Some(r) = tls_reason(spec, tls, e) {
        return r;
    }
    if describe(e).contains("server does not support TLS") {
        return no_tls_reason(spec, tls).await;
    }
    let mut r = describe(e);
    r.push_str(&hint(spec, e));
    r
}

/// Why a TLS handshake failed, from the rustls error behind `e`.
fn tls_reason(spec: &ConnectionSpec, tls: &Tls, e: &tokio_postgres::Error) -> Option<String> {
    let err = source_chain(e).find_map(|s| {
        s.downcast_ref::<rustls::Error>().or_else(|| {
            s.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        })
    })?;
    let mode = tls.sslmode;
    let trust = match &tls.verify {
        Verify::Chain(t) | Verify::ChainAndName(t) => t.as_str(),
        Verify::Nothing => "a trusted CA",
    };
    let name_mismatch = |presented: &[String]| {
        let names = if presented.is_empty() {
            String::new()
        } else {
            // rustls shows them as `DnsName("db.example.com")`: keep the name.
            let names: Vec<&str> = presented
                .iter()
                .map(|n| match (n.find('"'), n.rfind('"')) {
                    (Some(a), Some(b)) if a < b => &n[a + 1..b],
                    _ => n.as_str(),
                })
                .collect();
            format!(" (it names {})", names.join(", "))
        };
        format!(
            "TLS: the server's certificate is not valid for the host name `{}`{names} \
             (sslmode={mode}: connect with a name the certificate gives, or use \
             sslmode=verify-ca to check only the CA)",
            spec.host()
        )
    };
    Some(match err {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => format!(
                "TLS: the server's certificate is not trusted: it is not signed by {trust} \
                 (sslmode={mode})"
            ),
            CertificateError::NotValidForName => name_mismatch(&[]),
            CertificateError::NotValidForNameContext { presented, .. } => name_mismatch(presented),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("TLS: the server's certificate has expired (sslmode={mode})")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!(
                    "TLS: the server's certificate is not valid yet (sslmode={mode}; check the \
                     clocks)"
                )
            }
            CertificateError::Revoked => {
                format!("TLS: the server's certificate has been revoked (sslmode={mode})")
            }
            _ => format!("TLS: the server's certificate was rejected: {err} (sslmode={mode})"),
        },
        rustls::Error::AlertReceived(alert) => format!(
            "TLS: the server ended the handshake with the alert {alert:?} (sslmode={mode}; does \
             the server want a client certificate, or not accept the one sent? see sslcert and \
             sslkey)"
        ),
        // The server said yes to the SSL request, then did not speak TLS.
        rustls::Error::InvalidMessage(_) => {
            format!("TLS handshake failed: {err} (sslmode={mode}; is that a PostgreSQL server?)")
        }
        _ => format!("TLS handshake failed: {err} (sslmode={mode})"),
    })
}

/// The server answered the SSL request with something else than `S`: PostgreSQL without SSL
/// says `N`; anything else is not PostgreSQL. tokio-postgres does not tell the two apart, so
/// ask again on a connection of our own.
async fn no_tls_reason(spec: &ConnectionSpec, tls: &Tls) -> String {
    match ssl_answer(spec).await {
        Some(b) if b != b'N' => format!(
            "the server answered the SSL request with byte 0x{b:02x} instead of S or N \
             (is that a PostgreSQL server?)"
        ),
        _ => format!(
            "the server does not support SSL, but sslmode={} needs TLS (turn ssl on in the \
             server's configuration, or use sslmode=prefer)",
            tls.sslmode
        ),
    }
}

/// The first byte a server answers to an `SSLRequest`, within two seconds.
async fn ssl_answer(spec: &ConnectionSpec) -> Option<u8> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    /// Length 8, then the SSL request code 80877103.
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let host = spec.hostaddr().unwrap_or(spec.host()).to_string();
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect((host.as_str(), spec.port()))
            .await
            .ok()?;
        stream.write_all(&SSL_REQUEST).await.ok()?;
        let mut answer = [0u8];
        stream.read_exact(&mut answer).await.ok()?;
        Some(answer[0])
    };
    tokio::time::timeout(Duration::from_secs(2), ask)
        .await
        .ok()
        .flatten()
}

/// A hint for a connection failure: where the rejected password came from, or what a failure
/// the server did not explain itself probably means.
fn hint(spec: &ConnectionSpec, e: &tokio_postgres::Error) -> String {
    use std::io::ErrorKind;
    const NOT_POSTGRES: &str = " (is that a PostgreSQL server?)";
    if e.as_db_error().is_some() {
        if e.code() != Some(&SqlState::INVALID_PASSWORD) {
            return String::new();
        }
        return match spec.password_source() {
            Some(PasswordSource::File(p)) => format!(" (password from {})", p.display()),
            Some(PasswordSource::Environment) => " (password from PGPASSWORD)".to_string(),
            _ => String::new(),
        };
    }
    let top = e.to_string();
    let io = source_chain(e).find_map(|s| s.downcast_ref::<std::io::Error>());
    let hint = match io.map(std::io::Error::kind) {
        Some(ErrorKind::ConnectionRefused) => {
            " (is the server running and accepting TCP connections on that host and port?)"
        }
        Some(ErrorKind::TimedOut) => " (is the host reachable? see connect_timeout)",
        Some(ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) => NOT_POSTGRES,
        Some(ErrorKind::NotFound) if spec.is_unix_socket() => {
            " (is the server running, with its socket in that directory and on that port?)"
        }
        Some(_) => "",
        None if top.starts_with("timeout") => " (is the host reachable? see connect_timeout)",
        None if top.starts_with("unexpected message")
            || top.starts_with("error parsing response")
            || top.starts_with("connection closed") =>
        {
            NOT_POSTGRES
        }
        None if describe(e).contains("password missing") => {
            return match spec.passfile_ignored() {
                Some(p) => format!(
                    " (the server asks for a password: give one in the connection string, \
                     PGPASSWORD or the password file; {} was skipped because group or others \
                     may read it: chmod 0600 it)",
                    p.display()
                ),
                None => " (the server asks for a password: give one in the connection string, \
                          PGPASSWORD or the password file ~/.pgpass)"
                    .to_string(),
            };
        }
        None => "",
    };
    hint.to_string()
}

fn source_chain<'a>(
    e: &'a tokio_postgres::Error,
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(e.source(), |s| (*s).source())
}

/// One line for a driver error: the server's `SEVERITY: message (SQLSTATE …)` when the server
/// answered, else the driver's message and its causes joined by `: `.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    let mut parts = vec![e.to_string()];
    for s in source_chain(e) {
        let s = s.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// A failed runner query as [`Error::Query`].
pub(crate) fn query_error(context: &str, e: &tokio_postgres::Error) -> Error {
    Error::Query {
        context: context.to_string(),
        sqlstate: e.code().map(|c| c.code().to_string()),
        message: match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => describe(e),
        },
    }
}
