//! `openkms server`: start-up as a sequence of named steps, then serve until a signal.
//!
//! take_env_secrets → load_config → harden_process → warm_rng → prepare_data_dir → open_store →
//! unlock_root_key → open_service → open_nonce_journal (single node) → ensure_root_credentials →
//! open_audit (checked against its anchor in the store) → tls_config → bind → serve (with the
//! background key work and the anchor recorder beside it, stopped by the same signal) → wait for
//! the background work → close the audit log → store its last head. Each step fails with one
//! line that says what is wrong and what to do. With `--seal shamir` there is no root key at
//! start: the server starts sealed (open_service and ensure_root_credentials wait for the
//! unseal shares, [`shamir`]). The request handling itself is the api crate's; the background
//! loop is [`due_work`]'s.

mod anchor;
mod due_work;
mod hygiene;
pub mod rotate;
mod shamir;
mod token;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use openkms_api::audit::{AuditLog, Expected};
use openkms_api::auth::journal::{NonceJournal, Restored};
use openkms_api::slot::ServiceSlot;
use openkms_api::{App, ServerOptions};
use openkms_core::service::RootAccessKey;
use openkms_core::{
    AnchorStore, KeyService, OsRandom, ReplayStore, RootKey, RootSeal, RotationStore, SecretBytes,
    ServiceConfig, SoftwareProvider, Store, SystemClock,
};
use openkms_pkcs11::Token;
use openkms_store_postgres::{PostgresStore, ServingLock};
use openkms_store_sqlite::SqliteStore;
use tokio::net::TcpListener;

use crate::config::{SealMode, ServerArgs, ServerConfig, Storage, Transport};
use crate::{files, tls};
use hygiene::{ENV_ROOT_AK_ID, ENV_ROOT_AK_SECRET, ENV_ROOT_KEY, EnvSecrets};

/// Largest request body accepted, in bytes: a secret's `SecretData` (at most 30,720 bytes,
/// which the Tea SDK sends in the form body) percent-encodes to at most 92,160 bytes, and the
/// other parameters of a request are a few KiB. Bodies are buffered whole, so with the
/// connection cap this bounds what request bodies can hold in memory (10,000 connections ×
/// 128 KiB at most, the same order as the 128 KiB request heads' bound already allows).
const MAX_BODY_BYTES: usize = 128 * 1024;
/// How often due deletions and rotations are looked for (and cache counters exported).
const DUE_WORK_PERIOD: Duration = Duration::from_secs(10);
/// How long the exit waits for a background pass under way (e.g. a slow database).
const DUE_WORK_GRACE: Duration = Duration::from_secs(30);
/// Shortest root AccessKey secret accepted when one is chosen (the generated ones have 30).
const MIN_ROOT_SECRET_CHARS: usize = 16;
/// Longest root AccessKey id accepted when one is chosen (the request bound on AccessKeyId).
const MAX_ROOT_ACCESS_KEY_ID_BYTES: usize = openkms_api::auth::MAX_ACCESS_KEY_ID_BYTES;

/// Runs the server until SIGINT or SIGTERM.
pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    // First, while the process has one thread: nothing after this sees the secrets in the
    // environment.
    let secrets = EnvSecrets::take();
    let config = ServerConfig::load(args)?;
    if hygiene::database_password_in_arguments(std::env::args_os()) {
        tracing::warn!(
            "the database URL's password is on the command line, readable by every local user; \
             give it with --database-url-file (or OPENKMS_DATABASE_URL) instead"
        );
    }
    hygiene::harden_process(config.hygiene.allow_core_dumps)?;
    warm_rng();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config, secrets))
}

/// Starts aws-lc's random generator on a thread of its own: its first draw sets up the CPU
/// jitter entropy source, most of a start's CPU time, which then overlaps with reading the
/// configuration and opening the store instead of delaying the first key or request.
fn warm_rng() {
    let _ = std::thread::Builder::new()
        .name("openkms-rng-warmup".into())
        .spawn(|| aws_lc_rs::rand::fill(&mut [0u8; 1]));
}

