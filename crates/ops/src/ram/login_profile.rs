//! What the login-profile operations share: the user they act on is the resource.

use openkms_core::KeyService;

use super::user_touch;
use crate::Touch;

/// A login-profile action touches its user.
pub(super) fn touches(kms: &KeyService, user_name: &str) -> Vec<Touch<'static>> {
    vec![user_touch(kms, user_name)]
}
