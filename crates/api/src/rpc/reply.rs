//! Rendering replies: JSON when `Format=JSON`, XML when `Format=XML` or no format is asked
//! for (§4.1, §4.2).
//!
//! A success is HTTP 200 with the action's typed reply plus `RequestId`. An error is the status
//! from [`super::error`] with `RequestId`, `HostId`, `Code`, `Message` and `Recommend`. XML
//! wraps a success in `<{Action}Response>` and an error in `<Error>`, turning list wrappers
//! such as `{"Keys":{"Key":[…]}}` into repeated elements. Choosing the status is not done here.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::WireError;

/// The reply format a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json;charset=utf-8`.
    Json,
    /// `text/xml;charset=utf-8` (Alibaba's RPC default).
    Xml,
}

impl Format {
    /// Reads the `Format` parameter case-insensitively; anything but XML is JSON.
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.eq_ignore_ascii_case("xml") => Self::Xml,
            _ => Self::Json,
        }
    }

    /// The format of a request with `Format` parameter `format` and `Accept` header `accept`.
    ///
    /// `Format` decides when present, as [`Format::from_param`] reads it. Without it the
    /// reply is XML, Alibaba's RPC default (hand-built requests: curl, shell scripts), unless
    /// `Accept` names a JSON media type: the Tea SDK's V3 path sends no `Format` but
    /// `accept: application/json`, and the aliyun CLI switches formats through `Accept`.
    pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Self {
        match (format, accept) {
            (Some(_), _) => Self::from_param(format),
            (None, Some(accept)) if names_json(accept) => Self::Json,
            (None, _) => Self::Xml,
        }
    }

    /// The Content-Type header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json;charset=utf-8",
            Self::Xml => "text/xml;charset=utf-8",
        }
    }
}

/// Whether an `Accept` value lists a JSON media type (`application/json`, `text/json`,
/// `application/problem+json`, any case, with parameters).
fn names_json(accept: &str) -> bool {
    accept.split(',').any(|item| {
        let media = item.split(';').next().unwrap_or_default().trim();
        let subtype = media.rsplit(['/', '+']).next().unwrap_or_default();
        media.contains('/') && subtype.eq_ignore_ascii_case("json")
    })
}

/// A rendered reply: status, content type and body. Its `Debug` form shows the body's
/// length, not the body (it may hold a plaintext).
#[derive(Clone)]
pub struct Rendered {
    /// HTTP status.
    pub status: u16,
    /// Content-Type value.
    pub content_type: &'static str,
    /// The body bytes.
    pub body: Bytes,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Reply bytes that are overwritten with zeros when the last reference to them is dropped
/// (after the connection wrote them): a success may carry a plaintext or a data key.
pub(crate) struct Wiped(pub(crate) Vec<u8>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Renders a typed success: the reply's fields plus `RequestId`, last. JSON is written
/// straight from the reply; XML goes through a JSON value, whose strings are wiped after
/// (they may hold a plaintext).
pub fn typed<T: Serialize>(format: Format, action: &str, reply: &T, request_id: &str) -> Rendered {
    let body = match format {
        Format::Json => json_struct_with_request_id(reply, request_id),
        Format::Xml => {
            let mut value = serde_json::to_value(reply).unwrap_or(Value::Null);
            let mut fields = match value.take() {
                Value::Object(fields) => fields,
                _ => Map::new(),
            };
            fields.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
            let text = xml_document(&format!("{action}Response"), &fields).into_bytes();
            wipe_map(&mut fields);
            text
        }
    };
    Rendered {
        status: 200,
        content_type: format.content_type(),
        body: Bytes::from_owner(Wiped(body)),
    }
}

/// The JSON object of `reply` with `RequestId` appended as its last member.
fn json_struct_with_request_id<T: Serialize>(reply: &T, request_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Serializing strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, reply);
    append_request_id(out, request_id)
}

/// Replaces the closing brace of the JSON object in `out` with `,"RequestId":…}`.
fn append_request_id(mut out: Vec<u8>, request_id: &str) -> Vec<u8> {
    out.pop(); // its closing brace
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    out.extend_from_slice(b"\"RequestId\":");
    let _ = serde_json::to_writer(&mut out, request_id);
    out.push(b'}');
    out
}

/// Overwrites every string in `fields` with zeros before it is freed.
fn wipe_map(fields: &mut Map<String, Value>) {
    fields.values_mut().for_each(wipe);
}

fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => zeroize::Zeroize::zeroize(s),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => wipe_map(map),
        _ => {}
    }
}

/// Renders an error body with its status.
pub fn error(format: Format, err: &WireError, request_id: &str, host_id: &str) -> Rendered {
    let mut fields = Map::new();
    fields.insert("RequestId".into(), request_id.into());
    fields.insert("HostId".into(), host_id.into());
    fields.insert("Code".into(), err.code.into());
    fields.insert("Message".into(), err.message.clone().into());
    let recommend = super::error::remedy(err.code).unwrap_or_default();
    fields.insert("Recommend".into(), recommend.into());
    let body = match format {
        Format::Json => serde_json::to_vec(&fields).unwrap_or_default(),
        Format::Xml => xml_document("Error", &fields).into_bytes(),
    };
    Rendered {
        status: err.status,
        content_type: format.content_type(),
        body: body.into(),
    }
}