async fn serve(config: ServerConfig, secrets: EnvSecrets) -> anyhow::Result<()> {
    files::ensure_dir(&config.data_dir)?;
    hygiene::check_data_dir(&config.data_dir, config.hygiene.allow_open_data_dir)?;
    // Held until the server exits: a second server, or `root-key rotate`, is refused meanwhile.
    let _lock = files::lock_data_dir(&config.data_dir)?;
    let backend = open_store(&config, Opener::Server).await?;
    // Whether this start continues earlier ones: then the audit log must have history.
    let data_exists = KeyService::data_exists(backend.store.as_ref()).await?;
    let restored_from = anchor::restored(backend.store.as_ref()).await?;
    let token = token::open(&config, secrets.pkcs11_pin)?;
    let root = unlock_root_key(
        &config,
        secrets.root_key,
        token.as_ref(),
        backend.store.as_ref(),
    )
    .await?;
    let slot = Arc::new(ServiceSlot::sealed());
    let operator = match root {
        Unlocked::Now(root) => {
            let service =
                open_service(backend.store.clone(), root, &config, token.as_ref()).await?;
            let chosen = chosen_root_access_key(
                &config,
                secrets.root_access_key_id,
                secrets.root_access_key_secret,
            )?;
            ensure_root_credentials(&service, &config.data_dir, chosen).await?;
            slot.fill(service);
            None
        }
        Unlocked::Later => {
            if secrets.root_access_key_id.is_some() || secrets.root_access_key_secret.is_some() {
                tracing::warn!(
                    "{ENV_ROOT_AK_ID} is ignored with seal = shamir: the root AccessKey is made by `openkms operator init`"
                );
            }
            Some(shamir::operator(&slot, backend.store.clone(), &config, token).await?)
        }
    };
    // Nodes sharing a database keep their nonces in it; a single node in its nonce journal.
    // Either way a replay is refused after a restart or a crash.
    let shared_nonces = shares_database(&config).then_some(backend.replay);
    let journal = open_nonce_journal(&config, shared_nonces.is_none())?;
    let audit = open_audit(&config, data_exists, backend.anchors, restored_from).await?;
    install_metrics(&config)?;
    let tls = tls::server_config(&config)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen: cannot bind {}", config.listen))?;
    let console = bind_console(&config, tls.clone()).await?;
    let console_addr = console.as_ref().map(|(l, _)| l.local_addr()).transpose()?;
    // Listening for the signals before the ready line: one sent right after it must stop the
    // server cleanly, not kill it (the default action).
    let signals = shutdown_signal()?;
    announce(&listener, &config, console_addr)?;
    let (stop, stop_signal) = due_work::stop_channel();
    let console_stop = stop_signal.clone();
    let jobs = tokio::spawn(due_work::run(
        slot.clone(),
        shared_nonces.clone(),
        DUE_WORK_PERIOD,
        stop_signal,
    ));
    let mut app = App::over_slot(slot, &config.region_id, MAX_BODY_BYTES)
        .over_tls(tls.is_some())
        .with_body_deadline(config.request_timeout)
        .with_limits(config.limits.limits());
    if let Some(replay) = shared_nonces {
        app = app.with_shared_nonces(replay);
    }
    if let Some(operator) = operator {
        app = app.with_operator(operator);
    }
    if let Some((journal, restored)) = journal {
        app = app.with_nonce_journal(journal, restored);
    }
    let console_task = console.map(|(listener, options)| {
        let console = openkms_console::Console::new(
            app.slot().clone(),
            audit.as_ref().map(|(log, _)| log.clone()),
            console_config(&config, options.tls.is_some()),
        )
        .with_limits(app.limits());
        let mut stop = console_stop;
        tokio::spawn(async move {
            let stopped = async move { stop.stopped().await };
            openkms_api::serve(listener, Arc::new(console), options, stopped).await
        })
    });
    let app = Arc::new(match &audit {
        Some((log, _)) => app.with_audit(log.clone()),
        None => app,
    });
    let options = ServerOptions {
        tls,
        max_connections: connection_cap(config.max_connections),
        max_connections_per_source: config.max_connections_per_source,
        header_timeout: config.request_timeout,
        write_timeout: config.request_timeout,
        ..ServerOptions::default()
    };
    let shutdown = async move {
        signals.await;
        stop.stop();
    };
    let served = openkms_api::serve(listener, app, options, shutdown).await;
    if let Some(task) = console_task {
        let _ = task.await;
    }
    wait_for_due_work(jobs).await;
    served?;
    if let Some((log, recorder)) = audit {
        log.close();
        anchor::finish(recorder).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves Prometheus metrics on `metrics_listen`, when set.
fn install_metrics(config: &ServerConfig) -> anyhow::Result<()> {
    let Some(addr) = config.metrics_listen else {
        return Ok(());
    };
    let buckets = [
        0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
    ];
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&buckets)
        .context("metrics buckets")?
        .with_http_listener(addr)
        .install()
        .with_context(|| format!("metrics_listen: cannot serve metrics on {addr}"))?;
    tracing::info!(%addr, "Prometheus metrics on /metrics");
    Ok(())
}

/// Where the keys live, for messages.
fn store_location(config: &ServerConfig) -> String {
    match config.storage {
        Storage::Sqlite => config.data_dir.display().to_string(),
        Storage::Postgres { .. } => "the PostgreSQL database".to_owned(),
    }
}

/// The opened backend, seen through the two contracts it serves.
struct Backend {
    /// What the key service keeps.
    store: Arc<dyn Store>,
    /// The request nonces nodes sharing the backend record.
    replay: Arc<dyn ReplayStore>,
    /// The audit log heads recorded outside the log.
    anchors: Arc<dyn AnchorStore>,
    /// The wrapped blobs, for root-key rotation.
    rotation: Arc<dyn RotationStore>,
    /// PostgreSQL's serving lock (shared for a server, exclusive for a rotation), held as long
    /// as the backend is.
    _lock: Option<ServingLock>,
}

/// Who opens the store, which decides the PostgreSQL serving lock taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opener {
    /// A server: the lock shared, beside the other nodes.
    Server,
    /// A root-key rotation: the lock exclusive, refused while any node serves.
    Rotation,
}

