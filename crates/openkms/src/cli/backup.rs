//! `openkms backup` and `openkms restore`: a whole store to one file and back, across
//! backends (docs/backup.md is the runbook, docs/backup-format.md the file format).
//!
//! Backup reads the store in one consistent read ([`openkms_core::SnapshotStore`]; on SQLite
//! through a read-only connection that never writes the database) while servers keep serving,
//! and writes the file atomically (temporary file, fsync, rename; mode 0600). Restore checks
//! the whole file before it opens the target, then imports it in one transaction into a store
//! that must hold no data. Both print one JSON line. The file holds what the store holds:
//! wrapped material and the root key's check value, never a plaintext key; this module never
//! sees the root key. The bytes of the file are [`format`]'s. A restore revokes every import
//! token issued before it and clears the failed-unwrap counts ([`restart_import_tokens`]), so a
//! token revoked after the backup was taken does not work again, nor does an old failure count
//! come back.

pub mod format;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use openkms_core::StoreError;
use openkms_core::store::{MetaEntry, RESTORED_META, Snapshot, SnapshotStore, is_snapshot_meta};
use openkms_store_postgres::PostgresStore;
use openkms_store_sqlite::SqliteStore;
use serde_json::{Map, Value, json};

use crate::config::DatabaseUrl;
use crate::files;

/// The database file of the embedded store in a data directory.
const DATABASE_FILE: &str = "openkms.db";
/// Connections the CLI opens to PostgreSQL.
const POOL_SIZE: usize = 2;

/// Which store: the SQLite one of a data directory, or a PostgreSQL database.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// The data directory of the embedded SQLite store (its database is <DIR>/openkms.db).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://user:password@host/db) instead of a data directory. On
    /// the command line it is visible to every local user: prefer --database-url-file.
    #[arg(long, value_name = "URL", conflicts_with = "data_dir")]
    database_url: Option<DatabaseUrl>,
    /// A file holding the PostgreSQL URL (trimmed), instead of --database-url.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["data_dir", "database_url"])]
    database_url_file: Option<PathBuf>,
}

/// `openkms backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the backup file (written whole or not at all, mode 0600; an existing
    /// file is replaced).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

/// `openkms restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file to restore (at most 1 GiB; a larger file is refused unread).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Only check the file (format version, integrity, every record) and print its summary;
    /// write nothing.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// A chosen store.
enum Target {
    /// `<dir>/openkms.db`.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(DatabaseUrl),
}

impl Target {
    /// The store the arguments name; one must be named.
    fn of(args: StoreArgs) -> anyhow::Result<Self> {
        let url = crate::config::database_url(args.database_url, args.database_url_file)?;
        match (url, args.data_dir) {
            (Some(url), _)
                if !url.0.starts_with("postgres://") && !url.0.starts_with("postgresql://") =>
            {
                bail!("database_url: must start with postgres:// or postgresql://")
            }
            (Some(url), _) => Ok(Self::Postgres(url)),
            (None, Some(dir)) => Ok(Self::Sqlite(dir)),
            (None, None) => bail!(
                "say which store: --data-dir DIR (the embedded SQLite store) or --database-url \
                 URL / --database-url-file PATH (PostgreSQL)"
            ),
        }
    }

    /// The backend's name, as the header and the summaries give it.
    fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgresql",
        }
    }
}

/// Runs `openkms backup`.
pub fn backup(args: BackupArgs) -> ExitCode {
    report("backup", run_backup(args))
}

/// Runs `openkms restore`.
pub fn restore(args: RestoreArgs) -> ExitCode {
    report("restore", run_restore(args))
}

