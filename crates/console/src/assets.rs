//! The console's static files, embedded in the binary: one stylesheet, one script, an icon.

/// The static file at `name` (under `/console/static/`): its type and bytes.
pub fn find(name: &str) -> Option<(&'static str, &'static [u8])> {
    match name {
        "console.css" => Some((
            "text/css; charset=utf-8",
            include_bytes!("../static/console.css"),
        )),
        "console.js" => Some((
            "text/javascript; charset=utf-8",
            include_bytes!("../static/console.js"),
        )),
        "favicon.svg" => Some(("image/svg+xml", include_bytes!("../static/favicon.svg"))),
        _ => None,
    }
}
