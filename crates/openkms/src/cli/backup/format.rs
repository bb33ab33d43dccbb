//! The backup file format, version 1 (docs/backup-format.md is its specification).
//!
//! A file is the magic, the format version, a JSON header, one record per stored row (a table
//! code and the row's values in the column order of `openkms_core::store::records`), and a
//! trailer holding the record count and a SHA-256 over every byte before the digest. Reading
//! checks the magic, then the version, then the digest, and only then parses: a flipped byte,
//! a cut-off end or a file of another version is refused before anything is written anywhere.
//! The digest detects corruption, not tampering; the wrapped material carries its own AEAD
//! binding to the root key. Owns the bytes only: where they come from and go to is the
//! caller's.

use aws_lc_rs::digest::{SHA256, digest};
use openkms_core::store::records;
use openkms_core::store::{DestroyedVersion, MetaEntry, RecordRow, Snapshot, is_snapshot_meta};
use openkms_core::{
    AccessKeyRecord, AliasRecord, AttachmentRecord, KeyRecord, KeyTag, PolicyRecord, SecretRecord,
    StoreError, StoredSecretVersion, UserRecord, VersionRecord,
};

/// The first bytes of every backup file.
pub const MAGIC: &[u8; 8] = b"OKMSBAK\n";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// The largest header accepted.
const MAX_HEADER: usize = 64 * 1024;
/// The largest file written or read, 1 GiB: more than ten times a store of 100,000 keys
/// (docs/backup-format.md gives the measured bytes per key), and small enough that a crafted
/// file cannot make `openkms restore` take more memory than that (and the records it holds).
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// The byte that ends the records and starts the trailer.
const END: u8 = 0;
/// The size of the SHA-256 digest that ends the file.
const DIGEST_LEN: usize = 32;

/// Why a file is not a backup this build can read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// It does not start with [`MAGIC`].
    #[error("not an openkms backup file (it does not start with the backup magic)")]
    NotABackup,
    /// It is a backup of another format version.
    #[error("backup format version {0} is not one this build reads (it reads version {VERSION})")]
    Version(u16),
    /// It ends early.
    #[error("the file is truncated")]
    Truncated,
    /// It is larger than [`MAX_FILE_BYTES`].
    #[error("the file is larger than {} MiB, the most a backup file may hold", MAX_FILE_BYTES >> 20)]
    TooLarge,
    /// The digest does not match the bytes.
    #[error("the integrity check failed: the file is corrupt (SHA-256 mismatch)")]
    Digest,
    /// Well-formed bytes that do not make a backup (only reachable past the digest).
    #[error("malformed backup: {0}")]
    Malformed(String),
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

/// Each table's code and how many values its records have, in the order of
/// `SNAPSHOT_TABLES` (and of the records in a file).
const TABLES: [(u8, &str, usize); 16] = [
    (1, "meta", 2),
    (2, "keys", 17),
    (3, "key_versions", 4),
    (4, "key_tags", 3),
    (5, "aliases", 3),
    (6, "destroyed_versions", 3),
    (7, "users", 7),
    (8, "policies", 4),
    (9, "policy_attachments", 4),
    (10, "access_keys", 5),
    (11, "login_profiles", 6),
    (12, "secrets", 9),
    (13, "secret_versions", 5),
    (14, "secret_stages", 3),
    (15, "secret_tags", 3),
    (16, "key_imports", 6),
];

/// The whole file for `snapshot` with `header` (a JSON object).
pub fn encode(snapshot: &Snapshot, header: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    let header = header.to_string().into_bytes();
    out.extend_from_slice(&len32(header.len()).to_be_bytes());
    out.extend_from_slice(&header);
    let rows = rows(snapshot);
    for (code, values) in &rows {
        let body = encode_values(values);
        out.push(*code);
        out.extend_from_slice(&len32(body.len()).to_be_bytes());
        out.extend_from_slice(&body);
    }
    out.push(END);
    out.extend_from_slice(&(rows.len() as u64).to_be_bytes());
    let sum = digest(&SHA256, &out);
    out.extend_from_slice(sum.as_ref());
    out
}

