//! The hash chain: how a record becomes a line, and checking a sequence of lines.
//!
//! A line is one JSON object and a `\n`. Its first two members are put there by the writer:
//! `seq`, the line's number in the whole log (1, 2, 3, … across rotated files), and `prev`,
//! the lowercase hex SHA-256 of the previous line's bytes without its `\n` ([`GENESIS`] for
//! the very first line). The record's own members follow.
//!
//! [`Verifier`] is a pure check over lines handed to it in order, however they are split into
//! files: it reports the first line that was altered, removed, reordered, truncated or is not
//! a record. Reading files is not done here (see [`super::files`]).

use std::fmt;
use std::io::Write as _;

use openkms_sign::sha256_hex;
use serde_json::Value;

use super::event::{Declaration, GapReason};

/// The `prev` of the first line ever written: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where the writer is in the chain: the last line's `seq` and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `seq` of the last line written (0 before the first).
    pub seq: u64,
    /// Hex SHA-256 of the last line written ([`GENESIS`] before the first).
    pub hash: String,
}

impl Link {
    /// The start of a new log.
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }

    /// Appends the line for `body` (a JSON object of the record's fields) to `out`, with its
    /// `\n`, and returns the link of that line.
    pub fn append(&self, body: &str, out: &mut Vec<u8>) -> Self {
        let start = out.len();
        let seq = self.seq + 1;
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{{\"seq\":{seq},\"prev\":\"{}\"", self.hash);
        let rest = body.strip_prefix('{').unwrap_or(body);
        if !rest.starts_with('}') {
            out.push(b',');
        }
        out.extend_from_slice(rest.as_bytes());
        let hash = line_hash(&out[start..]);
        out.push(b'\n');
        Self { seq, hash }
    }

    /// The link of an existing line (without its `\n`), for resuming after a restart.
    pub fn of_line(line: &[u8]) -> Option<Self> {
        let (seq, _) = chain_fields(line)?;
        Some(Self {
            seq,
            hash: line_hash(line),
        })
    }
}

/// The hash the next line records as its `prev`.
pub fn line_hash(line_without_newline: &[u8]) -> String {
    sha256_hex(line_without_newline)
}

/// `seq` and `prev` of a line, if it is a JSON object carrying both.
fn chain_fields(line: &[u8]) -> Option<(u64, String)> {
    parse(line).map(|p| (p.seq, p.prev))
}

/// What the verifier reads from a line.
struct Parsed {
    seq: u64,
    prev: String,
    /// What the line declares, when it is a `gap` or `pruned` event.
    declares: Option<Declaration>,
}

fn parse(line: &[u8]) -> Option<Parsed> {
    let Value::Object(map) = serde_json::from_slice::<Value>(line).ok()? else {
        return None;
    };
    let seq = map.get("seq")?.as_u64()?;
    let prev = map.get("prev")?.as_str()?;
    let well_formed = prev.len() == 64 && prev.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then(|| Parsed {
        seq,
        prev: prev.to_owned(),
        declares: Declaration::of(&map),
    })
}

/// A line's place: which file (index into the files checked, in order) and which line in
/// it (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Index of the file among those checked.
    pub file: usize,
    /// Line number in that file, from 1.
    pub line: u64,
}

/// How the chain is broken at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The line does not end in `\n`: the file was truncated or a write was interrupted.
    Incomplete,
    /// The line is not a JSON object with `seq` and a 64-hex-digit `prev`.
    NotARecord,
    /// The first line does not chain from [`GENESIS`] with `seq` 1.
    NotFromGenesis,
    /// `seq` jumped forward: lines are missing before this one (or were moved after it).
    Removed {
        /// The `seq` the line should have.
        expected: u64,
        /// The `seq` it has.
        found: u64,
    },
    /// `seq` went backwards or repeated: lines were reordered or duplicated.
    Reordered {
        /// The `seq` the line should have.
        expected: u64,
        /// The `seq` it has.
        found: u64,
    },
    /// The line's hash is not the `prev` the following line records: this line was altered
    /// (or that `prev`).
    Altered {
        /// Where the following line is.
        next: Position,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete => f.write_str(
                "incomplete line (no final newline): the file was truncated or a write was interrupted",
            ),
            Self::NotARecord => {
                f.write_str("not an audit record (not JSON, or no seq and prev): altered")
            }
            Self::NotFromGenesis => f.write_str(
                "the first line does not chain from the genesis value: earlier lines or files are \
                 missing (if old files were deleted on purpose, pass --pruned)",
            ),
            Self::Removed { expected, found } => write!(
                f,
                "seq {found} where {expected} was expected: lines removed (or reordered) before this line"
            ),
            Self::Reordered { expected, found } => write!(
                f,
                "seq {found} where {expected} was expected: lines reordered or duplicated"
            ),
            Self::Altered { .. } => f.write_str(
                "altered: its hash does not match the prev recorded by the next line",
            ),
        }
    }
}

