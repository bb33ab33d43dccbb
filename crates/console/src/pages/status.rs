//! Server status: version, store, seal state, uptime, and the signed-in identity.

use minijinja::context;

use super::Page;
use crate::http::Reply;

/// `status`.
pub async fn route(page: &Page<'_>) -> Reply {
    let console = page.console;
    let uptime = console.started.elapsed().as_secs();
    let ready = match console.slot.engine() {
        Some(engine) => engine.kms().ready().await,
        None => false,
    };
    let data = context! {
        store => &console.config.store,
        sealed => console.slot.is_sealed(),
        ready => ready,
        uptime => format!("{}d {:02}h {:02}m {:02}s", uptime / 86_400, uptime / 3600 % 24,
            uptime / 60 % 60, uptime % 60),
        audit_on => console.config.audit_path.is_some(),
        tls => console.config.secure,
        proof => format!("{:?}", page.session.proof),
        session => &page.session.handle,
    };
    page.render("status.html", "status", data)
}