impl Backend {
    fn of<S: Store + ReplayStore + AnchorStore + RotationStore>(backend: S) -> Self {
        let backend = Arc::new(backend);
        Self {
            store: backend.clone(),
            replay: backend.clone(),
            anchors: backend.clone(),
            rotation: backend,
            _lock: None,
        }
    }
}

async fn open_store(config: &ServerConfig, opener: Opener) -> anyhow::Result<Backend> {
    match &config.storage {
        Storage::Sqlite => {
            let path = config.data_dir.join("openkms.db");
            let store = SqliteStore::open(&path)
                .with_context(|| format!("store: cannot open {}", path.display()))?;
            hygiene::tighten(&hygiene::database_files(&config.data_dir))?;
            Ok(Backend::of(store))
        }
        Storage::Postgres { url, pool_size } => {
            let store = PostgresStore::connect(&url.0, *pool_size)
                .await
                .context("database_url: cannot use the PostgreSQL database")?;
            tracing::info!(store = ?store, "using PostgreSQL");
            let lock = serving_lock(&store, opener).await?;
            Ok(Backend {
                _lock: Some(lock),
                ..Backend::of(store)
            })
        }
    }
}

/// The PostgreSQL serving lock `opener` takes: a rotation never runs beside a serving node.
async fn serving_lock(store: &PostgresStore, opener: Opener) -> anyhow::Result<ServingLock> {
    let lock = match opener {
        Opener::Server => Some(store.hold_serving_lock().await?),
        Opener::Rotation => store.try_exclusive_lock().await?,
    };
    lock.context(
        "the PostgreSQL database is in use by a running openkms node; stop every node first",
    )
}

/// Whether other nodes may share the store (PostgreSQL).
fn shares_database(config: &ServerConfig) -> bool {
    matches!(config.storage, Storage::Postgres { .. })
}

/// Opens `<data-dir>/nonces`, the journal that keeps a single node's nonces across restarts,
/// when `wanted`; with the nonces still live from before.
fn open_nonce_journal(
    config: &ServerConfig,
    wanted: bool,
) -> anyhow::Result<Option<(NonceJournal, Restored)>> {
    if !wanted {
        return Ok(None);
    }
    let dir = config.data_dir.join("nonces");
    let (journal, restored) = NonceJournal::open(&dir).with_context(|| {
        format!(
            "nonce journal: cannot use {}; check the data directory's permissions and free space",
            dir.display()
        )
    })?;
    tracing::debug!(restored = restored.len(), "nonce journal opened");
    Ok(Some((journal, restored)))
}

