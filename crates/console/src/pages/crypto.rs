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
//!
//! Key pairs: sign a digest (AsymmetricSign: base64 of the 32-byte hash, never of the
//! message), verify a signature (AsymmetricVerify: a signature that does not verify is the
//! answer `false`, not an error), encrypt with the public key (AsymmetricEncrypt: text, or
//! bytes given as base64) and decrypt (AsymmetricDecrypt: the bytes as base64, and as text when
//! they are UTF-8). Each names a key version: the one given, else the key's newest
//! (ListKeyVersions). A key pair's page links here with its key and version filled in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use minijinja::{Value, context};
use zeroize::Zeroizing;

use super::{Page, failed};
use crate::action::ApiError;
use crate::http::Reply;

/// AsymmetricSign's and AsymmetricVerify's algorithms.
const SIGN_ALGORITHMS: &[&str] = &[
    "RSA_PSS_SHA_256",
    "RSA_PKCS1_SHA_256",
    "ECDSA_SHA_256",
    "SM2DSA",
];
/// AsymmetricEncrypt's and AsymmetricDecrypt's algorithms.
const ENCRYPT_ALGORITHMS: &[&str] = &["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "SM2PKE"];

/// `crypto`: GET the forms (`?key=&version=` fill in the key-pair forms), POST one of them.
pub async fn route(page: &Page<'_>) -> Reply {
    if page.req.method != Method::POST {
        let data = context! { pair_key => page.req.param("key"),
        pair_version => page.req.param("version") };
        return page.render("crypto.html", "crypto", with_lists(data));
    }
    let f = |name| page.req.field(name);
    let mode = f("mode");
    if PAIR_MODES.contains(&mode) {
        return pair(page, mode).await;
    }
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
                let data = context! { mode => mode, local_error => why };
                return page.render("crypto.html", "crypto", with_lists(data));
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
    let data = match outcome.map(crate::action::secret) {
        Ok(result) => context! { mode => mode, result => &*result },
        Err(e) => context! { mode => mode, error => failed(&e) },
    };
    page.render("crypto.html", "crypto", with_lists(data))
}

/// The forms of a key pair.
const PAIR_MODES: &[&str] = &["sign", "verify", "pair-encrypt", "pair-decrypt"];

/// `data` with the algorithm lists the key-pair forms offer.
fn with_lists(data: Value) -> Value {
    context! { sign_algorithms => SIGN_ALGORITHMS, encrypt_algorithms => ENCRYPT_ALGORITHMS,
    ..data }
}

/// One key-pair action: its result (with the text of a decrypted plaintext when it is UTF-8)
/// or its error, the key and version kept in the forms.
async fn pair(page: &Page<'_>, mode: &str) -> Reply {
    let f = |name| page.req.field(name);
    let key = f("key").trim();
    let version = match pair_version(page, key).await {
        Ok(v) => v,
        Err(e) => {
            let data = context! { mode => mode, error => failed(&e), pair_key => key };
            return page.render("crypto.html", "crypto", with_lists(data));
        }
    };
    let plaintext;
    let mut p = vec![
        ("KeyId", key),
        ("KeyVersionId", version.as_str()),
        ("Algorithm", f("algorithm")),
    ];
    let action = match mode {
        "sign" => {
            p.push(("Digest", f("digest").trim()));
            "AsymmetricSign"
        }
        "verify" => {
            p.extend([
                ("Digest", f("digest").trim()),
                ("Value", f("signature").trim()),
            ]);
            "AsymmetricVerify"
        }
        "pair-encrypt" => {
            plaintext = pair_plaintext(f("plaintext"), f("is_base64") == "on");
            p.push(("Plaintext", plaintext.as_str()));
            "AsymmetricEncrypt"
        }
        _ => {
            p.push(("CiphertextBlob", f("ciphertext").trim()));
            "AsymmetricDecrypt"
        }
    };
    let data = match page.kms(action, &p).await.map(crate::action::secret) {
        Ok(result) => {
            let text = decrypted_text(&result.0);
            context! { mode => mode, result => &*result, text => text.as_deref() }
        }
        Err(e) => context! { mode => mode, error => failed(&e) },
    };
    let data = context! { pair_key => key, pair_version => version, ..data };
    page.render("crypto.html", "crypto", with_lists(data))
}

/// The form's key version, else the key's newest (ListKeyVersions lists oldest first; a key
/// of more than 100 versions must name one).
async fn pair_version(page: &Page<'_>, key: &str) -> Result<String, ApiError> {
    let given = page.req.field("version").trim();
    if !given.is_empty() || key.is_empty() {
        return Ok(given.to_owned());
    }
    let reply = page
        .kms("ListKeyVersions", &[("KeyId", key), ("PageSize", "100")])
        .await?;
    Ok(reply["KeyVersions"]["KeyVersion"]
        .as_array()
        .and_then(|v| v.last())
        .and_then(|v| v["KeyVersionId"].as_str())
        .unwrap_or("")
        .to_owned())
}

/// AsymmetricEncrypt's `Plaintext`: the form's base64 as given, or its text (line breaks as
/// the text area shows them) as base64.
fn pair_plaintext(given: &str, is_base64: bool) -> Zeroizing<String> {
    Zeroizing::new(match is_base64 {
        true => given.trim().to_owned(),
        false => STANDARD.encode(given.replace("\r\n", "\n")),
    })
}

/// AsymmetricDecrypt's plaintext as text, when its bytes are UTF-8; wiped when dropped (the
/// decoded bytes too, when they are not text).
fn decrypted_text(result: &serde_json::Value) -> Option<Zeroizing<String>> {
    let b64 = result.get("Plaintext")?.as_str()?;
    let bytes = STANDARD.decode(b64).ok()?;
    match String::from_utf8(bytes) {
        Ok(text) => Some(Zeroizing::new(text)),
        Err(e) => {
            Zeroizing::new(e.into_bytes());
            None
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pairs_plaintext_is_base64_of_the_text_or_as_given() {
        assert_eq!(pair_plaintext("a\r\nb", false).as_str(), "YQpi");
        assert_eq!(pair_plaintext(" AAEC \n", true).as_str(), "AAEC");
    }

    #[test]
    fn decrypted_bytes_are_shown_as_text_only_when_utf8() {
        let text = decrypted_text(&serde_json::json!({"Plaintext": "aMOp"}));
        assert_eq!(text.as_deref().map(String::as_str), Some("h\u{e9}"));
        assert!(decrypted_text(&serde_json::json!({"Plaintext": "/w=="})).is_none());
        assert!(decrypted_text(&serde_json::json!({"Value": true})).is_none());
    }
}
