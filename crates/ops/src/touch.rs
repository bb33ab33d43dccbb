//! What an operation touches: a key (by reference, resolved in place), the key behind a
//! ciphertext, or resources named by ARN (aliases, RAM users and policies, the account's key
//! and alias containers).
//!
//! Operations build their [`Touch`] list from their typed request; the engine asks the core
//! for each one.

use std::borrow::Cow;

use openkms_core::{EncryptionContext, KeyRef, KeyService};

/// One thing a request touches.
#[derive(Debug)]
pub enum Touch<'a> {
    /// The key a request names, with the context it binds (for `kms:EncryptionContext`
    /// conditions). The engine rewrites an alias to the key id it checked, so the operation
    /// runs on exactly that key.
    Key {
        /// The key as named; resolved in place.
        key: &'a mut KeyRef,
        /// The request's EncryptionContext, if it has one.
        context: Option<&'a EncryptionContext>,
    },
    /// A key reference checked but not pinned: DeleteAlias's alias (it acts on the alias
    /// itself), and what a front end reads of a request it could not decode whole.
    Named {
        /// The key as named.
        key: KeyRef,
        /// The request's EncryptionContext, if it has one.
        context: Option<EncryptionContext>,
    },
    /// The key that made a ciphertext, with the context the request gives for it.
    Ciphertext {
        /// The ciphertext blob.
        blob: Cow<'a, [u8]>,
        /// The request's EncryptionContext for it.
        context: Option<Cow<'a, EncryptionContext>>,
    },
    /// Resources named by ARN.
    Resources(Vec<String>),
    /// A secret by name: its ARN, judged with the secret's policy beside the caller's own.
    Secret(String),
}

impl<'a> Touch<'a> {
    /// A key, without context.
    pub fn key(key: &'a mut KeyRef) -> Self {
        Self::Key { key, context: None }
    }

    /// A key with the request's context.
    pub fn key_with(key: &'a mut KeyRef, context: &'a EncryptionContext) -> Self {
        Self::Key {
            key,
            context: Some(context),
        }
    }

    /// A key checked but not pinned.
    pub fn named(key: KeyRef) -> Self {
        Self::Named { key, context: None }
    }

    /// The key that made `blob`, with the request's context.
    pub fn ciphertext(blob: &'a [u8], context: &'a EncryptionContext) -> Self {
        Self::Ciphertext {
            blob: Cow::Borrowed(blob),
            context: Some(Cow::Borrowed(context)),
        }
    }

    /// One resource ARN.
    pub fn resource(arn: String) -> Self {
        Self::Resources(vec![arn])
    }

    /// The account's key container `acs:kms:<region>:<account>:key`, which Alibaba documents
    /// as the resource of CreateKey and ListKeys, and which a request whose key cannot be read
    /// is checked against.
    pub fn key_container(kms: &KeyService) -> Self {
        Self::resource(container(kms, "key"))
    }

    /// The account's alias container `acs:kms:<region>:<account>:alias` (ListAliases).
    pub fn alias_container(kms: &KeyService) -> Self {
        Self::resource(container(kms, "alias"))
    }

    /// A secret, `acs:kms:<region>:<account>:secret/<name>`.
    pub fn secret(name: &str) -> Self {
        Self::Secret(name.to_owned())
    }

    /// The account's secret container `acs:kms:<region>:<account>:secret` (ListSecrets).
    pub fn secret_container(kms: &KeyService) -> Self {
        Self::resource(container(kms, "secret"))
    }

    /// The account as a whole, `acs:kms:<region>:<account>:*` (DescribeAccountKmsStatus,
    /// GetRandomPassword: account-level actions that touch no key).
    pub fn account(kms: &KeyService) -> Self {
        Self::resource(container(kms, "*"))
    }
}

fn container(kms: &KeyService, name: &str) -> String {
    format!("acs:kms:{}:{}:{name}", kms.region_id(), kms.account_id())
}