/// Opens the audit log before the socket, so a server that cannot record requests never
/// serves them, and starts recording its head in the store. Over existing data
/// (`data_exists`) a log without history, or one ending before the head recorded for this
/// node, is an error on stderr and a `gap` line (docs/audit.md); unless the store was
/// `restored` and this node has recorded no head since: then a `restored` line.
async fn open_audit(
    config: &ServerConfig,
    data_exists: bool,
    anchors: Arc<dyn AnchorStore>,
    restored: Option<openkms_api::audit::Restored>,
) -> anyhow::Result<Option<(AuditLog, tokio::task::JoinHandle<()>)>> {
    let Some(audit) = &config.audit else {
        tracing::warn!("audit log off: requests are not recorded");
        return Ok(None);
    };
    if audit.fail_open {
        tracing::warn!(
            "audit log fail-open: requests are served even when they cannot be recorded"
        );
    }
    let node = anchor::node(config)?;
    let stored = anchor::read(anchors.as_ref(), &node).await?;
    let expected = Expected {
        data_exists,
        anchor: stored.clone(),
        restored,
    };
    let log = AuditLog::open_expecting(audit, &expected).map_err(|e| {
        anyhow::anyhow!("audit_log: {e}; set --audit-log to a writable file (or off)")
    })?;
    if stored.is_none() && log.heads().borrow().seq > 0 {
        tracing::warn!(
            "no audit anchor recorded for this node yet (first start with anchors, or a new node id): the end of the existing audit log cannot be checked at this start"
        );
    }
    let recorder = anchor::record(log.heads(), anchors, node, stored);
    Ok(Some((log, recorder)))
}

/// The root key, when the server has it at start.
enum Unlocked {
    /// Read, made or found in the token now: the server starts unsealed.
    Now(Arc<dyn RootSeal>),
    /// Put together later from unseal shares: the server starts sealed.
    Later,
}

/// Where the root key comes from, by seal mode: the file now ([`read_root_key_file`]), the
/// token now ([`token::root_seal`]), or Shamir shares later.
async fn unlock_root_key(
    config: &ServerConfig,
    from_env: Option<SecretBytes>,
    token: Option<&Arc<Token>>,
    store: &dyn Store,
) -> anyhow::Result<Unlocked> {
    if config.seal.mode != SealMode::File
        && (from_env.is_some() || config.hygiene.root_key_file.is_some())
    {
        bail!(
            "seal = {:?} takes no root key file: unset {ENV_ROOT_KEY} and root_key_file",
            config.seal.mode
        );
    }
    match config.seal.mode {
        SealMode::File => Ok(Unlocked::Now(Arc::new(
            read_root_key_file(config, from_env, store).await?,
        ))),
        SealMode::Shamir => Ok(Unlocked::Later),
        SealMode::Pkcs11 => {
            let token = token.context("pkcs11_module: required with seal = pkcs11")?;
            Ok(Unlocked::Now(token::root_seal(token, config, store).await?))
        }
    }
}

/// The root key from `OPENKMS_ROOT_KEY`, or `root_key_file`, or `root.key`, or — only over
/// an empty store — a new one written to `root.key` before anything is stored under it.
async fn read_root_key_file(
    config: &ServerConfig,
    from_env: Option<SecretBytes>,
    store: &dyn Store,
) -> anyhow::Result<RootKey> {
    let data_dir = &config.data_dir;
    if let Some(text) = from_env {
        let text = std::str::from_utf8(text.expose_secret()).unwrap_or("");
        return RootKey::from_base64(text)
            .with_context(|| format!("{ENV_ROOT_KEY}: not the base64 of 32 bytes"));
    }
    if let Some(path) = &config.hygiene.root_key_file {
        let text = hygiene::read_secret_file("root_key_file", path)?;
        let text = std::str::from_utf8(text.expose_secret()).unwrap_or("");
        return RootKey::from_base64(text).with_context(|| {
            format!(
                "root_key_file: {} is not the base64 of 32 bytes",
                path.display()
            )
        });
    }
    let path = data_dir.join(files::ROOT_KEY_FILE);
    if path.exists() {
        let bytes = SecretBytes::new(files::read_private(&path)?);
        let text = std::str::from_utf8(bytes.expose_secret()).unwrap_or("");
        return RootKey::from_base64(text).with_context(|| {
            format!("root key: {} is not the base64 of 32 bytes", path.display())
        });
    }
    if KeyService::data_exists(store).await? {
        bail!(
            "root key: {} is missing but {} holds keys; restore root.key from your backup (or set {ENV_ROOT_KEY}). \
             Without it the stored keys cannot be opened.",
            path.display(),
            store_location(config)
        );
    }
    let root = RootKey::generate(&OsRandom::new());
    files::write_private(
        &path,
        &[root.to_base64().expose_secret(), b"\n"].concat(),
        true,
    )?;
    tracing::info!(path = %path.display(), "generated a new root key; back it up");
    Ok(root)
}

