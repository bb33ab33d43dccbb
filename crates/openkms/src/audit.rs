//! `openkms audit verify`: check an audit log's hash chain from the command line.
//!
//! Takes files in order, or a directory holding one log (ordered `<name>.1`, `<name>.2`, …,
//! then `<name>`), and prints whether the chain is intact, and what the log declared about
//! itself: files pruned by retention, lines lost (the active file removed while the server
//! ran, history missing at start, the log ending before the head anchored in the store). Exit status: 0 intact, 1 broken (the first bad line, with
//! its file and line number, on stderr), 2 when the files could not be read, 3 intact but
//! with declared lost lines (0 with `--accept-gaps`). The chain rules and the reading are the
//! api crate's (`openkms_api::audit`).

use std::path::PathBuf;
use std::process::ExitCode;

use openkms_api::audit::{Break, GapReason, Note, Problem, Start, Verified, verify_paths};

/// `openkms audit …`
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check the hash chain; report the first line altered, removed or reordered.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// Log files, oldest first, or a directory holding one log's files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Older files were deleted on purpose: accept the first line given as the start.
    #[arg(long)]
    pruned: bool,
    /// Exit 0 even when the log declares lost lines (a gap line), once they are known.
    #[arg(long)]
    accept_gaps: bool,
}

/// Runs an `audit` command.
pub fn run(args: AuditArgs) -> ExitCode {
    let AuditCommand::Verify(args) = args.command;
    let start = match args.pruned {
        true => Start::Pruned,
        false => Start::Genesis,
    };
    match verify_paths(&args.paths, start) {
        Ok(verified) => report(&verified, args.accept_gaps),
        Err(e) => {
            eprintln!("openkms: {e}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn report(verified: &Verified, accept_gaps: bool) -> ExitCode {
    let files = verified.files.len();
    for note in &verified.notes {
        println!("declared: {}", declared(verified, note));
    }
    let lost = verified.notes.iter().any(Note::is_loss);
    let intact = match lost && !accept_gaps {
        true => ExitCode::from(3),
        false => ExitCode::SUCCESS,
    };
    match &verified.outcome {
        Ok(Some(head)) => {
            println!(
                "intact: {} lines in {files} file(s); last line seq {}, hash {}",
                verified.lines, head.seq, head.hash
            );
            if lost && !accept_gaps {
                eprintln!(
                    "openkms: the log declares lost lines (above); pass --accept-gaps once they are accounted for"
                );
            }
            intact
        }
        Ok(None) => {
            println!("intact: the log is empty ({files} file(s))");
            ExitCode::SUCCESS
        }
        Err(broken) => {
            eprintln!("openkms: audit log broken: {}", describe(verified, broken));
            ExitCode::from(1)
        }
    }
}

/// `<file> line <n>: <problem>`, naming the following line for an alteration.
fn describe(verified: &Verified, broken: &Break) -> String {
    let place = |file: usize, line: u64| {
        let name = verified.files.get(file).map(|p| p.display().to_string());
        format!("{} line {line}", name.unwrap_or_default())
    };
    let mut text = format!(
        "{}: {}",
        place(broken.at.file, broken.at.line),
        broken.problem
    );
    if let Problem::Altered { next } = broken.problem {
        text.push_str(&format!(" ({})", place(next.file, next.line)));
    }
    text
}

/// `<file> line <n>: <what the log declared>`.
fn declared(verified: &Verified, note: &Note) -> String {
    let place = |at: &openkms_api::audit::Position| {
        let name = verified.files.get(at.file).map(|p| p.display().to_string());
        format!("{} line {}", name.unwrap_or_default(), at.line)
    };
    match note {
        Note::Lost {
            at,
            reason,
            from,
            to,
        } => format!("{}: lines {from} to {to} lost: {}", place(at), why(*reason)),
        Note::HistoryMissing { at } => format!(
            "{}: the history before this line is missing: {}",
            place(at),
            why(GapReason::HistoryMissing)
        ),
        Note::Pruned {
            at,
            files,
            last_seq,
        } => format!(
            "{}: retention deleted {} (lines up to {last_seq})",
            place(at),
            files.join(", ")
        ),
    }
}

fn why(reason: GapReason) -> &'static str {
    match reason {
        GapReason::Removed => "the active file was removed or replaced while the server ran",
        GapReason::HistoryMissing => "the server started over existing data without audit history",
        GapReason::BehindAnchor => {
            "the log ended before the head the store recorded (truncated or replaced)"
        }
    }
}
