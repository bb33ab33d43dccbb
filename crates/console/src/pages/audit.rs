//! The audit log: its most recent lines with filters, and the chain's verification status.
//!
//! The audit log is the server's, not an API resource, so only the root identity sees it.
//! Recent lines are read from the end of the active file (at most [`TAIL_BYTES`]); the chain
//! is verified over every file of the log, as `openkms audit verify` does, on a blocking
//! thread.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use http::StatusCode;
use minijinja::context;
use openkms_api::audit::{Start, verify_paths};

use super::Page;
use crate::http::Reply;

/// Bytes read from the end of the active file for the recent lines.
const TAIL_BYTES: u64 = 256 * 1024;
/// Most lines shown.
const MAX_LINES: usize = 100;

/// `audit`.
pub async fn route(page: &Page<'_>) -> Reply {
    if !page.session.caller.is_root() {
        let data = context! { denied => true };
        return page.render_status(StatusCode::FORBIDDEN, "audit.html", "audit", data);
    }
    let Some(path) = page.console.config.audit_path.clone() else {
        return page.render("audit.html", "audit", context! { off => true });
    };
    let filter = |name| {
        page.req
            .param(name)
            .trim()
            .chars()
            .take(256)
            .collect::<String>()
    };
    let (action, user, outcome, via) = (
        filter("action"),
        filter("user"),
        filter("outcome"),
        filter("via"),
    );
    let tail_path = path.clone();
    let lines = tokio::task::spawn_blocking(move || tail(&tail_path))
        .await
        .unwrap_or_default();
    let entries: Vec<serde_json::Value> = lines
        .iter()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            matches(v, "action", &action)
                && matches(v, "user", &user)
                && matches(v, "outcome", &outcome)
                && matches(v, "via", &via)
        })
        .take(MAX_LINES)
        .collect();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let chain = tokio::task::spawn_blocking(move || verify_paths(&[dir], Start::Genesis))
        .await
        .ok();
    let chain = match chain {
        Some(Ok(v)) => match v.outcome {
            Ok(head) => context! { ok => true, lines => v.lines, files => v.files.len(),
            head => head.map(|h| h.hash), declared => v.notes.len() },
            Err(b) => context! { ok => false, lines => v.lines, files => v.files.len(),
            problem => format!("at {:?}: {}", b.at, b.problem) },
        },
        Some(Err(e)) => context! { ok => false, problem => e.to_string() },
        None => context! { ok => false, problem => "the check did not finish" },
    };
    let data = context! {
        entries => entries, chain => chain, f_action => action, f_user => user,
        f_outcome => outcome, f_via => via,
    };
    page.render("audit.html", "audit", data)
}

/// Whether member `name` of line `v` contains `wanted` (an empty filter matches all).
fn matches(v: &serde_json::Value, name: &str, wanted: &str) -> bool {
    wanted.is_empty() || v[name].as_str().is_some_and(|s| s.contains(wanted))
}

/// The whole lines in the last [`TAIL_BYTES`] of the file.
fn tail(path: &Path) -> Vec<String> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(TAIL_BYTES);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut text = String::new();
    let mut bytes = Vec::new();
    if file.take(TAIL_BYTES).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    text.push_str(&String::from_utf8_lossy(&bytes));
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    lines
}
