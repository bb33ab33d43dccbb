//! Reading a reply: JSON on success, a typed error otherwise (spec §4).
//!
//! Owns [`RawResponse`] and the rule: 2xx with a JSON object is success; any other status
//! with a JSON object holding `Code` is [`ClientError::Api`] (`Code`/`code`,
//! `Message`/`message`, `RequestId`/`requestId`, as the Tea SDK reads them); anything else
//! is a [`ProtocolError`]. Does not own what individual fields of a success mean.

use bytes::Bytes;
use serde_json::Value;

use crate::error::{ClientError, ProtocolError};

/// A reply as received, before interpretation.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The body bytes.
    pub body: Bytes,
}

impl RawResponse {
    /// The JSON object of a success, or the API or protocol error the reply carries.
    pub fn into_result(self) -> Result<Value, ClientError> {
        let status = self.status;
        let body = self.json()?;
        if !body.is_object() {
            return Err(ProtocolError::NotAnObject { status, body }.into());
        }
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let Some(code) = field(&body, "Code", "code") else {
            return Err(ProtocolError::MissingErrorCode { status, body }.into());
        };
        Err(ClientError::Api {
            status,
            code: code.to_owned(),
            message: field(&body, "Message", "message")
                .unwrap_or_default()
                .to_owned(),
            request_id: field(&body, "RequestId", "requestId")
                .unwrap_or_default()
                .to_owned(),
            body: Box::new(body),
        })
    }

    fn json(&self) -> Result<Value, ProtocolError> {
        serde_json::from_slice(&self.body).map_err(|source| ProtocolError::NotJson {
            status: self.status,
            content_type: self
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            source,
        })
    }
}

/// A string member under either spelling.
fn field<'a>(body: &'a Value, name: &str, alternative: &str) -> Option<&'a str> {
    body.get(name)
        .or_else(|| body.get(alternative))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &'static str) -> Result<Value, ClientError> {
        RawResponse {
            status,
            headers: http::HeaderMap::new(),
            body: Bytes::from_static(body.as_bytes()),
        }
        .into_result()
    }

    #[test]
    fn success_is_the_object() {
        let value = reply(200, r#"{"RequestId":"r","KeyId":"k"}"#).unwrap();
        assert_eq!(value["KeyId"], "k");
    }

    #[test]
    fn api_errors_are_typed() {
        let body = r#"{"RequestId":"r1","HostId":"h","Code":"Forbidden.KeyNotFound","Message":"The specified Key is not found."}"#;
        match reply(404, body).unwrap_err() {
            ClientError::Api {
                status,
                code,
                message,
                request_id,
                body,
            } => {
                assert_eq!(
                    (status, code.as_str(), request_id.as_str()),
                    (404, "Forbidden.KeyNotFound", "r1")
                );
                assert_eq!(message, "The specified Key is not found.");
                assert_eq!(body["HostId"], "h");
            }
            other => panic!("{other:?}"),
        }
        let lower = reply(400, r#"{"code":"X","message":"m","requestId":"r"}"#).unwrap_err();
        assert_eq!(lower.api_code(), Some("X"));
    }

    #[test]
    fn protocol_errors() {
        assert!(matches!(
            reply(502, "<html>bad gateway</html>"),
            Err(ClientError::Protocol(ProtocolError::NotJson {
                status: 502,
                ..
            }))
        ));
        assert!(matches!(
            reply(200, "[1]"),
            Err(ClientError::Protocol(ProtocolError::NotAnObject { .. }))
        ));
        assert!(matches!(
            reply(500, r#"{"Message":"oops"}"#),
            Err(ClientError::Protocol(ProtocolError::MissingErrorCode {
                status: 500,
                ..
            }))
        ));
    }
}
