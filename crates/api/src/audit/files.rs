//! The log's files: naming rotated files, finding them in order, reading the last line, and
//! verifying a list of files or a directory.
//!
//! The active file is the configured path, e.g. `audit.log`. Rotation renames it to
//! `audit.log.<n>` with `n` one more than the highest already there, so `audit.log.1` is the
//! oldest, numbers only grow, and a rotated file keeps its name forever. The order of a log
//! is therefore: `.1`, `.2`, … by number, then the active file. Writing is done by
//! the private `writer`; the chain rules are [`super::chain`]'s.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::chain::{Break, Link, Note, Position, Problem, Start, Verifier};

/// Longest line read back (a record is well under 2 KiB).
const MAX_LINE: usize = 64 * 1024;

/// The path of rotated file number `n` of the log whose active file is `active`.
pub fn archive_path(active: &Path, n: u64) -> PathBuf {
    let mut name = active.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{n}"));
    active.with_file_name(name)
}

/// The rotated files of `active` that exist, oldest first, with their numbers.
pub fn archives(active: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let dir = parent(active);
    let base = active.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(n) = name.to_str().and_then(|name| archive_number(base, name)) {
            found.push((n, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `n` when `name` is `<base>.<n>`.
fn archive_number(base: &str, name: &str) -> Option<u64> {
    let digits = name.strip_prefix(base)?.strip_prefix('.')?;
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| digits.parse().ok()).flatten()
}

/// The base name a file in a log directory belongs to: `x.log.3` and `x.log` → `x.log`.
fn base_name(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    }
}

/// The last complete line of a regular file (without its `\n`) and the offset just past it.
/// Bytes after that offset are an incomplete line. `None` when no line is complete.
pub fn last_line(file: &mut File) -> io::Result<Option<(Vec<u8>, u64)>> {
    let len = file.metadata()?.len();
    let from = len.saturating_sub(MAX_LINE as u64 * 2);
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    file.take(len - from).read_to_end(&mut tail)?;
    let Some(end) = tail.iter().rposition(|b| *b == b'\n') else {
        return match from {
            0 => Ok(None),
            _ => Err(too_long()),
        };
    };
    let start = match tail[..end].iter().rposition(|b| *b == b'\n') {
        Some(i) => i + 1,
        None if from == 0 => 0,
        None => return Err(too_long()),
    };
    Ok(Some((tail[start..end].to_vec(), from + end as u64 + 1)))
}

fn too_long() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "the last line is too long")
}

/// Why files could not be verified (as opposed to: verified and found broken).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A directory holds no log files.
    #[error("{0}: no audit log files in this directory")]
    Empty(PathBuf),
    /// A directory holds the files of several logs; which one is meant is unclear.
    #[error("{dir}: files of several logs ({names}); name the files to verify")]
    SeveralLogs {
        /// The directory.
        dir: PathBuf,
        /// The base names found.
        names: String,
    },
}

/// The result of verifying a log.
#[derive(Debug)]
pub struct Verified {
    /// The files checked, in order.
    pub files: Vec<PathBuf>,
    /// How many lines were accepted.
    pub lines: u64,
    /// The last line's link (`None` for an empty log), or the first break.
    pub outcome: Result<Option<Link>, Break>,
    /// Losses and prunes the log declared, in order (up to the break, if any).
    pub notes: Vec<Note>,
}

/// The files of the one log in `dir`, in chain order.
pub fn log_files(dir: &Path) -> Result<Vec<PathBuf>, VerifyError> {
    let read = |source| VerifyError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut groups: BTreeMap<String, Vec<(Option<u64>, PathBuf)>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with('.') || !entry.file_type().map_err(read)?.is_file() {
            continue;
        }
        let base = base_name(&name).to_owned();
        let number = archive_number(&base, &name);
        groups.entry(base).or_default().push((number, entry.path()));
    }
    if groups.len() > 1 {
        let names = groups.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(VerifyError::SeveralLogs {
            dir: dir.to_owned(),
            names,
        });
    }
    let mut files = groups
        .into_values()
        .next()
        .ok_or_else(|| VerifyError::Empty(dir.to_owned()))?;
    // Numbered files by number, then the active file (no number) last.
    files.sort_by_key(|(n, _)| n.map_or((1, 0), |n| (0, n)));
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// Verifies the log made of `paths` in order; a directory stands for its log's files.
pub fn verify_paths(paths: &[PathBuf], start: Start) -> Result<Verified, VerifyError> {
    let mut files = Vec::new();
    for path in paths {
        match path.is_dir() {
            true => files.extend(log_files(path)?),
            false => files.push(path.clone()),
        }
    }
    let mut verifier = Verifier::new(start);
    let mut lines = 0;
    for (index, path) in files.iter().enumerate() {
        let read = |source| VerifyError::Read {
            path: path.clone(),
            source,
        };
        let file = File::open(path).map_err(read)?;
        match verify_file(&mut verifier, index, BufReader::new(file)).map_err(read)? {
            Ok(n) => lines += n,
            Err(b) => {
                return Ok(Verified {
                    files,
                    lines,
                    outcome: Err(b),
                    notes: verifier.notes().to_vec(),
                });
            }
        }
    }
    Ok(Verified {
        files,
        lines,
        outcome: verifier.finish(),
        notes: verifier.notes().to_vec(),
    })
}

/// Feeds one file's lines to `verifier`; the count of lines, or the first break.
fn verify_file(
    verifier: &mut Verifier,
    file: usize,
    mut reader: impl BufRead,
) -> io::Result<Result<u64, Break>> {
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(Ok(line));
        }
        line += 1;
        let at = Position { file, line };
        if n == MAX_LINE && buf.last() != Some(&b'\n') {
            let problem = Problem::NotARecord;
            return Ok(Err(Break { at, problem }));
        }
        if let Err(b) = verifier.check(at, &buf) {
            return Ok(Err(b));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("audit.log");
        assert_eq!(archive_path(&active, 3), dir.path().join("audit.log.3"));
        for name in [
            "audit.log",
            "audit.log.10",
            "audit.log.2",
            "audit.log.1",
            ".hidden",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let names: Vec<String> = log_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["audit.log.1", "audit.log.2", "audit.log.10", "audit.log"]
        );
        let numbers: Vec<u64> = archives(&active).unwrap().iter().map(|a| a.0).collect();
        assert_eq!(numbers, [1, 2, 10]);
        std::fs::write(dir.path().join("other.log"), "").unwrap();
        assert!(matches!(
            log_files(dir.path()),
            Err(VerifyError::SeveralLogs { .. })
        ));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            log_files(empty.path()),
            Err(VerifyError::Empty(_))
        ));
    }

    #[test]
    fn last_line_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let last = |content: &str| {
            std::fs::write(&path, content).unwrap();
            last_line(&mut File::open(&path).unwrap()).unwrap()
        };
        assert_eq!(last(""), None);
        assert_eq!(last("partial"), None);
        assert_eq!(last("a\n"), Some((b"a".to_vec(), 2)));
        assert_eq!(last("a\nbc\n"), Some((b"bc".to_vec(), 5)));
        assert_eq!(last("a\nbc\npart"), Some((b"bc".to_vec(), 5)));
    }
}
