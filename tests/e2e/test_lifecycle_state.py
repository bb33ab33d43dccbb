"""Key state through the old SDK: EnableKey/DisableKey, ScheduleKeyDeletion/CancelKeyDeletion,
SetDeletionProtection, UpdateKeyDescription, and the key-state matrix (spec §4.4).

Destruction at the end of the pending window needs the window to pass; that is covered by the
Rust tests with a fake clock. Here only the PendingDeletion state and its DeleteDate are seen.
"""

from __future__ import annotations

import time
import uuid

import pytest

from e2ehelp import Kms, assert_error_envelope, describe, epoch, unique_alias
from e2ehelp import sdk_request as make


def state(kms: Kms, key_id: str) -> str:
    return describe(kms, key_id)["KeyState"]


def any_4xx(kms: Kms, req) -> dict:
    """Send ``req``; expect some 4xx with the full error envelope; return the body."""
    kms.prepare(req)
    status, _headers, body, exc = kms.client._implementation_of_do_action(req)
    assert exc is not None, f"expected an error, got HTTP {status}: {body[:300]!r}"
    obj = assert_error_envelope(status, body)
    assert exc.get_request_id()
    return obj


def crypto_requests(kms: Kms, key_id: str, blob: str) -> dict:
    """One request per cryptographic operation of the matrix's first row."""
    return {
        "Encrypt": kms.encrypt_request(key_id, "x"),
        "Decrypt": kms.decrypt_request(blob),
        "GenerateDataKey": make("GenerateDataKey", KeyId=key_id),
        "GenerateDataKeyWithoutPlaintext": make("GenerateDataKeyWithoutPlaintext", KeyId=key_id),
    }


# ---------------------------------------------------------------------------------------
# EnableKey / DisableKey


def test_disable_is_effective_on_the_very_next_request(kms, key):
    kid = key["KeyId"]
    blob = kms.encrypt(kid, "before")["CiphertextBlob"]  # the key is now hot in the cache
    assert kms.decrypt(blob)["Plaintext"] == "before"
    reply = kms.call(make("DisableKey", KeyId=kid))
    assert set(reply) == {"RequestId"}
    for name, req in crypto_requests(kms, kid, blob).items():
        err = kms.error(req, 409, "Rejected.Disabled")
        assert err.body["RequestId"], name
    assert state(kms, kid) == "Disabled"


def test_reenable_makes_the_key_usable_again(kms, key):
    kid = key["KeyId"]
    blob = kms.encrypt(kid, "kept")["CiphertextBlob"]
    kms.call(make("DisableKey", KeyId=kid))
    kms.error(kms.encrypt_request(kid, "x"), 409, "Rejected.Disabled")
    reply = kms.call(make("EnableKey", KeyId=kid))
    assert set(reply) == {"RequestId"}
    assert state(kms, kid) == "Enabled"
    assert kms.decrypt(blob)["Plaintext"] == "kept"
    assert kms.decrypt(kms.encrypt(kid, "new")["CiphertextBlob"])["Plaintext"] == "new"
    kms.call(make("GenerateDataKey", KeyId=kid))


def test_disable_and_enable_by_alias_and_arn(kms, key):
    alias = unique_alias()
    kms.create_alias(alias, key["KeyId"])
    kms.call(make("DisableKey", KeyId=alias))
    kms.error(kms.encrypt_request(alias, "x"), 409, "Rejected.Disabled")
    kms.error(kms.encrypt_request(key["KeyId"], "x"), 409, "Rejected.Disabled")
    kms.call(make("EnableKey", KeyId=key["Arn"]))
    kms.encrypt(alias, "x")


def test_enable_and_disable_are_idempotent(kms, key):
    kid = key["KeyId"]
    kms.call(make("EnableKey", KeyId=kid))
    assert state(kms, kid) == "Enabled"
    kms.call(make("DisableKey", KeyId=kid))
    kms.call(make("DisableKey", KeyId=kid))
    assert state(kms, kid) == "Disabled"


def test_disabled_key_is_still_described_listed_and_aliased(kms, key):
    kid = key["KeyId"]
    kms.call(make("DisableKey", KeyId=kid))
    alias = unique_alias()
    kms.create_alias(alias, kid)  # CreateAlias: ok on Disabled (§4.4)
    assert describe(kms, alias)["KeyState"] == "Disabled"
    by_key = kms.call(make("ListAliasesByKeyId", KeyId=kid))
    assert [a["AliasName"] for a in by_key["Aliases"]["Alias"]] == [alias]
    kms.call(make("DeleteAlias", AliasName=alias))


