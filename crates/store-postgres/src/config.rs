//! From a database URL to a connection pool.
//!
//! Owns parsing the URL (or libpq key=value string), the defaults this backend adds
//! (connect timeout, application name, the schema's `search_path`), the choice of transport
//! (plaintext, or rustls with the aws-lc-rs provider for `sslmode=require`), the pool itself,
//! and the password-free description used by `Debug`. Does not run SQL (see `schema`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use openkms_core::StoreError;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How long opening one connection may take when the URL does not say
/// (`connect_timeout=`).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `application_name` the server shows in `pg_stat_activity` unless the URL sets one.
const APPLICATION_NAME: &str = "openkms";

/// The longest schema name PostgreSQL keeps (NAMEDATALEN - 1).
const MAX_SCHEMA_LEN: usize = 63;

/// Parses `url` and adds this backend's defaults; with `schema`, every connection starts
/// with `search_path` set to it.
pub(crate) fn parse(url: &str, schema: Option<&str>) -> Result<Config, StoreError> {
    // The parser's errors name options, never values, so the password cannot leak here.
    let mut config: Config = url
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("the database URL is not valid: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    if let Some(schema) = schema {
        check_schema_name(schema)?;
        let options = match config.get_options() {
            Some(given) => format!("{given} -c search_path={schema}"),
            None => format!("-c search_path={schema}"),
        };
        config.options(options);
    }
    Ok(config)
}

/// Accepts only names that need no quoting anywhere: `[a-z_][a-z0-9_]*`, at most 63 bytes.
pub(crate) fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= MAX_SCHEMA_LEN {
        return Ok(());
    }
    Err(StoreError::Unavailable(format!(
        "schema name {schema:?} must match [a-z_][a-z0-9_]* and be at most {MAX_SCHEMA_LEN} bytes"
    )))
}

/// Builds a pool of at most `size` connections; none is opened until first use.
///
/// `sslmode=require` connects over rustls and verifies the server's certificate and host
/// name against the platform's roots (which honour `SSL_CERT_FILE` / `SSL_CERT_DIR`), so it
/// is as strict as libpq's `verify-full`. Any other mode connects in plaintext (fine for
/// loopback and private networks); `prefer` does not attempt TLS.
pub(crate) fn build_pool(config: Config, size: usize) -> Result<Pool, StoreError> {
    if size == 0 {
        return Err(StoreError::Unavailable(
            "the pool size must be at least 1".to_owned(),
        ));
    }
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match config.get_ssl_mode() {
        SslMode::Require => Manager::from_config(config, rustls_connector()?, manager_config),
        _ => Manager::from_config(config, NoTls, manager_config),
    };
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Unavailable(format!("postgres pool: {e}")))
}

/// A rustls client on the aws-lc-rs provider, trusting the platform's root certificates.
fn rustls_connector() -> Result<MakeRustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("TLS setup: {e}")))?
        .with_root_certificates(native_roots()?)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(tls))
}

/// The platform's trusted roots; an error if there are none (TLS could never succeed).
fn native_roots() -> Result<rustls::RootCertStore, StoreError> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(loaded.certs);
    if roots.is_empty() {
        return Err(StoreError::Unavailable(
            "sslmode=require but no trusted root certificates were found \
             (install ca-certificates or set SSL_CERT_FILE)"
                .to_owned(),
        ));
    }
    Ok(roots)
}

/// `user@host:port,host:port/dbname (tls)`, for `Debug`: everything but the password.
pub(crate) fn describe(config: &Config) -> String {
    let mut out = String::new();
    if let Some(user) = config.get_user() {
        let _ = write!(out, "{user}@");
    }
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_host(&mut out, host);
        if let Some(port) = ports.get(i).or(ports.first()) {
            let _ = write!(out, ":{port}");
        }
    }
    if let Some(dbname) = config.get_dbname() {
        let _ = write!(out, "/{dbname}");
    }
    let tls = matches!(config.get_ssl_mode(), SslMode::Require);
    out.push_str(if tls { " (tls)" } else { " (plaintext)" });
    out
}

/// Appends one host: a name or address, or a Unix socket directory.
fn push_host(out: &mut String, host: &Host) {
    match host {
        Host::Tcp(name) => out.push_str(name),
        #[cfg(unix)]
        Host::Unix(path) => out.push_str(&path.to_string_lossy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        for good in ["openkms", "_x", "openkms_test_12_ab", &"a".repeat(63)] {
            assert!(check_schema_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "Openkms",
            "a-b",
            "a b",
            "a\"b",
            "é",
            &"a".repeat(64),
        ] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parse_adds_defaults_and_search_path() {
        let config = parse("postgres://u:pw@db.example:6543/kms", Some("tenant_a")).unwrap();
        assert_eq!(config.get_options(), Some("-c search_path=tenant_a"));
        assert_eq!(config.get_application_name(), Some("openkms"));
        assert_eq!(config.get_connect_timeout(), Some(&DEFAULT_CONNECT_TIMEOUT));
        let url = "postgres://u@h/d?options=-c%20statement_timeout%3D5s&application_name=x";
        let config = parse(url, Some("s")).unwrap();
        assert_eq!(
            config.get_options(),
            Some("-c statement_timeout=5s -c search_path=s")
        );
        assert_eq!(config.get_application_name(), Some("x"));
    }

    #[test]
    fn parse_errors_do_not_echo_the_url() {
        let err = parse("postgres://u:hunter2@h:notaport/d", None).unwrap_err();
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
        assert!(parse("postgres://u@h/d", Some("Bad")).is_err());
    }

    #[test]
    fn describe_has_everything_but_the_password() {
        let config = parse("postgres://kms:hunter2@a:5433,b/kms?sslmode=require", None).unwrap();
        let text = describe(&config);
        assert_eq!(text, "kms@a:5433,b:5432/kms (tls)");
        let config = parse("host=/run/postgresql user=u password=hunter2", None).unwrap();
        let text = describe(&config);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.ends_with("(plaintext)"), "{text}");
    }

    #[test]
    fn zero_pool_size_is_refused() {
        let config = parse("postgres://u@h/d", None).unwrap();
        assert!(build_pool(config, 0).is_err());
    }
}