fn xml_document(root: &str, fields: &Map<String, Value>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    // The root element written here rather than from a copy of `fields` as a value.
    open_tag(&mut out, root);
    fields.iter().for_each(|(k, v)| xml_element(&mut out, k, v));
    close_tag(&mut out, root);
    out
}

/// Writes `value` as `<name>…</name>`; an array becomes one element per item.
fn xml_element(out: &mut String, name: &str, value: &Value) {
    if let Value::Array(items) = value {
        for item in items {
            xml_element(out, name, item);
        }
        return;
    }
    open_tag(out, name);
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| xml_element(out, k, v)),
        Value::String(s) => xml_escape(out, s),
        Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
    close_tag(out, name);
}

fn open_tag(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close_tag(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn xml_escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept through a parser's line-end normalisation.
            '\r' => out.push_str("&#13;"),
            // Not an XML 1.0 character even escaped: stored before input refused it, it is
            // shown as the replacement character so that the reply still parses.
            c if (c < ' ' && !matches!(c, '\t' | '\n')) || matches!(c, '\u{fffe}' | '\u{ffff}') => {
                out.push('\u{fffd}');
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_success_has_request_id() {
        let Value::Object(fields) = json!({"KeyId": "k"}) else {
            unreachable!()
        };
        let r = typed(Format::Json, "Encrypt", &fields, "rid");
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v, json!({"KeyId": "k", "RequestId": "rid"}));
        assert_eq!(r.status, 200);
    }

    #[test]
    fn json_success_is_the_map_with_request_id_last() {
        let cases = [
            json!({}),
            json!({"KeyId": "k", "KeyVersionId": "v\"1", "CiphertextBlob": "YQ=="}),
            json!({"Keys": {"Key": [{"KeyId": "a"}]}, "TotalCount": 2, "PageNumber": 1}),
        ];
        for case in cases {
            let Value::Object(fields) = case else {
                unreachable!()
            };
            let mut expected = fields.clone();
            expected.insert("RequestId".into(), "R-\u{e9}\"".into());
            let r = typed(Format::Json, "Encrypt", &fields, "R-\u{e9}\"");
            assert_eq!(r.body, serde_json::to_vec(&expected).unwrap());
        }
    }

    #[test]
    fn xml_lists_and_escaping() {
        let Value::Object(fields) =
            json!({"Keys": {"Key": [{"KeyId": "a"}, {"KeyId": "b<"}]}, "TotalCount": 2})
        else {
            unreachable!()
        };
        let r = typed(Format::Xml, "ListKeys", &fields, "rid");
        let text = String::from_utf8(r.body.to_vec()).unwrap();
        assert!(text.contains("<ListKeysResponse><Keys><Key><KeyId>a</KeyId></Key><Key><KeyId>b&lt;</KeyId></Key></Keys><TotalCount>2</TotalCount><RequestId>rid</RequestId></ListKeysResponse>"));
        assert_eq!(r.content_type, "text/xml;charset=utf-8");
    }

    #[test]
    fn format_then_accept_then_xml() {
        assert_eq!(Format::negotiate(None, None), Format::Xml);
        assert_eq!(Format::negotiate(None, Some("*/*")), Format::Xml);
        assert_eq!(Format::negotiate(None, Some("text/xml")), Format::Xml);
        assert_eq!(Format::negotiate(Some("xml"), None), Format::Xml);
        assert_eq!(Format::negotiate(Some("JSON"), None), Format::Json);
        assert_eq!(
            Format::negotiate(Some("xml"), Some("application/json")),
            Format::Xml
        );
        for json in [
            "application/json",
            "Text/JSON; q=1",
            "text/html, application/x+json",
        ] {
            assert_eq!(Format::negotiate(None, Some(json)), Format::Json, "{json}");
        }
        assert_eq!(Format::negotiate(None, Some("json")), Format::Xml);
    }

    #[test]
    fn xml_carries_only_xml_characters() {
        let Value::Object(fields) = json!({"Description": "a\u{1}b\u{0}c\td\re\nf\u{ffff}"}) else {
            unreachable!()
        };
        let r = typed(Format::Xml, "DescribeKey", &fields, "rid");
        let text = String::from_utf8(r.body.to_vec()).unwrap();
        let legal = |c: char| {
            matches!(c, '\t' | '\n') || (c >= ' ' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        };
        assert!(text.chars().all(legal), "{text:?}");
        assert!(
            text.contains("a\u{fffd}b\u{fffd}c\td&#13;e\nf\u{fffd}"),
            "{text:?}"
        );
    }

    #[test]
    fn error_body_fields() {
        let w = WireError {
            status: 404,
            code: "Forbidden.KeyNotFound",
            message: "m".into(),
        };
        let r = error(Format::Json, &w, "rid", "host");
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        for f in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
            assert!(v.get(f).is_some(), "{f}");
        }
        assert_eq!(r.status, 404);
    }
}
