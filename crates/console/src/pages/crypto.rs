//! The encrypt / decrypt / data-key tool: the seed workflow by hand, for pasted text or a
//! small file.
//!
//! Text is encrypted exactly as the user gave it. A browser submitting a form turns every
//! line break of a textarea into CRLF; the console's script instead sends the text's (or the
//! chosen file's) exact UTF-8 bytes as base64 in `plaintext_b64`, so an SDK's Decrypt of the
//! ciphertext gives the file's bytes. Without the script the textarea arrives as the browser
//! sends it, and the console turns its CRLFs back into LFs (the textarea's own text). The
//! plaintext must be UTF-8 text, as the API's `Plaintext` parameter is (base64 a binary file
//! first). Results are shown once, on a page that is never cached.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use minijinja::context;

use super::{Page, failed};
use crate::http::Reply;

/// `crypto`: GET the forms, POST one of them.
pub async fn route(page: &Page<'_>) -> Reply {
    if page.req.method != Method::POST {
        return page.render("crypto.html", "crypto", context! {});
    }
    let f = |name| page.req.field(name);
    let mode = f("mode");
    let context_param = f("context").trim();
    let outcome = match mode {
        "encrypt" => match plaintext(page) {
            Ok(text) => {
                let mut p = vec![("KeyId", f("key")), ("Plaintext", text.as_str())];
                if !context_param.is_empty() {
                    p.push(("EncryptionContext", context_param));
                }
                page.kms("Encrypt", &p).await
            }
            Err(why) => {
                return page.render(
                    "crypto.html",
                    "crypto",
                    context! { mode => mode, local_error => why },
                );
            }
        },
        "decrypt" => {
            let mut p = vec![("CiphertextBlob", f("ciphertext").trim())];
            if !context_param.is_empty() {
                p.push(("EncryptionContext", context_param));
            }
            page.kms("Decrypt", &p).await
        }
        _ => {
            let mut p = vec![("KeyId", f("key")), ("NumberOfBytes", f("bytes"))];
            if !context_param.is_empty() {
                p.push(("EncryptionContext", context_param));
            }
            page.kms("GenerateDataKey", &p).await
        }
    };
    let data = match outcome {
        Ok(result) => context! { mode => mode, result => result },
        Err(e) => context! { mode => mode, error => failed(&e) },
    };
    page.render("crypto.html", "crypto", data)
}

/// The text to encrypt: the script's exact bytes (`plaintext_b64`), else the textarea with
/// the browser's CRLFs turned back into LFs.
fn plaintext(page: &Page<'_>) -> Result<String, &'static str> {
    let b64 = page.req.field("plaintext_b64").trim();
    if b64.is_empty() {
        return Ok(page.req.field("plaintext").replace("\r\n", "\n"));
    }
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| "The text could not be read (bad base64 from the page).")?;
    String::from_utf8(bytes)
        .map_err(|_| "The file is not UTF-8 text: base64 it first, then encrypt the base64 text.")
}
