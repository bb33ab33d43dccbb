"""RAM login profiles (console passwords) through the official old SDK ``aliyun-python-sdk-ram``:
CreateLoginProfile, GetLoginProfile, UpdateLoginProfile and DeleteLoginProfile with their own
request classes (signature V1), every reply checked field by field and every error by code and
HTTP status. The password is never in a reply; the console sign-in that uses it is tested in
tests/e2e-console.
"""

from __future__ import annotations

import time

from e2ehelp import DATE_RE, UUID_RE, epoch, new_ram_user, ram_request, unique_name

R = ram_request
PROFILE_FIELDS = {"UserName", "PasswordResetRequired", "MFABindRequired", "CreateDate"}


def profile(reply: dict, user: str, reset: bool, mfa: bool) -> dict:
    assert set(reply) == {"LoginProfile", "RequestId"}, reply
    assert UUID_RE.match(reply["RequestId"]), reply
    p = reply["LoginProfile"]
    assert set(p) == PROFILE_FIELDS, p
    assert p["UserName"] == user
    assert p["PasswordResetRequired"] is reset, p
    assert p["MFABindRequired"] is mfa, p
    assert DATE_RE.match(p["CreateDate"]) and abs(epoch(p["CreateDate"]) - time.time()) < 600, p
    return p


def new_user(kms) -> str:
    name = unique_name("login")
    kms.call(R("CreateUser", UserName=name))
    return name


def test_login_profile_lifecycle(kms):
    user = new_user(kms)
    kms.error(R("GetLoginProfile", UserName=user), 404, "EntityNotExist.User.LoginProfile")
    created = profile(kms.call(R("CreateLoginProfile", UserName=user, Password="Correct-horse-1",
                                 PasswordResetRequired=True)), user, True, False)
    got = profile(kms.call(R("GetLoginProfile", UserName=user)), user, True, False)
    assert got["CreateDate"] == created["CreateDate"]
    # flags change one at a time, the rest kept; the password may change alone
    profile(kms.call(R("UpdateLoginProfile", UserName=user, MFABindRequired=True)), user, True, True)
    profile(kms.call(R("UpdateLoginProfile", UserName=user, Password="Another-horse-2",
                       PasswordResetRequired=False)), user, False, True)
    again = profile(kms.call(R("GetLoginProfile", UserName=user)), user, False, True)
    assert again["CreateDate"] == created["CreateDate"]
    reply = kms.call(R("DeleteLoginProfile", UserName=user))
    assert set(reply) == {"RequestId"}, reply
    kms.error(R("GetLoginProfile", UserName=user), 404, "EntityNotExist.User.LoginProfile")
    kms.error(R("DeleteLoginProfile", UserName=user), 404, "EntityNotExist.User.LoginProfile")
    kms.error(R("UpdateLoginProfile", UserName=user, Password="Correct-horse-1"), 404,
              "EntityNotExist.User.LoginProfile")


def test_login_profile_errors(kms):
    user = new_user(kms)
    nobody = unique_name("nobody")
    kms.error(R("CreateLoginProfile", UserName=nobody, Password="Correct-horse-1"), 404,
              "EntityNotExist.User")
    kms.error(R("GetLoginProfile", UserName=nobody), 404, "EntityNotExist.User")
    kms.error(R("CreateLoginProfile", UserName=user), 400, "MissingParameter")
    kms.error(R("CreateLoginProfile", Password="Correct-horse-1"), 400, "MissingParameter")
    kms.error(R("CreateLoginProfile", UserName=user, Password="short"), 400, "InvalidParameter")
    kms.error(R("CreateLoginProfile", UserName=user, Password="x" * 33), 400, "InvalidParameter")
    kms.error(R("CreateLoginProfile", UserName=user, Password="x" * 129), 400, "InvalidParameter")
    kms.error(R("CreateLoginProfile", UserName=user, Password="Correct-horse-1",
                PasswordResetRequired="maybe"), 400, "InvalidParameter")
    kms.call(R("CreateLoginProfile", UserName=user, Password="Correct-horse-1"))
    kms.error(R("CreateLoginProfile", UserName=user, Password="Correct-horse-1"), 409,
              "EntityAlreadyExists.User.LoginProfile")
    # a user with a login profile is deleted with it
    kms.call(R("DeleteUser", UserName=user))
    kms.error(R("GetLoginProfile", UserName=user), 404, "EntityNotExist.User")


def test_login_profile_needs_ram_permission(kms):
    user = new_user(kms)
    plain = new_ram_user(kms, "nologin", system=["AliyunKMSFullAccess"])
    plain.kms.error(R("CreateLoginProfile", UserName=user, Password="Correct-horse-1"), 403,
                    "NoPermission")
    plain.kms.error(R("GetLoginProfile", UserName=user), 403, "NoPermission")
    reader = new_ram_user(kms, "ramread", system=["AliyunRAMReadOnlyAccess"])
    kms.call(R("CreateLoginProfile", UserName=user, Password="Correct-horse-1"))
    profile(reader.kms.call(R("GetLoginProfile", UserName=user)), user, False, False)
    reader.kms.error(R("UpdateLoginProfile", UserName=user, Password="Other-horse-3"), 403,
                     "NoPermission")
    reader.kms.error(R("DeleteLoginProfile", UserName=user), 403, "NoPermission")


def test_change_password_is_the_users_own(kms):
    """ChangePassword (old SDK's ChangePasswordRequest) acts on the caller's own profile, needs
    no RAM permission, proves the old password and clears PasswordResetRequired."""
    user = new_ram_user(kms, "chpw")  # no policy at all
    user.kms.error(R("ChangePassword", OldPassword="Initial-pass-1", NewPassword="Next-pass-22"),
                   404, "EntityNotExist.User.LoginProfile")
    kms.call(R("CreateLoginProfile", UserName=user.name, Password="Initial-pass-1",
               PasswordResetRequired=True))
    user.kms.error(R("ChangePassword", OldPassword="Wrong-pass-1", NewPassword="Next-pass-22"),
                   400, "InvalidParameter")
    user.kms.error(R("ChangePassword", OldPassword="Initial-pass-1", NewPassword="short"),
                   400, "InvalidParameter")
    user.kms.error(R("ChangePassword", OldPassword="Initial-pass-1"), 400, "MissingParameter")
    reply = user.kms.call(R("ChangePassword", OldPassword="Initial-pass-1",
                            NewPassword="Next-pass-22"))
    assert set(reply) == {"RequestId"}, reply
    profile(kms.call(R("GetLoginProfile", UserName=user.name)), user.name, False, False)
    # the old password no longer proves anything
    user.kms.error(R("ChangePassword", OldPassword="Initial-pass-1", NewPassword="Third-pass-333"),
                   400, "InvalidParameter")
    # root has no RAM user, so no console password
    kms.error(R("ChangePassword", OldPassword="Initial-pass-1", NewPassword="Next-pass-22"),
              404, "EntityNotExist.User")