/// The first break found: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The line reported.
    pub at: Position,
    /// What is wrong with it.
    pub problem: Problem,
}

/// Where checking starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The first line must be `seq` 1 chained from [`GENESIS`].
    Genesis,
    /// The first line is taken as it is (older files were deleted by retention).
    Pruned,
}

/// A loss or a prune the log itself declared, found while verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Lines `from..=to` are missing, as the `gap` line at `at` declares.
    Lost {
        /// The `gap` line.
        at: Position,
        /// Why they are missing.
        reason: GapReason,
        /// First missing line.
        from: u64,
        /// Last missing line.
        to: u64,
    },
    /// The history before the `gap` line at `at` is missing, extent unknown.
    HistoryMissing {
        /// The `gap` line.
        at: Position,
    },
    /// Retention deleted the files before the first one checked, as the line at `at` says.
    Pruned {
        /// The `pruned` line.
        at: Position,
        /// The files it names.
        files: Vec<String>,
        /// The last line they held.
        last_seq: u64,
    },
}

impl Note {
    /// Whether history was lost (as opposed to pruned by retention).
    pub fn is_loss(&self) -> bool {
        !matches!(self, Self::Pruned { .. })
    }
}

/// Checks lines one at a time, in order; [`Verifier::finish`] once they are all in.
#[derive(Debug)]
pub struct Verifier {
    start: Start,
    /// Where the first line is.
    first: Option<Position>,
    /// The last line accepted: where it is and its link.
    last: Option<(Position, Link)>,
    /// Lines before the first one are missing, up to `seq` (and its hash, when known), and no
    /// `pruned` line has said so yet.
    undeclared_start: Option<(u64, Option<String>)>,
    notes: Vec<Note>,
}

impl Verifier {
    /// A verifier expecting the log to begin as `start` says.
    pub fn new(start: Start) -> Self {
        Self {
            start,
            first: None,
            last: None,
            undeclared_start: None,
            notes: Vec::new(),
        }
    }

    /// Checks the next line, `\n` included when the file has it.
    pub fn check(&mut self, at: Position, line: &[u8]) -> Result<(), Break> {
        self.check_line(at, line).map_err(|b| self.first_problem(b))
    }

    fn check_line(&mut self, at: Position, line: &[u8]) -> Result<(), Break> {
        let broken = |problem| Break { at, problem };
        let Some(content) = line.strip_suffix(b"\n") else {
            return Err(broken(Problem::Incomplete));
        };
        let parsed = parse(content).ok_or_else(|| broken(Problem::NotARecord))?;
        match &self.last {
            Some((previous, link)) => {
                let expected = link.seq + 1;
                if let Some(note) = declared_gap(at, &parsed, expected) {
                    self.notes.push(note);
                } else {
                    continuity(expected, parsed.seq).map_err(broken)?;
                    if parsed.prev != link.hash {
                        return Err(Break {
                            at: *previous,
                            problem: Problem::Altered { next: at },
                        });
                    }
                }
            }
            None => self.begin(at, &parsed),
        }
        self.prune_declared(at, &parsed);
        let hash = line_hash(content);
        self.last = Some((
            at,
            Link {
                seq: parsed.seq,
                hash,
            },
        ));
        Ok(())
    }

    /// The first line: from the genesis, or a declared gap, or after missing lines that a
    /// later `pruned` line must account for.
    fn begin(&mut self, at: Position, parsed: &Parsed) {
        self.first = Some(at);
        let genesis = parsed.seq == 1 && parsed.prev == GENESIS;
        match &parsed.declares {
            Some(Declaration::Gap {
                from: None,
                to: None,
                ..
            }) if genesis => self.notes.push(Note::HistoryMissing { at }),
            _ if genesis => {}
            Some(Declaration::Gap {
                reason,
                from: Some(from),
                to: Some(to),
            }) if *to + 1 == parsed.seq && *from >= 1 => {
                self.notes.push(Note::Lost {
                    at,
                    reason: *reason,
                    from: *from,
                    to: *to,
                });
                if *from > 1 {
                    self.undeclared_start = Some((from - 1, None));
                }
            }
            _ => self.undeclared_start = Some((parsed.seq - 1, Some(parsed.prev.clone()))),
        }
    }

    /// Clears the missing start when `parsed` is the `pruned` line accounting for it.
    fn prune_declared(&mut self, at: Position, parsed: &Parsed) {
        let Some(Declaration::Pruned {
            files,
            last_seq,
            last_hash,
        }) = &parsed.declares
        else {
            return;
        };
        let Some((seq, hash)) = &self.undeclared_start else {
            return;
        };
        if seq == last_seq && hash.as_ref().is_none_or(|h| h == last_hash) {
            self.undeclared_start = None;
            self.notes.push(Note::Pruned {
                at,
                files: files.clone(),
                last_seq: *last_seq,
            });
        }
    }

