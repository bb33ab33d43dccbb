//! The console's pages, one module per area, and the routing between them.
//!
//! [`NAV`] is the one list of areas: the navigation shows it and [`route`] dispatches on its
//! first path segment, so a new area (as Secrets was) is one module and one entry.
//! Every page but sign-in needs a session; every action a page takes goes through
//! [`crate::action::run`].

mod audit;
mod crypto;
mod keys;
mod password;
mod ram;
mod secrets;
mod status;

use http::{Method, StatusCode};
use minijinja::Value;
use openkms_api::codec::{KMS_VERSION, RAM_VERSION};
use openkms_core::SecretBytes;
use serde::Serialize;

use crate::Console;
use crate::action::{self, Actor, ApiError, Outcome};
use crate::http::{
    Reply, Req, cleared_cookie_header, error_page, session_cookie_header, signin_cookie_header,
};
use crate::session::{Proof, Session};
use crate::signin::{self, Credentials, SignInError};

/// One area of the console: its path segment and its name in the navigation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Area {
    /// The first path segment under `/console/`.
    pub path: &'static str,
    /// The navigation label.
    pub label: &'static str,
}

/// The areas, in navigation order.
pub const NAV: &[Area] = &[
    Area {
        path: "keys",
        label: "Keys",
    },
    Area {
        path: "crypto",
        label: "Encrypt / sign",
    },
    Area {
        path: "secrets",
        label: "Secrets",
    },
    Area {
        path: "users",
        label: "Users",
    },
    Area {
        path: "policies",
        label: "Policies",
    },
    Area {
        path: "audit",
        label: "Audit log",
    },
    Area {
        path: "status",
        label: "Status",
    },
];

/// Answers one console request.
pub async fn route(console: &Console, req: Req) -> Reply {
    let first = req.path.split('/').next().unwrap_or("").to_owned();
    if first == "signin" {
        return sign_in(console, &req).await;
    }
    let Some(session) = req.session.clone() else {
        return Reply::Redirect("signin".to_owned());
    };
    if !still_allowed(console, &session).await {
        if let Some(id) = &req.cookie {
            console.sessions.close(id);
        }
        session_ended(console, req.peer, &session, "Revoked").await;
        return Reply::RedirectWithCookie("signin".to_owned(), cleared_cookie_header());
    }
    let page = Page {
        console,
        req: &req,
        session: &session,
    };
    if session.must_change && first != "password" && first != "signout" {
        return Reply::Redirect("password".to_owned());
    }
    match first.as_str() {
        "" => Reply::Redirect("keys".to_owned()),
        "password" => password::route(&page).await,
        "signout" if req.method == Method::POST => sign_out(console, &req).await,
        "keys" => keys::route(&page).await,
        "crypto" => crypto::route(&page).await,
        "secrets" => secrets::route(&page).await,
        "users" | "policies" => ram::route(&page).await,
        "audit" => audit::route(&page).await,
        "status" => status::route(&page).await,
        _ => error_page(console, StatusCode::NOT_FOUND),
    }
}

/// Writes the `ConsoleSignOut` line of a session the server ended: `Expired` (idle or
/// absolute timeout, seen at its next request) or `Revoked` (its credential changed).
pub async fn session_ended(
    console: &Console,
    peer: Option<std::net::SocketAddr>,
    session: &Session,
    outcome: &'static str,
) {
    let event = action::Event {
        action: "ConsoleSignOut",
        caller: Some(&session.caller),
        claimed: None,
        session: &session.handle,
        outcome,
        status: 303,
    };
    action::record(console, peer, event).await;
}

