//! Changing one's own console password (RAM's ChangePassword), and the page a password
//! sign-in lands on while its login profile requires a new password.

use http::Method;
use minijinja::context;

use super::{Page, failed};
use crate::http::Reply;
use crate::session::Proof;

/// `password`: GET the form, POST the change.
pub async fn route(page: &Page<'_>) -> Reply {
    let password_session = page.session.proof == Proof::Password;
    if page.req.method != Method::POST {
        let data = context! { must_change => page.session.must_change,
        password_session => password_session };
        return page.render("password.html", "status", data);
    }
    let f = |name| page.req.field(name);
    if f("new_password") != f("confirm") {
        let data = context! { must_change => page.session.must_change, password_session => true,
        local_error => "The new password and its confirmation differ." };
        return page.render("password.html", "status", data);
    }
    let params = [
        ("OldPassword", f("old_password")),
        ("NewPassword", f("new_password")),
    ];
    match page.ram("ChangePassword", &params).await {
        Ok(_) => {
            if let Some(id) = &page.req.cookie {
                page.console.sessions.password_changed(id);
            }
            Reply::Redirect("keys?done=updated".to_owned())
        }
        Err(e) => {
            let data = context! { must_change => page.session.must_change,
            password_session => password_session, error => failed(&e) };
            page.render("password.html", "status", data)
        }
    }
}
