"""DescribeAccountKmsStatus and GetRandomPassword through the official SDKs' own request classes
(the two actions issue 11 added on the typed-operation seam)."""

from __future__ import annotations

import json
import string

import pytest

from e2ehelp import ACCOUNT_ID, new_ram_user, sdk_request

PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_{|}~")
CLASSES = {
    "Lowercase": set(string.ascii_lowercase),
    "Uppercase": set(string.ascii_uppercase),
    "Numbers": set(string.digits),
    "Punctuation": PUNCTUATION,
}


def password(kms, **params) -> str:
    reply = kms.call(sdk_request("GetRandomPassword", **params))
    assert set(reply) == {"RandomPassword", "RequestId"}, reply
    return reply["RandomPassword"]


def test_account_kms_status_is_enabled(kms):
    reply = kms.call(sdk_request("DescribeAccountKmsStatus"))
    assert reply["AccountStatus"] == "Enabled"
    assert set(reply) == {"AccountStatus", "RequestId"}


def test_random_password_defaults(kms):
    first, second = password(kms), password(kms)
    assert len(first) == 32 and len(second) == 32
    allowed = set().union(*CLASSES.values())
    assert set(first) <= allowed and "`" not in first
    assert first != second


@pytest.mark.parametrize("excluded", sorted(CLASSES))
def test_random_password_excludes_a_class_and_requires_the_others(kms, excluded):
    for _ in range(5):
        text = password(kms, PasswordLength="8", RequireEachIncludedType="true",
                        **{f"Exclude{excluded}": "true"})
        assert len(text) == 8
        assert not set(text) & CLASSES[excluded], text
        for name, chars in CLASSES.items():
            if name != excluded:
                assert set(text) & chars, f"{text}: no {name} character"


def test_random_password_excluded_characters_and_lengths(kms):
    text = password(kms, PasswordLength="128", ExcludeCharacters="aeiouAEIOU0{}")
    assert len(text) == 128 and not set(text) & set("aeiouAEIOU0{}")
    assert len(password(kms, PasswordLength="8")) == 8


@pytest.mark.parametrize("params", [
    {"PasswordLength": "7"},
    {"PasswordLength": "129"},
    {"PasswordLength": "abc"},
    {"ExcludeLowercase": "true", "ExcludeUppercase": "true", "ExcludeNumbers": "true",
     "ExcludePunctuation": "true"},
    {"ExcludeNumbers": "maybe"},
], ids=["short", "long", "not-a-number", "nothing-left", "bad-flag"])
def test_random_password_refusals(kms, params):
    kms.error(sdk_request("GetRandomPassword", **params), 400, "InvalidParameter")


def test_new_actions_obey_policies(kms):
    """A user without a grant is refused; kms:GetRandomPassword on the account grants it."""
    nobody = new_ram_user(kms, "nopass")
    nobody.kms.error(sdk_request("GetRandomPassword"), 403, "Forbidden.NoPermission")
    nobody.kms.error(sdk_request("DescribeAccountKmsStatus"), 403, "Forbidden.NoPermission")
    grant = json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["kms:GetRandomPassword", "kms:DescribeAccountKmsStatus"],
        "Resource": [f"acs:kms:*:{ACCOUNT_ID}:*"]}]})
    user = new_ram_user(kms, "pass", documents=[grant])
    assert len(password(user.kms)) == 32
    assert user.kms.call(sdk_request("DescribeAccountKmsStatus"))["AccountStatus"] == "Enabled"