    /// A break, unless the start is missing undeclared: then that, at the first line.
    fn first_problem(&self, b: Break) -> Break {
        match (self.start, &self.undeclared_start, self.first) {
            (Start::Genesis, Some(_), Some(first)) if first != b.at => Break {
                at: first,
                problem: Problem::NotFromGenesis,
            },
            _ => b,
        }
    }

    /// Once every line is checked: the head link (`None` for an empty log), or the break
    /// if the log starts after missing lines that no `pruned` line declared.
    pub fn finish(&self) -> Result<Option<Link>, Break> {
        if let (Start::Genesis, Some(_), Some(at)) =
            (self.start, &self.undeclared_start, self.first)
        {
            let problem = Problem::NotFromGenesis;
            return Err(Break { at, problem });
        }
        Ok(self.head().cloned())
    }

    /// The last line accepted: its `seq` and hash (to compare with a copy kept elsewhere).
    pub fn head(&self) -> Option<&Link> {
        self.last.as_ref().map(|(_, link)| link)
    }

    /// What the log declared about itself so far: losses and prunes.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }
}

/// The note when `parsed` is a `gap` line accounting exactly for the lines between the
/// previous line and itself.
fn declared_gap(at: Position, parsed: &Parsed, expected: u64) -> Option<Note> {
    let Some(Declaration::Gap {
        reason,
        from: Some(from),
        to: Some(to),
    }) = &parsed.declares
    else {
        return None;
    };
    let exact = parsed.seq != expected && *from == expected && *to + 1 == parsed.seq;
    exact.then_some(Note::Lost {
        at,
        reason: *reason,
        from: *from,
        to: *to,
    })
}

fn continuity(expected: u64, found: u64) -> Result<(), Problem> {
    match found.cmp(&expected) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(Problem::Removed { expected, found }),
        std::cmp::Ordering::Less => Err(Problem::Reordered { expected, found }),
    }
}