@pytest.mark.parametrize("action", ["EnableKey", "DisableKey"])
def test_enable_disable_unknown_key(kms, action):
    kms.error(make(action, KeyId=str(uuid.uuid4())), 404, "Forbidden.KeyNotFound")
    kms.error(make(action, KeyId=unique_alias("alias/missing")), 404, "Forbidden.AliasNotFound")
    kms.error(make(action), 400, "MissingParameter")


# ---------------------------------------------------------------------------------------
# ScheduleKeyDeletion / CancelKeyDeletion


@pytest.mark.parametrize("days", [6, 367, 0, -7, "seven", "7.5"])
def test_schedule_deletion_window_out_of_range(kms, key, days):
    kms.error(make("ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=days),
              400, "InvalidParameter")
    assert state(kms, key["KeyId"]) == "Enabled"


def test_schedule_deletion_without_window(kms, key):
    err = kms.error(make("ScheduleKeyDeletion", KeyId=key["KeyId"]), 400, "MissingParameter")
    assert "PendingWindowInDays" in err.message


def test_schedule_deletion_unknown_key(kms):
    kms.error(make("ScheduleKeyDeletion", KeyId=str(uuid.uuid4()), PendingWindowInDays=7),
              404, "Forbidden.KeyNotFound")


@pytest.mark.parametrize("days", [7, 366])
def test_schedule_deletion_shows_pending_state_and_delete_date(kms, key, days):
    before = time.time()
    reply = kms.call(make("ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=days))
    after = time.time()
    assert set(reply) == {"RequestId"}
    md = describe(kms, key["KeyId"])
    assert md["KeyState"] == "PendingDeletion"
    delete_at = epoch(md["DeleteDate"])
    assert before + days * 86400 - 2 <= delete_at <= after + days * 86400 + 2, md["DeleteDate"]


def test_pending_deletion_matrix(kms, key):
    kid = key["KeyId"]
    blob = kms.encrypt(kid, "before")["CiphertextBlob"]  # hot in the cache
    alias = unique_alias()
    kms.create_alias(alias, kid)
    kms.call(make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=7))
    # crypto: Rejected.PendingDeletion, at once
    for req in crypto_requests(kms, kid, blob).values():
        kms.error(req, 409, "Rejected.PendingDeletion")
    kms.error(kms.encrypt_request(alias, "x"), 409, "Rejected.PendingDeletion")
    # illegal transitions
    for action in ("EnableKey", "DisableKey"):
        kms.error(make(action, KeyId=kid), 409, "Rejected.StateModifiedFailed")
    kms.error(make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=7), 409,
              "Rejected.StateModifiedFailed")
    kms.error(kms.create_alias_request(unique_alias(), kid), 409, "Rejected.StateModifiedFailed")
    # still readable
    assert describe(kms, alias)["KeyState"] == "PendingDeletion"
    listed = kms.call(make("ListAliasesByKeyId", KeyId=kid))
    assert [a["AliasName"] for a in listed["Aliases"]["Alias"]] == [alias]
    assert state(kms, kid) == "PendingDeletion"


def test_cancel_deletion_makes_the_key_usable_again(kms, key):
    kid = key["KeyId"]
    blob = kms.encrypt(kid, "survives")["CiphertextBlob"]
    kms.call(make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=30))
    reply = kms.call(make("CancelKeyDeletion", KeyId=kid))
    assert set(reply) == {"RequestId"}
    md = describe(kms, kid)
    assert md["KeyState"] == "Enabled"
    assert md.get("DeleteDate", "") == ""
    assert kms.decrypt(blob)["Plaintext"] == "survives"
    assert kms.decrypt(kms.encrypt(kid, "again")["CiphertextBlob"])["Plaintext"] == "again"
    # and it can be scheduled again
    kms.call(make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=7))
    assert state(kms, kid) == "PendingDeletion"


def test_schedule_deletion_of_a_disabled_key(kms, key):
    kid = key["KeyId"]
    kms.call(make("DisableKey", KeyId=kid))
    kms.call(make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=7))
    assert state(kms, kid) == "PendingDeletion"
    kms.error(kms.encrypt_request(kid, "x"), 409, "Rejected.PendingDeletion")
    kms.call(make("CancelKeyDeletion", KeyId=kid))
    # §4.4 does not say which state a cancel returns to (Enabled or the pre-deletion one)
    assert state(kms, kid) in ("Enabled", "Disabled")
    kms.call(make("EnableKey", KeyId=kid))
    kms.encrypt(kid, "x")


