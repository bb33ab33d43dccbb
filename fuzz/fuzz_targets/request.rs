//! Every action's parameter decoder (`openkms_api::codec::Endpoint::decode`): a request (see
//! `openkms_fuzz::RawRequest`) whose query and form body are decoded as the server does,
//! then handed to the decoder of its `Action` (any action when it names none: the first
//! input byte picks one).
//!
//! Checks: no panic in decoding any action's parameters (tags, contexts, numbers, enums,
//! policies, key references); what did not decode is still an error value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_api::codec::{self, endpoint, endpoints};
use openkms_api::rpc::Params;
use openkms_fuzz::{RawRequest, shared};

fuzz_target!(|data: &[u8]| {
    let pick = data.first().copied().unwrap_or(0) as usize;
    let Some(request) = RawRequest::parse(data) else {
        return;
    };
    let params = Params::parse(request.query, Some(request.body));
    let version = params.get("Version").unwrap_or(codec::KMS_VERSION);
    let chosen = params
        .get("Action")
        .and_then(|action| endpoint(version, action))
        .unwrap_or_else(|| &endpoints()[pick % endpoints().len()]);
    let shared = shared();
    let _pending = chosen.decode(&params, &shared.service);
    let _ = openkms_api::codec::request::encryption_context(&params);
});