/// Checks whole files given as their lines (each with its `\n` if it has one), in order.
/// Returns the head link (None for an empty log) or the first break.
pub fn verify_lines<'a, F, L>(files: F, start: Start) -> Result<Option<Link>, Break>
where
    F: IntoIterator<Item = L>,
    L: IntoIterator<Item = &'a [u8]>,
{
    let mut verifier = Verifier::new(start);
    for (file, lines) in files.into_iter().enumerate() {
        for (n, line) in lines.into_iter().enumerate() {
            let at = Position {
                file,
                line: n as u64 + 1,
            };
            verifier.check(at, line)?;
        }
    }
    verifier.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A log of `n` lines as bytes.
    fn log(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut link = Link::genesis();
        for i in 1..=n {
            link = link.append(&format!("{{\"action\":\"Encrypt\",\"n\":{i}}}"), &mut out);
        }
        out
    }

    fn lines(bytes: &[u8]) -> Vec<&[u8]> {
        bytes.split_inclusive(|b| *b == b'\n').collect()
    }

    fn check(files: &[&[u8]]) -> Result<Option<Link>, Break> {
        verify_lines(files.iter().map(|f| lines(f)), Start::Genesis)
    }

    fn at(file: usize, line: u64) -> Position {
        Position { file, line }
    }

    #[test]
    fn line_format() {
        let mut out = Vec::new();
        let link = Link::genesis().append("{\"a\":1}", &mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text,
            format!("{{\"seq\":1,\"prev\":\"{GENESIS}\",\"a\":1}}\n")
        );
        assert_eq!(link.seq, 1);
        assert_eq!(link.hash, line_hash(&out[..out.len() - 1]));
        let empty = Link::genesis().append("{}", &mut Vec::new());
        assert_eq!(empty.seq, 1);
        assert_eq!(Link::of_line(&out[..out.len() - 1]), Some(link));
    }

    #[test]
    fn intact_log_verifies() {
        let bytes = log(5);
        let head = check(&[&bytes]).unwrap().unwrap();
        assert_eq!(head.seq, 5);
        assert_eq!(check(&[b""]).unwrap(), None);
    }

    #[test]
    fn changed_line_is_reported_at_that_line() {
        let bytes = log(5);
        let text = String::from_utf8(bytes).unwrap();
        let changed = text.replacen("\"n\":3", "\"n\":9", 1);
        let e = check(&[changed.as_bytes()]).unwrap_err();
        assert_eq!(e.at, at(0, 3));
        assert_eq!(e.problem, Problem::Altered { next: at(0, 4) });
    }

    #[test]
    fn changed_first_line_is_reported() {
        let text = String::from_utf8(log(3)).unwrap();
        let changed = text.replacen("Encrypt", "Decrypt", 1);
        let e = check(&[changed.as_bytes()]).unwrap_err();
        assert_eq!(e.at, at(0, 1));
    }

    #[test]
    fn deleted_line_is_reported_where_it_is_missing() {
        let bytes = log(5);
        let mut ls = lines(&bytes);
        ls.remove(2);
        let e = verify_lines([ls], Start::Genesis).unwrap_err();
        assert_eq!(e.at, at(0, 3));
        assert_eq!(
            e.problem,
            Problem::Removed {
                expected: 3,
                found: 4
            }
        );
    }

    #[test]
    fn deleted_first_line_breaks_genesis() {
        let bytes = log(3);
        let ls = lines(&bytes)[1..].to_vec();
        let e = verify_lines([ls], Start::Genesis).unwrap_err();
        assert_eq!((e.at, e.problem), (at(0, 1), Problem::NotFromGenesis));
        // Unless old lines were pruned on purpose.
        let ls = lines(&bytes)[1..].to_vec();
        assert_eq!(verify_lines([ls], Start::Pruned).unwrap().unwrap().seq, 3);
    }

    #[test]
    fn swapped_lines_are_reported_at_the_first() {
        let bytes = log(5);
        let mut ls = lines(&bytes);
        ls.swap(1, 2);
        let e = verify_lines([ls], Start::Genesis).unwrap_err();
        assert_eq!(e.at, at(0, 2));
        assert_eq!(
            e.problem,
            Problem::Removed {
                expected: 2,
                found: 3
            }
        );
        // Swapping with seq edited to match is caught by the hashes.
        let text = String::from_utf8(log(3)).unwrap();
        let ls: Vec<String> = text.lines().map(str::to_owned).collect();
        let forged = [
            ls[0].clone(),
            ls[2].replacen("\"seq\":3", "\"seq\":2", 1),
            ls[1].replacen("\"seq\":2", "\"seq\":3", 1),
        ]
        .join("\n")
            + "\n";
        let e = check(&[forged.as_bytes()]).unwrap_err();
        assert_eq!(e.at, at(0, 1));
        assert!(matches!(e.problem, Problem::Altered { .. }));
    }

    #[test]
    fn duplicated_line_is_reordered() {
        let bytes = log(3);
        let mut ls = lines(&bytes);
        ls.insert(2, ls[1]);
        let e = verify_lines([ls], Start::Genesis).unwrap_err();
        assert_eq!(e.at, at(0, 3));
        assert!(matches!(e.problem, Problem::Reordered { .. }));
    }

    #[test]
    fn truncated_last_line_is_incomplete() {
        let bytes = log(4);
        let cut = &bytes[..bytes.len() - 10];
        let e = check(&[cut]).unwrap_err();
        assert_eq!((e.at, e.problem), (at(0, 4), Problem::Incomplete));
        // Only the newline lost is still a truncation.
        let e = check(&[&bytes[..bytes.len() - 1]]).unwrap_err();
        assert_eq!(e.problem, Problem::Incomplete);
    }

    #[test]
    fn garbage_line_is_not_a_record() {
        let bytes = log(2);
        let mut ls = lines(&bytes);
        ls.insert(1, b"hello\n");
        let e = verify_lines([ls], Start::Genesis).unwrap_err();
        assert_eq!((e.at, e.problem), (at(0, 2), Problem::NotARecord));
    }

    #[test]
    fn rotation_across_files_verifies_and_breaks_are_located() {
        let bytes = log(7);
        let ls = lines(&bytes);
        let files = [ls[..3].to_vec(), ls[3..5].to_vec(), ls[5..].to_vec()];
        let head = verify_lines(files.clone(), Start::Genesis)
            .unwrap()
            .unwrap();
        assert_eq!(head.seq, 7);
        // Files given out of order.
        let swapped = [files[1].clone(), files[0].clone(), files[2].clone()];
        let e = verify_lines(swapped, Start::Genesis).unwrap_err();
        assert_eq!((e.at, e.problem), (at(0, 1), Problem::NotFromGenesis));
        // A middle file missing.
        let gap = [files[0].clone(), files[2].clone()];
        let e = verify_lines(gap, Start::Genesis).unwrap_err();
        assert_eq!(e.at, at(1, 1));
        assert!(matches!(e.problem, Problem::Removed { .. }));
        // The last line of a file altered: reported in that file, found by the next file.
        let mut altered = files.clone();
        let changed = String::from_utf8(altered[0][2].to_vec())
            .unwrap()
            .replace("Encrypt", "Decrypt");
        altered[0][2] = changed.as_bytes();
        let e = verify_lines(altered, Start::Genesis).unwrap_err();
        assert_eq!(e.at, at(0, 3));
        assert_eq!(e.problem, Problem::Altered { next: at(1, 1) });
    }
}
