//! The page templates, compiled once from the strings embedded in the binary.
//!
//! minijinja escapes every value in a `.html` template, so text from the store or a reply
//! (a key description, a policy document, a decrypted plaintext) is shown, never run.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("signin.html", include_str!("../templates/signin.html")),
    ("keys.html", include_str!("../templates/keys.html")),
    ("key.html", include_str!("../templates/key.html")),
    ("crypto.html", include_str!("../templates/crypto.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("user.html", include_str!("../templates/user.html")),
    ("policies.html", include_str!("../templates/policies.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("status.html", include_str!("../templates/status.html")),
    ("password.html", include_str!("../templates/password.html")),
    ("error.html", include_str!("../templates/error.html")),
];

/// The compiled templates.
pub struct Views {
    env: Environment<'static>,
}

impl Views {
    /// Compiles every template; a template that does not compile is a build mistake, caught by
    /// this crate's tests.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "console template does not compile");
            }
        }
        Self { env }
    }

    /// `name` rendered with `context`; a failure renders a short error page instead.
    pub fn render(&self, name: &str, context: impl Serialize) -> String {
        let rendered = self.env.get_template(name).and_then(|t| t.render(context));
        match rendered {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(template = name, error = %e, "console template failed");
                "<!doctype html><title>openkms console</title><p>This page could not be shown."
                    .to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).unwrap();
        }
    }
}