def test_cancel_deletion_of_a_key_not_pending(kms, key):
    kid = key["KeyId"]
    kms.error(make("CancelKeyDeletion", KeyId=kid), 409, "Rejected.StateModifiedFailed")
    kms.call(make("DisableKey", KeyId=kid))
    kms.error(make("CancelKeyDeletion", KeyId=kid), 409, "Rejected.StateModifiedFailed")
    assert state(kms, kid) == "Disabled"


def test_cancel_deletion_unknown_key(kms):
    kms.error(make("CancelKeyDeletion", KeyId=str(uuid.uuid4())), 404, "Forbidden.KeyNotFound")
    kms.error(make("CancelKeyDeletion"), 400, "MissingParameter")


# ---------------------------------------------------------------------------------------
# SetDeletionProtection


def protect(kms: Kms, arn: str, on, description: str | None = None) -> dict:
    params = {"ProtectedResourceArn": arn, "EnableDeletionProtection": on}
    if description is not None:
        params["DeletionProtectionDescription"] = description
    return kms.call(make("SetDeletionProtection", **params))


def test_deletion_protection_blocks_scheduling(kms, key):
    kid = key["KeyId"]
    reply = protect(kms, key["Arn"], True, "do not delete")
    assert set(reply) == {"RequestId"}
    md = describe(kms, kid)
    assert (md["DeletionProtection"], md["DeletionProtectionDescription"]) == \
        ("Enabled", "do not delete")
    body = any_4xx(kms, make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=7))
    assert body["Code"]
    md = describe(kms, kid)
    assert md["KeyState"] == "Enabled" and md.get("DeleteDate", "") == ""
    kms.encrypt(kid, "still usable")
    # off again: scheduling works
    protect(kms, key["Arn"], False)
    md = describe(kms, kid)
    assert (md["DeletionProtection"], md["DeletionProtectionDescription"]) == ("Disabled", "")
    kms.call(make("ScheduleKeyDeletion", KeyId=kid, PendingWindowInDays=7))
    assert state(kms, kid) == "PendingDeletion"


def test_deletion_protection_with_lowercase_booleans(kms, key):
    protect(kms, key["Arn"], "true")
    assert describe(kms, key["KeyId"])["DeletionProtection"] == "Enabled"
    protect(kms, key["Arn"], "false")
    assert describe(kms, key["KeyId"])["DeletionProtection"] == "Disabled"


def test_deletion_protection_errors(kms, key):
    arn = key["Arn"]
    unknown = arn.rsplit("/", 1)[0] + "/" + str(uuid.uuid4())
    kms.error(make("SetDeletionProtection", ProtectedResourceArn=unknown,
                   EnableDeletionProtection=True), 404, "Forbidden.KeyNotFound")
    kms.error(make("SetDeletionProtection", ProtectedResourceArn=arn), 400, "MissingParameter")
    kms.error(make("SetDeletionProtection", EnableDeletionProtection=True), 400,
              "MissingParameter")
    kms.error(make("SetDeletionProtection", ProtectedResourceArn=arn,
                   EnableDeletionProtection="maybe"), 400, "InvalidParameter")
    assert describe(kms, key["KeyId"])["DeletionProtection"] == "Disabled"


# ---------------------------------------------------------------------------------------
# UpdateKeyDescription


def test_update_key_description(kms):
    key = kms.create_key(Description="old")
    reply = kms.call(make("UpdateKeyDescription", KeyId=key["KeyId"], Description="new text ✓"))
    assert set(reply) == {"RequestId"}
    assert describe(kms, key["KeyId"])["Description"] == "new text ✓"
    kms.call(make("UpdateKeyDescription", KeyId=key["KeyId"], Description="d" * 8192))
    assert describe(kms, key["KeyId"])["Description"] == "d" * 8192


def test_update_key_description_errors(kms, key):
    kms.error(make("UpdateKeyDescription", KeyId=key["KeyId"], Description="d" * 8193),
              400, "InvalidParameter")
    kms.error(make("UpdateKeyDescription", KeyId=key["KeyId"]), 400, "MissingParameter")
    kms.error(make("UpdateKeyDescription", KeyId=str(uuid.uuid4()), Description="x"),
              404, "Forbidden.KeyNotFound")
    assert describe(kms, key["KeyId"])["Description"] == key["Description"]