/// A length as the format's u32; records and headers are far smaller.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Every row of the snapshot with its table code, table by table.
fn rows(s: &Snapshot) -> Vec<(u8, Vec<Value>)> {
    let mut rows = Vec::with_capacity(s.len());
    rows.extend(s.meta.iter().map(|m| (1, meta_values(m))));
    rows.extend(s.keys.iter().map(|k| (2, key_values(k))));
    rows.extend(s.versions.iter().map(|v| (3, version_values(v))));
    rows.extend(s.tags.iter().map(|t| (4, tag_values(t))));
    rows.extend(s.aliases.iter().map(|a| (5, alias_values(a))));
    rows.extend(s.destroyed.iter().map(|d| (6, destroyed_values(d))));
    rows.extend(s.users.iter().map(|u| (7, user_values(u))));
    rows.extend(s.policies.iter().map(|p| (8, policy_values(p))));
    rows.extend(s.attachments.iter().map(|a| (9, attachment_values(a))));
    rows.extend(s.access_keys.iter().map(|a| (10, access_key_values(a))));
    rows.extend(
        s.login_profiles
            .iter()
            .map(|p| (11, login_profile_values(p))),
    );
    rows.extend(s.secrets.iter().map(|r| (12, secret_values(r))));
    rows.extend(
        s.secret_versions
            .iter()
            .map(|v| (13, secret_version_values(v))),
    );
    rows.extend(s.secret_stages.iter().map(|t| {
        (
            14,
            vec![text(&t.secret_name), text(&t.stage), text(&t.version_id)],
        )
    }));
    rows.extend(s.secret_tags.iter().map(|t| {
        (
            15,
            vec![text(&t.secret_name), text(&t.tag.key), text(&t.tag.value)],
        )
    }));
    rows.extend(s.imports.iter().map(|i| (16, import_values(i))));
    rows
}

/// An import state's columns in the order of `records::import`.
fn import_values(i: &openkms_core::ImportRecord) -> Vec<Value> {
    vec![
        text(&i.key_id),
        i.fingerprint.clone().map_or(Value::Null, Value::Bytes),
        opt_int(i.material_expire_at),
        Value::Int(i.tokens_not_before),
        Value::Int(i.failed_unwraps),
        Value::Bool(i.disabled_before_delete),
    ]
}

/// A secret's columns in the order of `records::secret`.
fn secret_values(r: &SecretRecord) -> Vec<Value> {
    vec![
        text(&r.name),
        text(&r.secret_type),
        text(&r.description),
        opt_text(&r.encryption_key_id),
        Value::Int(r.created_at),
        Value::Int(r.updated_at),
        opt_int(r.planned_delete_at),
        opt_text(&r.policy),
        Value::Int(r.revision),
    ]
}