/// Whether what the session signed in with still holds: its AccessKey exists and is active, or
/// its user's login profile is the one it signed in with. A key disabled or deleted, a
/// password changed (by the user in another session, or by an administrator), the reset flag
/// set, a login profile removed or a user deleted (and made again under the same name) ends
/// the session at its next request. (Sealed: nothing runs anyway.)
async fn still_allowed(console: &Console, session: &Session) -> bool {
    let Some(engine) = console.slot.engine() else {
        return true;
    };
    let kms = engine.kms();
    match session.proof {
        Proof::AccessKey => kms
            .credential(&session.caller.access_key_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|c| c.active),
        Proof::Password => kms
            .console_password_check(&session.caller.user)
            .await
            .is_ok_and(|check| Some(check.fingerprint()) == session.profile),
    }
}

/// A page being answered for a signed-in session.
pub struct Page<'a> {
    console: &'a Console,
    req: &'a Req,
    session: &'a Session,
}

impl Page<'_> {
    /// The request's path segments under `/console/` and whether it is a POST: what an area's
    /// `route` matches on.
    fn target(&self) -> (Vec<&str>, bool) {
        let parts = self.req.path.split('/').collect();
        (parts, self.req.method == Method::POST)
    }

    /// The list page the request asks for (`page`, from 1; anything else is 1).
    fn page_number(&self) -> u32 {
        self.req
            .param("page")
            .parse()
            .unwrap_or(1)
            .clamp(1, 100_000)
    }

    /// Runs a KMS action.
    async fn kms(&self, action: &str, params: &[(&str, &str)]) -> Outcome {
        self.run(KMS_VERSION, action, params).await
    }

    /// Runs a RAM action.
    async fn ram(&self, action: &str, params: &[(&str, &str)]) -> Outcome {
        self.run(RAM_VERSION, action, params).await
    }

    async fn run(&self, version: &str, action: &str, params: &[(&str, &str)]) -> Outcome {
        let actor = Actor {
            session: self.session,
            peer: self.req.peer,
        };
        action::run(self.console, &actor, version, action, params).await
    }

    /// `template` in the layout, with the navigation and the session's facts.
    fn render(&self, template: &str, area: &str, data: Value) -> Reply {
        self.render_status(StatusCode::OK, template, area, data)
    }

    fn render_status(&self, status: StatusCode, template: &str, area: &str, data: Value) -> Reply {
        let context = minijinja::context! {
            nav => NAV,
            area => area,
            user => &self.session.caller.user,
            is_root => self.session.caller.is_root(),
            csrf => self.session.csrf.as_str(),
            version => self.console.config.version,
            notice => notice(self.req.param("done")),
            ..data
        };
        Reply::Page(status, self.console.views.render(template, context))
    }
}

/// The message of a `?done=` code after a successful action (a fixed table: nothing from the
/// query string is shown).
fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "Created.",
        "updated" => "Saved.",
        "deleted" => "Deleted.",
        "enabled" => "The key is enabled.",
        "disabled" => "The key is disabled.",
        "scheduled" => "The key is scheduled for deletion.",
        "cancelled" => "The deletion is cancelled.",
        "imported" => "The key material is imported.",
        "material-deleted" => "The key material is deleted: the key is pending import.",
        "secret-scheduled" => "The secret is scheduled for deletion.",
        "restored" => "The secret is restored.",
        _ => return None,
    })
}

/// An action's error as the `error` member of a page's data.
fn failed(e: &ApiError) -> Value {
    Value::from_serialize(e)
}

/// The console's own refusal of a form before any action ran (so no RequestId), as the
/// `error` member of a page's data.
fn refused(code: &str, message: &str) -> Value {
    minijinja::context! { code => code, message => message }
}