/// The key service over `store` under `root`, with the token's HSM keys when a token is
/// configured, and the quotas.
pub(crate) async fn open_service(
    store: Arc<dyn Store>,
    root: Arc<dyn RootSeal>,
    config: &ServerConfig,
    token: Option<&Arc<Token>>,
) -> anyhow::Result<Arc<KeyService>> {
    let settings = ServiceConfig {
        region_id: config.region_id.clone(),
        account_id: config.account_id.clone(),
        cache_ttl_ms: config.cache_ttl_ms,
    };
    let rng = Arc::new(OsRandom::new());
    let provider = Arc::new(SoftwareProvider::new(root.clone(), rng.clone()));
    let mut service =
        KeyService::open_with_provider(store, root, provider, Arc::new(SystemClock), rng, settings)
            .await
            .map_err(|e| match e {
                openkms_core::service::StartupError::WrongRootKey => anyhow::anyhow!(
                    "root key: the root key does not match the keys stored in {}; use the root key they were created with",
                    store_location(config)
                ),
                other => anyhow::anyhow!("start-up: {other}"),
            })?;
    if let Some(token) = token {
        service = service.with_hsm_provider(token::hsm_provider(token));
    }
    Ok(Arc::new(service.with_quotas(config.limits.quotas)))
}

/// The root AccessKey chosen by `OPENKMS_ROOT_ACCESS_KEY_ID` with its secret from
/// `OPENKMS_ROOT_ACCESS_KEY_SECRET` or `root_access_key_secret_file`; `None` when neither id
/// nor secret is given. A secret shorter than 16 characters, or an id with no secret (or a
/// secret with no id), stops the start.
fn chosen_root_access_key(
    config: &ServerConfig,
    id: Option<String>,
    secret: Option<SecretBytes>,
) -> anyhow::Result<Option<RootAccessKey>> {
    let secret = match (secret, &config.hygiene.root_access_key_secret_file) {
        (Some(_), Some(_)) => {
            bail!("{ENV_ROOT_AK_SECRET} and root_access_key_secret_file are both set; use the file")
        }
        (Some(secret), None) => Some(secret),
        (None, Some(path)) => Some(hygiene::read_secret_file(
            "root_access_key_secret_file",
            path,
        )?),
        (None, None) => None,
    };
    let (access_key_id, secret) = match (id, secret) {
        (None, None) => return Ok(None),
        (Some(id), Some(secret)) => (id, secret),
        (Some(_), None) => bail!("{ENV_ROOT_AK_ID} needs its secret (root_access_key_secret_file)"),
        (None, Some(_)) => bail!("the root AccessKey secret needs {ENV_ROOT_AK_ID}"),
    };
    let chars = std::str::from_utf8(secret.expose_secret()).map_or(0, |s| s.chars().count());
    if chars < MIN_ROOT_SECRET_CHARS {
        bail!(
            "the chosen root AccessKey secret has {chars} characters; it needs at least {MIN_ROOT_SECRET_CHARS} (leave it unset to have one generated)"
        );
    }
    if access_key_id.len() > MAX_ROOT_ACCESS_KEY_ID_BYTES {
        bail!("{ENV_ROOT_AK_ID}: longer than {MAX_ROOT_ACCESS_KEY_ID_BYTES} bytes");
    }
    Ok(Some(RootAccessKey {
        access_key_id,
        secret,
    }))
}

/// At first start, makes the root AccessKey `chosen` or generates one into
/// `root-credentials.json` (written before it is stored, so it is never lost).
async fn ensure_root_credentials(
    service: &KeyService,
    data_dir: &Path,
    chosen: Option<RootAccessKey>,
) -> anyhow::Result<()> {
    if let Some(existing) = service.root_access_key_id().await? {
        if let Some(chosen) = &chosen
            && chosen.access_key_id != existing
        {
            tracing::warn!(
                "{ENV_ROOT_AK_ID} is ignored: this data directory's root AccessKey was set at its first start"
            );
        }
        return Ok(());
    }
    let candidate = match chosen {
        Some(chosen) => chosen,
        None => {
            let generated = RootAccessKey::generate(service);
            write_credentials(data_dir, &generated)?;
            generated
        }
    };
    service.ensure_root_access_key(&candidate).await?;
    Ok(())
}

