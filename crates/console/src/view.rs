//! The page templates, compiled once from the strings embedded in the binary.
//!
//! minijinja escapes every value in a `.html` template, so text from the store or a reply
//! (a key description, a policy document, a decrypted plaintext) is shown, never run.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use zeroize::Zeroizing;

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
    ("secrets.html", include_str!("../templates/secrets.html")),
    ("secret.html", include_str!("../templates/secret.html")),
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
        env.add_filter("urlencode", urlencode);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "console template does not compile");
            }
        }
        Self { env }
    }

    /// `name` rendered with `context`, in a buffer wiped when dropped (a page may show a
    /// revealed secret or a decrypted plaintext); a failure renders a short error page instead.
    pub fn render(&self, name: &str, context: impl Serialize) -> Zeroizing<String> {
        let rendered = self.env.get_template(name).and_then(|t| t.render(context));
        match rendered {
            Ok(html) => Zeroizing::new(html),
            Err(e) => {
                tracing::error!(template = name, error = %e, "console template failed");
                Zeroizing::new(
                    "<!doctype html><title>openkms console</title><p>This page could not be shown."
                        .to_owned(),
                )
            }
        }
    }
}

/// The `urlencode` filter: `text` as one query-string value (`/`, `+`, `=`, `&` and every
/// non-ASCII byte percent-encoded), for names such as a secret's that hold those characters.
fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
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

    /// The layout's facts every page gets.
    fn layout() -> minijinja::Value {
        minijinja::context! { nav => crate::pages::NAV, area => "secrets", user => "root",
        csrf => "token", version => "test" }
    }

    #[test]
    fn a_revealed_value_and_a_name_are_escaped() {
        let views = Views::new();
        let value = "<script>alert(1)</script>\n-----BEGIN X-----";
        let html = views
            .render(
                "secret.html",
                minijinja::context! {
                    name => "db/a+b<i>",
                    secret => serde_json::json!({"SecretName": "db/a+b<i>", "SecretType": "Generic",
                        "CreateTime": "t", "UpdateTime": "t"}),
                    versions => serde_json::json!([{"VersionId": "v1", "CreateTime": "t",
                        "VersionStages": {"VersionStage": ["ACSCurrent"]}}]),
                    revealed => serde_json::json!({"SecretName": "db/a+b<i>", "VersionId": "v1",
                        "SecretData": value, "SecretDataType": "text",
                        "VersionStages": {"VersionStage": ["ACSCurrent", "ACSPrevious"]}}),
                    ..layout()
                },
            )
            .to_string();
        assert!(html.contains("<pre id=\"revealed-value\" tabindex=\"0\">&lt;script&gt;alert(1)&lt;&#x2f;script&gt;\n-----BEGIN X-----</pre>"), "{html}");
        assert!(html.contains("ACSCurrent, ACSPrevious"), "{html}");
        assert!(
            html.contains("<code id=\"secret-name\">db&#x2f;a+b&lt;i&gt;</code>"),
            "{html}"
        );
        assert!(!html.contains("<script>alert"), "{html}");
    }

    #[test]
    fn secret_links_carry_the_name_encoded() {
        let views = Views::new();
        let html = views.render(
            "secrets.html",
            minijinja::context! {
                secrets => serde_json::json!([{"SecretName": "db/a+b=c&d", "SecretType": "Generic",
                    "CreateTime": "t", "UpdateTime": "t", "PlannedDeleteTime": "soon"}]),
                page => 1, pages => 1, total => 1, data_types => ["text", "binary"],
                ..layout()
            },
        ).to_string();
        assert!(
            html.contains("href=\"/console/secrets/secret?name=db%2Fa%2Bb%3Dc%26d\""),
            "{html}"
        );
        assert!(html.contains("Deleted on soon"), "{html}");
    }

    #[test]
    fn the_pager_keeps_the_search() {
        let views = Views::new();
        let html = views
            .render(
                "secrets.html",
                minijinja::context! {
                    secrets => serde_json::json!([{"SecretName": "db/a", "SecretType": "Generic",
                        "CreateTime": "t", "UpdateTime": "t"}]),
                    q => "db/a b", page => 2, pages => 3, total => 21, prev => 1, next => 3,
                    data_types => ["text", "binary"], ..layout()
                },
            )
            .to_string();
        assert!(
            html.contains("href=\"/console/secrets?page=1&amp;q=db%2Fa+b\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"/console/secrets?page=3&amp;q=db%2Fa+b\""),
            "{html}"
        );
        assert!(html.contains("Page 2 of 3 · 21 secrets"), "{html}");
        let html = views
            .render(
                "keys.html",
                minijinja::context! {
                    keys => serde_json::json!([{"KeyId": "k1"}]), state => "Enabled", page => 1,
                    pages => 2, total => 11, next => 2, ..layout()
                },
            )
            .to_string();
        assert!(
            html.contains("href=\"/console/keys?page=2&amp;state=Enabled\">Next"),
            "{html}"
        );
        assert!(!html.contains(">Previous<"), "{html}");
    }
}