/// A secret version's columns in the order of `records::stored_secret_version` (its value
/// stays ciphertext under its CMK).
fn secret_version_values(v: &StoredSecretVersion) -> Vec<Value> {
    let version = &v.version;
    vec![
        text(&version.secret_name),
        text(&version.version_id),
        Value::Int(version.created_at),
        text(version.data_type.as_str()),
        Value::Bytes(v.ciphertext.clone()),
    ]
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt_text(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

fn opt_int(n: Option<i64>) -> Value {
    n.map_or(Value::Null, Value::Int)
}

fn meta_values(m: &MetaEntry) -> Vec<Value> {
    vec![text(&m.name), Value::Bytes(m.value.clone())]
}

/// In the column order of `records::key`.
fn key_values(k: &KeyRecord) -> Vec<Value> {
    vec![
        text(&k.key_id),
        text(&k.description),
        text(k.spec.as_str()),
        text(k.usage.as_str()),
        text(k.origin.as_str()),
        text(k.protection_level.as_str()),
        text(k.state.as_str()),
        text(&k.creator),
        Value::Int(k.created_at),
        opt_int(k.delete_at),
        text(&k.primary_version),
        Value::Int(k.last_rotation_at),
        opt_int(k.rotation_interval),
        opt_int(k.next_rotation_at),
        opt_text(&k.deletion_protection),
        opt_text(&k.policy),
        Value::Int(k.revision),
    ]
}

fn version_values(v: &VersionRecord) -> Vec<Value> {
    let material = Value::Bytes(v.wrapped_material.clone());
    vec![
        text(&v.version_id),
        text(&v.key_id),
        Value::Int(v.created_at),
        material,
    ]
}

fn tag_values(t: &KeyTag) -> Vec<Value> {
    vec![text(&t.key_id), text(&t.tag.key), text(&t.tag.value)]
}

fn alias_values(a: &AliasRecord) -> Vec<Value> {
    vec![text(&a.name), text(&a.key_id), Value::Int(a.created_at)]
}

fn destroyed_values(d: &DestroyedVersion) -> Vec<Value> {
    vec![
        text(&d.version_id),
        text(&d.key_id),
        Value::Int(d.destroyed_at),
    ]
}

fn user_values(u: &UserRecord) -> Vec<Value> {
    vec![
        text(&u.user_name),
        text(&u.user_id),
        text(&u.display_name),
        text(&u.mobile_phone),
        text(&u.email),
        text(&u.comments),
        Value::Int(u.created_at),
    ]
}

fn policy_values(p: &PolicyRecord) -> Vec<Value> {
    vec![
        text(&p.policy_name),
        text(&p.description),
        text(&p.document),
        Value::Int(p.created_at),
    ]
}

fn attachment_values(a: &AttachmentRecord) -> Vec<Value> {
    vec![
        text(&a.user_name),
        text(a.policy_type.as_str()),
        text(&a.policy_name),
        Value::Int(a.attached_at),
    ]
}

fn access_key_values(a: &AccessKeyRecord) -> Vec<Value> {
    vec![
        text(&a.access_key_id),
        text(&a.user),
        Value::Bytes(a.wrapped_secret.clone()),
        Value::Bool(a.active),
        Value::Int(a.created_at),
    ]
}

fn login_profile_values(p: &openkms_core::LoginProfileRecord) -> Vec<Value> {
    vec![
        text(&p.user_name),
        text(&p.password_hash),
        Value::Bool(p.password_reset_required),
        Value::Bool(p.mfa_bind_required),
        Value::Int(p.created_at),
        Value::Int(p.updated_at),
    ]
}

/// The values of one record body.
fn encode_values(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        match value {
            Value::Null => out.push(0),
            Value::Int(n) => {
                out.push(1);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Value::Text(s) => put_bytes(&mut out, 2, s.as_bytes()),
            Value::Bytes(b) => put_bytes(&mut out, 3, b),
            Value::Bool(false) => out.push(4),
            Value::Bool(true) => out.push(5),
        }
    }
    out
}

fn put_bytes(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&len32(bytes.len()).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A decoded file: its header and its records.
#[derive(Debug)]
pub struct Decoded {
    /// The header object.
    pub header: serde_json::Value,
    /// The records.
    pub snapshot: Snapshot,
    /// The file's SHA-256 (its last 32 bytes), lowercase hex: names this backup.
    pub sha256: String,
}

/// Checks and parses a whole file.
pub fn decode(file: &[u8]) -> Result<Decoded, FormatError> {
    let body = check(file)?;
    let mut r = Reader {
        bytes: body,
        at: MAGIC.len() + 2,
    };
    let header_len = r.u32()? as usize;
    if header_len > MAX_HEADER {
        return Err(malformed("header too long"));
    }
    let header = serde_json::from_slice(r.take(header_len)?)
        .map_err(|_| malformed("the header is not JSON"))?;
    let mut snapshot = Snapshot::default();
    let mut count = 0u64;
    loop {
        let code = r.u8()?;
        if code == END {
            break;
        }
        let len = r.u32()? as usize;
        let values = decode_values(r.take(len)?)?;
        add_record(&mut snapshot, code, &values)?;
        count += 1;
    }
    if r.u64()? != count || r.at != body.len() {
        return Err(malformed("the trailer does not match the records"));
    }
    let sha256 = hex(&file[file.len() - DIGEST_LEN..]);
    Ok(Decoded {
        header,
        snapshot,
        sha256,
    })
}

/// Checks size, magic, version and digest; the bytes the digest covers.
fn check(file: &[u8]) -> Result<&[u8], FormatError> {
    if file.len() as u64 > MAX_FILE_BYTES {
        return Err(FormatError::TooLarge);
    }
    if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
        return Err(FormatError::NotABackup);
    }
    let version = file
        .get(MAGIC.len()..MAGIC.len() + 2)
        .ok_or(FormatError::Truncated)?;
    let version = u16::from_be_bytes([version[0], version[1]]);
    if version != VERSION {
        return Err(FormatError::Version(version));
    }
    let minimum = MAGIC.len() + 2 + 4 + 1 + 8 + DIGEST_LEN;
    if file.len() < minimum {
        return Err(FormatError::Truncated);
    }
    let (body, sum) = file.split_at(file.len() - DIGEST_LEN);
    if digest(&SHA256, body).as_ref() != sum {
        return Err(FormatError::Digest);
    }
    Ok(body)
}

fn malformed(what: &str) -> FormatError {
    FormatError::Malformed(what.to_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cursor over the checked bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| malformed("a length runs past the end"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, FormatError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, FormatError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// The values of one record body.
fn decode_values(body: &[u8]) -> Result<Vec<Value>, FormatError> {
    let mut r = Reader { bytes: body, at: 0 };
    let mut values = Vec::new();
    while !r.done() {
        let value = match r.u8()? {
            0 => Value::Null,
            1 => Value::Int(r.u64()? as i64),
            2 => {
                let len = r.u32()? as usize;
                let text = std::str::from_utf8(r.take(len)?)
                    .map_err(|_| malformed("a text value is not UTF-8"))?;
                Value::Text(text.to_owned())
            }
            3 => {
                let len = r.u32()? as usize;
                Value::Bytes(r.take(len)?.to_vec())
            }
            4 => Value::Bool(false),
            5 => Value::Bool(true),
            other => {
                return Err(FormatError::Malformed(format!(
                    "unknown value type {other}"
                )));
            }
        };
        values.push(value);
    }
    Ok(values)
}

/// One record's values seen as a stored row, so the core's row mapping reads it.
struct ValueRow<'a>(&'a [Value]);

impl ValueRow<'_> {
    fn get(&self, index: usize, column: &'static str) -> Result<&Value, StoreError> {
        self.0.get(index).ok_or_else(|| records::corrupt(column))
    }
}

impl RecordRow for ValueRow<'_> {
    fn text(&self, index: usize, column: &'static str) -> Result<String, StoreError> {
        match self.get(index, column)? {
            Value::Text(s) => Ok(s.clone()),
            _ => Err(records::corrupt(column)),
        }
    }

    fn opt_text(&self, index: usize, column: &'static str) -> Result<Option<String>, StoreError> {
        match self.get(index, column)? {
            Value::Null => Ok(None),
            _ => self.text(index, column).map(Some),
        }
    }

    fn int(&self, index: usize, column: &'static str) -> Result<i64, StoreError> {
        match self.get(index, column)? {
            Value::Int(n) => Ok(*n),
            _ => Err(records::corrupt(column)),
        }
    }

    fn opt_int(&self, index: usize, column: &'static str) -> Result<Option<i64>, StoreError> {
        match self.get(index, column)? {
            Value::Null => Ok(None),
            _ => self.int(index, column).map(Some),
        }
    }

    fn bytes(&self, index: usize, column: &'static str) -> Result<Vec<u8>, StoreError> {
        match self.get(index, column)? {
            Value::Bytes(b) => Ok(b.clone()),
            _ => Err(records::corrupt(column)),
        }
    }

    fn opt_bytes(&self, index: usize, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.get(index, column)? {
            Value::Null => Ok(None),
            _ => self.bytes(index, column).map(Some),
        }
    }

    fn flag(&self, index: usize, column: &'static str) -> Result<bool, StoreError> {
        match self.get(index, column)? {
            Value::Bool(b) => Ok(*b),
            _ => Err(records::corrupt(column)),
        }
    }
}

/// Adds the record of table `code` to `s`; its values must be exactly the table's columns.
fn add_record(s: &mut Snapshot, code: u8, values: &[Value]) -> Result<(), FormatError> {
    let (_, _, columns) = TABLES
        .iter()
        .find(|(c, _, _)| *c == code)
        .ok_or_else(|| FormatError::Malformed(format!("unknown table code {code}")))?;
    if values.len() != *columns {
        return Err(malformed("a record has the wrong number of values"));
    }
    let row = ValueRow(values);
    push_record(s, code, &row).map_err(|e| FormatError::Malformed(e.to_string()))
}

/// Reads `row` as a record of table `code` (a known code) and adds it to `s`.
fn push_record(s: &mut Snapshot, code: u8, row: &ValueRow<'_>) -> Result<(), StoreError> {
    match code {
        1 => s.meta.push(snapshot_meta(records::meta(row)?)?),
        2 => s.keys.push(records::key(row)?),
        3 => s.versions.push(records::version(row)?),
        4 => s.tags.push(records::key_tag(row)?),
        5 => s.aliases.push(records::alias(row)?),
        6 => s.destroyed.push(records::destroyed(row)?),
        7 => s.users.push(records::user(row)?),
        8 => s.policies.push(records::policy(row)?),
        9 => s.attachments.push(records::attachment(row)?),
        10 => s.access_keys.push(records::access_key(row)?),
        11 => s.login_profiles.push(records::login_profile(row)?),
        12 => s.secrets.push(records::secret(row)?),
        13 => s.secret_versions.push(records::stored_secret_version(row)?),
        14 => s.secret_stages.push(records::secret_stage(row)?),
        15 => s.secret_tags.push(records::secret_tag(row)?),
        _ => s.imports.push(records::import(row)?),
    }
    Ok(())
}

/// `m` if an export writes its name ([`is_snapshot_meta`]): a file naming an audit anchor, a
/// restore's note or an unknown value is refused, even by `restore --check`.
fn snapshot_meta(m: MetaEntry) -> Result<MetaEntry, StoreError> {
    match is_snapshot_meta(&m.name) {
        true => Ok(m),
        false => Err(StoreError::NotSnapshotMeta),
    }
}

#[cfg(test)]
mod tests;
