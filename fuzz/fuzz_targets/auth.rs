//! Request authentication (`openkms_api::auth::Authenticator`): V1 and V3 verification,
//! the `Authorization` header, `Timestamp`/`x-acs-date` and the payload hash, on a request
//! (see `openkms_fuzz::RawRequest`) against a key service whose only AccessKey is the test
//! vectors' `testakid`.
//!
//! The clock is set to the time the request claims (when it claims one), so the fuzzer gets
//! past the clock window to the signature checks; a fresh authenticator per input keeps the
//! nonce cache from making runs depend on each other. Checks: no panic; what authenticates
//! is `testakid`, and a V3 request that authenticates signs `host`, its `content-type` and
//! every `x-acs-*` header it carries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_api::auth::{Authenticator, RequestView};
use openkms_api::rpc::Params;
use openkms_fuzz::{ACCESS_KEY_ID, DEFAULT_NOW, RawRequest, rfc3339_seconds, shared};
use openkms_sign::parse_authorization;

fuzz_target!(|data: &[u8]| {
    let Some(request) = RawRequest::parse(data) else {
        return;
    };
    let params = Params::parse(request.query, Some(request.body));
    let claimed = params
        .get("Timestamp")
        .or_else(|| request.header("x-acs-date"))
        .and_then(rfc3339_seconds);
    let shared = shared();
    shared.clock.set(claimed.unwrap_or(DEFAULT_NOW));
    let view = RequestView {
        method: request.method,
        params: &params,
        headers: &request.headers,
        body: request.body,
    };
    let authenticator = Authenticator::default();
    let outcome = shared
        .runtime
        .block_on(authenticator.authenticate(&shared.service, view));
    let Ok(caller) = outcome else {
        return;
    };
    assert_eq!(caller.access_key_id, ACCESS_KEY_ID);
    if params.get("Signature").is_none() {
        let auth = request
            .header("authorization")
            .and_then(|a| parse_authorization(a).ok());
        let auth = auth.expect("a V3 request that authenticated has an Authorization header");
        for name in request.headers.keys().map(http::HeaderName::as_str) {
            if name.starts_with("x-acs-") || name == "content-type" || name == "host" {
                assert!(auth.signs(name), "{name} was not signed");
            }
        }
    }
});