fn write_credentials(data_dir: &Path, ak: &RootAccessKey) -> anyhow::Result<()> {
    let path = data_dir.join(files::CREDENTIALS_FILE);
    let secret = std::str::from_utf8(ak.secret.expose_secret()).unwrap_or_default();
    let json = serde_json::json!({ "AccessKeyId": ak.access_key_id, "AccessKeySecret": secret });
    let text = SecretBytes::new(format!("{json:#}\n").into_bytes());
    files::write_private(&path, text.expose_secret(), false)?;
    tracing::info!(path = %path.display(), "root AccessKey generated; its credentials are in this file");
    Ok(())
}

/// Time a console connection has for its TLS handshake.
const CONSOLE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a console request's headers have to arrive, and an idle console connection stays
/// open (shorter than the request timeout: a browser sends its headers at once).
const CONSOLE_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the console's listener when it is on (its line is printed by [`announce`]).
async fn bind_console(
    config: &ServerConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> anyhow::Result<Option<(TcpListener, ServerOptions)>> {
    let Some(addr) = config.console_listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("console_listen: cannot bind {addr} (or run with --console off)")
    })?;
    let options = ServerOptions {
        tls,
        max_connections: config.console_max_connections,
        max_connections_per_source: config.console_max_connections_per_source,
        handshake_timeout: CONSOLE_HANDSHAKE_TIMEOUT,
        header_timeout: config.request_timeout.min(CONSOLE_HEADER_TIMEOUT),
        write_timeout: config.request_timeout,
        ..ServerOptions::default()
    };
    Ok(Some((listener, options)))
}

/// What the console shows about this server.
fn console_config(config: &ServerConfig, secure: bool) -> openkms_console::ConsoleConfig {
    openkms_console::ConsoleConfig {
        version: env!("CARGO_PKG_VERSION"),
        store: store_location(config),
        audit_path: config.audit.as_ref().map(|a| a.path.clone()),
        secure,
        sessions: openkms_console::SessionLimits::default(),
    }
}

/// Prints the one ready line on stdout (tests and scripts read it), then, when the console is
/// on, its line (`openkms: console on https://127.0.0.1:8444/console/`), both in one write: a
/// reader that takes the first line and closes the pipe never makes the second one fail.
/// Logs the rest.
fn announce(
    listener: &TcpListener,
    config: &ServerConfig,
    console: Option<std::net::SocketAddr>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let scheme = match config.transport {
        Transport::InsecureHttp => {
            tracing::warn!("serving plain HTTP: requests and keys travel unencrypted");
            "http"
        }
        _ => "https",
    };
    let mut lines = format!("openkms: ready on {scheme}://{addr}\n");
    if let Some(console) = console {
        lines.push_str(&format!(
            "openkms: console on {scheme}://{console}/console/\n"
        ));
    }
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, lines.as_bytes())
        .and_then(|()| std::io::Write::flush(&mut out))
        .context("stdout: cannot print the ready line")?;
    Ok(())
}

/// Raises the open-file soft limit to the hard limit (as Go-based servers do by themselves)
/// and caps connections below it, keeping descriptors for the store, the audit log and the
/// listener: no client can then make the server unable to open a file or accept at all.
/// `wanted` is the configured cap, lowered when the limit leaves less room.
fn connection_cap(wanted: usize) -> usize {
    /// Descriptors kept for everything but client connections.
    const RESERVED: u64 = 128;
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return wanted;
        }
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED)).unwrap_or(usize::MAX);
    let cap = wanted.min(room.max(1));
    if cap < wanted {
        tracing::warn!(
            limit,
            cap,
            "the open-file limit is low: fewer connections at once"
        );
    }
    cap
}

/// Waits (boundedly) for the background loop, which the shutdown signal (or `serve`
/// returning, which drops its stop) has told to finish its pass and exit.
async fn wait_for_due_work(jobs: tokio::task::JoinHandle<()>) {
    match tokio::time::timeout(DUE_WORK_GRACE, jobs).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "background key work ended abnormally"),
        Err(_) => tracing::warn!("shutdown: background key work still running; leaving it"),
    }
}

/// Listens for SIGTERM and SIGINT from now on; the future resolves at the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("signals: cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("signals: cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down");
    })
}