/// GET: the sign-in form. POST: checks the credentials, opens a session and sets its cookie.
/// Every outcome writes an audit line; a session whose line cannot be written is closed again
/// and the sign-in refused, as an API call fails when its line cannot be written.
async fn sign_in(console: &Console, req: &Req) -> Reply {
    if req.method != Method::POST {
        return sign_in_page(console, None, StatusCode::OK);
    }
    let credentials = credentials(req);
    let claimed = match &credentials {
        Credentials::AccessKey { id, .. } => Some(id.clone()),
        Credentials::Password { .. } => None,
    };
    let refused = |outcome, status: StatusCode, why| {
        let event = action::Event {
            action: "ConsoleSignIn",
            caller: None,
            claimed: claimed.as_deref(),
            session: "-",
            outcome,
            status: status.as_u16(),
        };
        async move {
            action::record(console, req.peer, event).await;
            sign_in_page(console, Some(why), status)
        }
    };
    let Some(engine) = console.slot.engine() else {
        let why = "The server is sealed: unseal it before signing in.";
        return refused("Sealed", StatusCode::SERVICE_UNAVAILABLE, why).await;
    };
    let source = req.peer.map(|p| p.ip());
    match signin::verify(engine.kms(), &console.guard, source, credentials).await {
        Ok(proven) => open_session(console, req, proven).await,
        Err(SignInError::Refused) => {
            let why =
                "Sign-in failed: the name and password, or the AccessKey pair, are not right.";
            refused("SignInFailed", StatusCode::UNAUTHORIZED, why).await
        }
        Err(SignInError::Throttled) => {
            let why = "Too many failed sign-ins. Wait a few minutes and try again.";
            refused("Throttled", StatusCode::TOO_MANY_REQUESTS, why).await
        }
        Err(SignInError::Busy) => {
            let why = "The server is busy checking other sign-ins; try again in a moment.";
            refused("Busy", StatusCode::SERVICE_UNAVAILABLE, why).await
        }
        Err(SignInError::Unavailable(e)) => {
            console.store_errors.log(&e);
            let why = "The server could not check the sign-in right now.";
            refused("Unavailable", StatusCode::SERVICE_UNAVAILABLE, why).await
        }
    }
}

/// Opens the session of a proven sign-in, audits it and sets the cookie.
async fn open_session(console: &Console, req: &Req, proven: signin::Proven) -> Reply {
    let caller = proven.caller;
    let (id, handle) = console
        .sessions
        .open(caller.clone(), proven.proof, proven.profile);
    let event = action::Event {
        action: "ConsoleSignIn",
        caller: Some(&caller),
        claimed: None,
        session: &handle,
        outcome: "OK",
        status: 303,
    };
    if !action::record(console, req.peer, event).await {
        console.sessions.close(&id);
        let why = "The server could not record the sign-in in its audit log.";
        return sign_in_page(console, Some(why), StatusCode::SERVICE_UNAVAILABLE);
    }
    Reply::RedirectWithCookie("keys".to_owned(), session_cookie_header(&id))
}

/// The credentials of the sign-in form (bounded: the fields' lengths are cut before use).
fn credentials(req: &Req) -> Credentials {
    let cut = |s: &str, max: usize| s.chars().take(max).collect::<String>();
    match req.field("method") {
        "accesskey" => Credentials::AccessKey {
            id: cut(req.field("access_key_id").trim(), 128),
            secret: SecretBytes::new(cut(req.field("access_key_secret"), 256).into_bytes()),
        },
        _ => Credentials::Password {
            user_name: cut(req.field("user_name").trim(), 64),
            password: SecretBytes::new(cut(req.field("password"), 128).into_bytes()),
        },
    }
}

fn sign_in_page(console: &Console, error: Option<&str>, status: StatusCode) -> Reply {
    let token = console.sessions.new_token();
    let html = console.views.render(
        "signin.html",
        minijinja::context! { error => error, csrf => &token },
    );
    Reply::PageWithCookie(status, html, signin_cookie_header(&token))
}

/// Ends the session on the server and clears the cookie.
async fn sign_out(console: &Console, req: &Req) -> Reply {
    if let Some(id) = &req.cookie {
        console.sessions.close(id);
    }
    if let Some(session) = &req.session {
        let event = action::Event {
            action: "ConsoleSignOut",
            caller: Some(&session.caller),
            claimed: None,
            session: &session.handle,
            outcome: "OK",
            status: 303,
        };
        action::record(console, req.peer, event).await;
    }
    Reply::RedirectWithCookie("signin".to_owned(), cleared_cookie_header())
}