/// Prints the summary line, or the error; the exit code.
fn report(command: &str, result: anyhow::Result<Value>) -> ExitCode {
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("openkms {command}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_backup(args: BackupArgs) -> anyhow::Result<Value> {
    let target = Target::of(args.store)?;
    let snapshot = super::block_on(export(&target))?;
    refuse_unknown_meta(&snapshot)?;
    let created_at = now_rfc3339();
    let header = json!({
        "format": "openkms-backup",
        "created_at": created_at,
        "openkms_version": env!("CARGO_PKG_VERSION"),
        "source": target.backend(),
        "counts": counts(&snapshot),
    });
    let bytes = format::encode(&snapshot, &header);
    if bytes.len() as u64 > format::MAX_FILE_BYTES {
        bail!(
            "the backup would be {} bytes, more than the {} a restore reads; no file was \
             written (say so in an issue)",
            bytes.len(),
            format::MAX_FILE_BYTES
        );
    }
    files::write_private(&args.out, &bytes, false)
        .with_context(|| format!("cannot write the backup to {}", args.out.display()))?;
    let decoded = format::decode(&bytes).context("the file just encoded does not read back")?;
    Ok(json!({
        "backup": args.out.display().to_string(),
        "bytes": bytes.len(),
        "sha256": decoded.sha256,
        "created_at": created_at,
        "source": target.backend(),
        "counts": counts(&snapshot),
    }))
}

/// Refuses a snapshot holding a metadata value no restore would write back (written by a newer
/// openkms, say), rather than a backup that cannot be restored.
fn refuse_unknown_meta(snapshot: &Snapshot) -> anyhow::Result<()> {
    if snapshot.meta.iter().all(|m| is_snapshot_meta(&m.name)) {
        return Ok(());
    }
    bail!(
        "the store holds metadata this openkms version cannot restore (written by a newer \
         version?); back it up with the openkms version the servers run; no file was written"
    )
}

/// The target's snapshot.
async fn export(target: &Target) -> anyhow::Result<Snapshot> {
    match target {
        Target::Sqlite(dir) => {
            let path = dir.join(DATABASE_FILE);
            if !path.is_file() {
                bail!(
                    "no database at {}: --data-dir must be the data directory of a server",
                    path.display()
                );
            }
            SqliteStore::export_database(&path)
                .with_context(|| format!("cannot read {}", path.display()))
        }
        Target::Postgres(url) => {
            let store = connect(url).await?;
            Ok(store
                .export_snapshot()
                .await
                .context("cannot read the database")?)
        }
    }
}

async fn connect(url: &DatabaseUrl) -> anyhow::Result<PostgresStore> {
    PostgresStore::connect(&url.0, POOL_SIZE)
        .await
        .context("database_url: cannot use the PostgreSQL database")
}

/// Counts of the records of every table, by table name.
fn counts(snapshot: &Snapshot) -> Value {
    let counts: Map<String, Value> = snapshot
        .counts()
        .iter()
        .map(|(table, n)| ((*table).to_owned(), json!(n)))
        .collect();
    Value::Object(counts)
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn run_restore(args: RestoreArgs) -> anyhow::Result<Value> {
    let decoded = {
        let bytes = read_backup(&args.input)?;
        format::decode(&bytes).with_context(|| {
            format!(
                "{} cannot be restored; nothing was written",
                args.input.display()
            )
        })?
    }; // the file's bytes are freed here: only the records stay in memory for the import
    let mut summary = json!({
        "backup": args.input.display().to_string(),
        "sha256": decoded.sha256,
        "created_at": decoded.header.get("created_at").cloned().unwrap_or(Value::Null),
        "source": decoded.header.get("source").cloned().unwrap_or(Value::Null),
        "counts": counts(&decoded.snapshot),
    });
    if args.check {
        summary["checked"] = json!(true);
        return Ok(summary);
    }
    let target = Target::of(args.store)?;
    let mut snapshot = with_restore_note(decoded.snapshot, &summary);
    restart_import_tokens(&mut snapshot, now_millis() + 1);
    import(&target, &snapshot)?;
    summary["restored_into"] = json!(target.backend());
    Ok(summary)
}

/// The bytes of the backup file at `path`, refused unread if it is larger than
/// [`format::MAX_FILE_BYTES`] (and read no further than that, whatever its size said: a pipe
/// or a device has none).
fn read_backup(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let cannot = || format!("cannot read {}", path.display());
    let file = std::fs::File::open(path).with_context(cannot)?;
    let size = file.metadata().with_context(cannot)?.len();
    let too_large = || {
        anyhow::Error::new(format::FormatError::TooLarge).context(format!(
            "{} cannot be restored; nothing was written",
            path.display()
        ))
    };
    if size > format::MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(format::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot)?;
    if bytes.len() as u64 > format::MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Revokes every import token issued before `now_ms` (milliseconds) and clears every key's
/// failed-unwrap count: the backup's revocation times may be older than revocations made
/// after it (DeleteKeyMaterial, the failure limit), which a restore must not undo.
fn restart_import_tokens(snapshot: &mut Snapshot, now_ms: i64) {
    for import in &mut snapshot.imports {
        import.tokens_not_before = import.tokens_not_before.max(now_ms);
        import.failed_unwraps = 0;
    }
}

/// The wall clock in milliseconds since the epoch.
fn now_millis() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// The snapshot with the note that it was restored (which backup, when), which the server's
/// first start on it records in its audit log.
fn with_restore_note(mut snapshot: Snapshot, summary: &Value) -> Snapshot {
    let note = json!({
        "restored_at": now_rfc3339(),
        "backup_sha256": summary["sha256"],
        "backup_created_at": summary["created_at"],
    });
    snapshot.meta.retain(|m| m.name != RESTORED_META);
    snapshot.meta.push(MetaEntry {
        name: RESTORED_META.to_owned(),
        value: note.to_string().into_bytes(),
    });
    snapshot
}

/// Imports into the target, which must hold no data.
fn import(target: &Target, snapshot: &Snapshot) -> anyhow::Result<()> {
    match target {
        Target::Sqlite(dir) => import_sqlite(dir, snapshot),
        Target::Postgres(url) => super::block_on(async {
            let store = connect(url).await?;
            let result = store.import_snapshot(snapshot).await;
            explain(result, "the PostgreSQL database")
        }),
    }
}

/// Imports into `<dir>/openkms.db`, creating the directory (mode 0700) and the database if
/// absent, holding the directory's lock (so no server starts on it meanwhile, and a running
/// one is not written under); what this created is removed again if the import fails.
fn import_sqlite(dir: &Path, snapshot: &Snapshot) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let made_dir = !dir.exists();
    files::ensure_dir(dir)?;
    let lock = files::lock_data_dir(dir)?;
    let path = dir.join(DATABASE_FILE);
    let existed = path.exists();
    if existed {
        refuse_if_holding_data(&path, dir)?;
    }
    let store =
        SqliteStore::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let result = super::block_on(store.import_snapshot(snapshot));
    drop(store);
    let database = database_files(&path);
    if result.is_err() && !existed {
        database.iter().for_each(|f| drop(std::fs::remove_file(f)));
        if made_dir {
            drop(std::fs::remove_file(dir.join(files::LOCK_FILE)));
            drop(std::fs::remove_dir(dir));
        }
    } else {
        private(&database)?;
    }
    drop(lock);
    explain(result, &dir.display().to_string())
}

/// Refuses an existing database that holds data, reading it only (so it is not touched).
fn refuse_if_holding_data(path: &Path, dir: &Path) -> anyhow::Result<()> {
    let held = SqliteStore::export_database(path)
        .with_context(|| format!("cannot read {}; nothing was changed", path.display()))?;
    let empty = held.is_empty().then_some(()).ok_or(StoreError::NotEmpty);
    explain(empty, &dir.display().to_string())
}

/// The database file and its WAL companions.
fn database_files(path: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
        .collect()
}

/// Mode 0600 on those of `paths` that exist.
fn private(paths: &[PathBuf]) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for path in paths.iter().filter(|p| p.exists()) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot chmod 600 {}", path.display()))?;
    }
    Ok(())
}

/// The import's error, said for an operator.
fn explain(result: Result<(), StoreError>, target: &str) -> anyhow::Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(StoreError::NotEmpty) => bail!(
            "{target} already holds data; restore only into an empty data directory or an \
             empty database; nothing was changed"
        ),
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("cannot restore into {target}; nothing was written"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A restore revokes every import token issued before it and clears the failure counts,
    /// but never moves a revocation time back.
    #[test]
    fn a_restore_restarts_import_tokens() {
        let mut snapshot = Snapshot::default();
        let old = openkms_core::ImportRecord {
            tokens_not_before: 1_000,
            failed_unwraps: 7,
            ..openkms_core::ImportRecord::fresh("key-1")
        };
        let later = openkms_core::ImportRecord {
            tokens_not_before: 9_000,
            ..openkms_core::ImportRecord::fresh("key-2")
        };
        snapshot.imports = vec![old, later];
        restart_import_tokens(&mut snapshot, 5_000);
        let got: Vec<_> = snapshot
            .imports
            .iter()
            .map(|i| (i.tokens_not_before, i.failed_unwraps))
            .collect();
        assert_eq!(got, vec![(5_000, 0), (9_000, 0)]);
    }
}
