//! The token operations of key pairs: making an RSA or EC key pair whose private key never
//! leaves the token, reading its public half, finding the private key again, and signing and
//! decrypting with it. Like [`crate::token`], this knows nothing of openkms's formats or of the
//! API's algorithms beyond the PKCS#11 mechanism each one maps to ([`crate::pair`] decides).
//!
//! The private key is a token object (`CKA_TOKEN`, `CKA_PRIVATE`, `CKA_SENSITIVE`,
//! `CKA_EXTRACTABLE=false`) allowed to do one thing, its [`PairUse`]: sign (`CKA_SIGN`) or
//! decrypt (`CKA_DECRYPT`), never both, so the token refuses the other even if asked. The
//! service checks the key's usage before any private-key operation too; pairs made before the
//! token was told the usage may do both, and keep working. The public key is a session object
//! (`CKA_VERIFY` or `CKA_ENCRYPT` to match), read once and destroyed: its bytes are kept in the
//! stored reference, so GetPublicKey and the public-key operations never call the token.

use cryptoki::error::Error as CkError;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::ObjectHandle;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::Session;

use crate::token::{Extractable, Token, TokenError};

/// DER of the named curve P-256 (prime256v1), the `CKA_EC_PARAMS` of `EC_P256` keys.
pub const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// DER of the named curve secp256k1, the `CKA_EC_PARAMS` of `EC_P256K` keys.
pub const P256K_PARAMS: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A];
/// The RSA public exponent, 65537.
const RSA_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];
/// PSS salt length (§3: 32 bytes, the SHA-256 output length).
const PSS_SALT_LEN: u64 = 32;

/// What kind of key pair to make.
#[derive(Debug, Clone, Copy)]
pub enum PairKind {
    /// RSA with a modulus of this many bits, exponent 65537.
    Rsa(u64),
    /// EC on the named curve whose DER OID this is.
    Ec(&'static [u8]),
}

/// What the private key of a pair may do in the token (the key's usage): one or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairUse {
    /// Sign (`CKA_SIGN`; the public half `CKA_VERIFY`). Every EC pair.
    Sign,
    /// Decrypt (`CKA_DECRYPT`; the public half `CKA_ENCRYPT`). RSA only.
    Decrypt,
}

/// The public half of a pair, as the token reports it.
#[derive(Debug)]
pub enum PublicParts {
    /// Big-endian modulus and public exponent.
    Rsa {
        /// `CKA_MODULUS`.
        modulus: Vec<u8>,
        /// `CKA_PUBLIC_EXPONENT`.
        exponent: Vec<u8>,
    },
    /// `CKA_EC_POINT` (a DER OCTET STRING around the uncompressed point, or the bare point).
    Ec(Vec<u8>),
}

/// What a private key object reports of itself (`None`: the token does not report it), read
/// when a stored reference is loaded to check that the object is the key the reference names
/// and that it never could leave the token. Public attributes only.
#[derive(Debug, Default)]
pub struct PrivateFacts {
    /// `CKA_KEY_TYPE`.
    pub key_type: Option<KeyType>,
    /// `CKA_SENSITIVE`.
    pub sensitive: Option<bool>,
    /// `CKA_EXTRACTABLE`.
    pub extractable: Option<bool>,
    /// `CKA_ALWAYS_SENSITIVE`.
    pub always_sensitive: Option<bool>,
    /// `CKA_NEVER_EXTRACTABLE`.
    pub never_extractable: Option<bool>,
    /// `CKA_LOCAL` (made in the token, not imported).
    pub local: Option<bool>,
    /// `CKA_MODULUS` of an RSA key (public even when the key is sensitive).
    pub modulus: Option<Vec<u8>>,
    /// `CKA_PUBLIC_EXPONENT` of an RSA key.
    pub exponent: Option<Vec<u8>>,
    /// `CKA_SIGN`.
    pub sign: Option<bool>,
    /// `CKA_DECRYPT`.
    pub decrypt: Option<bool>,
}

impl PrivateFacts {
    /// Whether the object is a key of `kind` that was made in the token and never could leave
    /// it: sensitive and not extractable, and, where the token reports them, always sensitive,
    /// never extractable and local.
    pub fn kept_in_token(&self, kind: PairKind) -> bool {
        let key_type = match kind {
            PairKind::Rsa(_) => KeyType::RSA,
            PairKind::Ec(_) => KeyType::EC,
        };
        self.key_type == Some(key_type)
            && self.sensitive == Some(true)
            && self.extractable == Some(false)
            && self.always_sensitive != Some(false)
            && self.never_extractable != Some(false)
            && self.local != Some(false)
    }
}

/// A signing mechanism over data the caller prepared.
#[derive(Debug, Clone, Copy)]
pub enum PairSign {
    /// `CKM_RSA_PKCS_PSS` over a SHA-256 digest, MGF1-SHA-256, 32-byte salt.
    RsaPssSha256,
    /// `CKM_RSA_PKCS` over `DigestInfo ‖ digest` (the caller builds it).
    RsaPkcs1,
    /// `CKM_ECDSA` over a digest: the raw `r ‖ s`.
    Ecdsa,
}

/// How an RSA ciphertext is decrypted.
#[derive(Debug, Clone, Copy)]
pub enum PairDecrypt {
    /// `CKM_RSA_PKCS_OAEP` with SHA-1 and MGF1-SHA-1, empty label.
    OaepSha1,
    /// `CKM_RSA_PKCS_OAEP` with SHA-256 and MGF1-SHA-256, empty label.
    OaepSha256,
}

impl Token {
    /// Makes a key pair of `kind`: a private token key labelled `label` with the `CKA_ID` `id`
    /// that may only sign or only decrypt, as `usage` says, and its public half, read and then
    /// destroyed. EC keys never decrypt (the provider makes them only to sign).
    pub fn generate_pair(
        &self,
        kind: PairKind,
        usage: PairUse,
        label: &str,
        id: &[u8],
        extractable: Extractable,
    ) -> Result<(ObjectHandle, PublicParts), TokenError> {
        let open = extractable == Extractable::ForTests;
        let sign = usage == PairUse::Sign;
        let decrypt = usage == PairUse::Decrypt && matches!(kind, PairKind::Rsa(_));
        let (mechanism, key_type, public_specific) = match kind {
            PairKind::Rsa(bits) => (
                Mechanism::RsaPkcsKeyPairGen,
                KeyType::RSA,
                vec![
                    Attribute::ModulusBits(bits.into()),
                    Attribute::PublicExponent(RSA_EXPONENT.to_vec()),
                ],
            ),
            PairKind::Ec(params) => (
                Mechanism::EccKeyPairGen,
                KeyType::EC,
                vec![Attribute::EcParams(params.to_vec())],
            ),
        };
        let mut public = vec![
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(key_type),
            Attribute::Token(false),
            Attribute::Verify(sign),
            Attribute::Encrypt(decrypt),
        ];
        public.extend(public_specific);
        let private = [
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(key_type),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(!open),
            Attribute::Extractable(open),
            Attribute::Sign(sign),
            Attribute::Decrypt(decrypt),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        let _alone = self.objects_lock();
        self.with_session(|s| {
            let (public_key, private_key) = s.generate_key_pair(&mechanism, &public, &private)?;
            let parts = read_public(s, public_key, kind);
            let destroyed = s.destroy_object(public_key);
            match parts.and_then(|parts| destroyed.map(|()| parts)) {
                Ok(parts) => Ok((private_key, parts)),
                Err(e) => {
                    // Not left behind without a reference to it; the first error is the one
                    // worth reporting.
                    let _ = s.destroy_object(private_key);
                    Err(e)
                }
            }
        })
    }

    /// The one private key labelled `label` with the `CKA_ID` `id`, if any.
    pub fn find_private_key(
        &self,
        label: &str,
        id: &[u8],
    ) -> Result<Option<ObjectHandle>, TokenError> {
        let template = [
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        let found = self.find_objects(&template)?;
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(TokenError::Ambiguous(label.to_owned())),
        }
    }

    /// The public attributes of the private key `key` that say what it is and whether it could
    /// ever leave the token; those the token does not report are `None`.
    pub fn private_key_facts(&self, key: ObjectHandle) -> Result<PrivateFacts, TokenError> {
        let wanted = [
            AttributeType::KeyType,
            AttributeType::Sensitive,
            AttributeType::Extractable,
            AttributeType::AlwaysSensitive,
            AttributeType::NeverExtractable,
            AttributeType::Local,
            AttributeType::Modulus,
            AttributeType::PublicExponent,
            AttributeType::Sign,
            AttributeType::Decrypt,
        ];
        let attributes = self.with_session(|s| s.get_attributes(key, &wanted))?;
        let mut facts = PrivateFacts::default();
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(v) => facts.key_type = Some(v),
                Attribute::Sensitive(v) => facts.sensitive = Some(v),
                Attribute::Extractable(v) => facts.extractable = Some(v),
                Attribute::AlwaysSensitive(v) => facts.always_sensitive = Some(v),
                Attribute::NeverExtractable(v) => facts.never_extractable = Some(v),
                Attribute::Local(v) => facts.local = Some(v),
                Attribute::Modulus(v) => facts.modulus = Some(v),
                Attribute::PublicExponent(v) => facts.exponent = Some(v),
                Attribute::Sign(v) => facts.sign = Some(v),
                Attribute::Decrypt(v) => facts.decrypt = Some(v),
                _ => {}
            }
        }
        Ok(facts)
    }

    /// Signs `data` with the private key `key` in the token.
    pub fn sign_pair(
        &self,
        key: ObjectHandle,
        how: PairSign,
        data: &[u8],
    ) -> Result<Vec<u8>, TokenError> {
        let mechanism = match how {
            PairSign::RsaPssSha256 => Mechanism::RsaPkcsPss(PkcsPssParams {
                hash_alg: MechanismType::SHA256,
                mgf: PkcsMgfType::MGF1_SHA256,
                s_len: PSS_SALT_LEN.into(),
            }),
            PairSign::RsaPkcs1 => Mechanism::RsaPkcs,
            PairSign::Ecdsa => Mechanism::Ecdsa,
        };
        self.with_session(|s| s.sign(&mechanism, key, data))
    }

    /// Decrypts `ciphertext` with the private RSA key `key` in the token (OAEP, checked by the
    /// token). The error keeps the PKCS#11 return value and the function that gave it, so that
    /// a caller can tell a mechanism the token lacks (refused by `C_DecryptInit`, before the
    /// ciphertext is used) from a ciphertext it refused.
    pub fn decrypt_pair(
        &self,
        key: ObjectHandle,
        how: PairDecrypt,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, TokenError> {
        let oaep = |hash_alg, mgf| {
            Mechanism::RsaPkcsOaep(PkcsOaepParams::new(hash_alg, mgf, PkcsOaepSource::empty()))
        };
        let mechanism = match how {
            PairDecrypt::OaepSha1 => oaep(MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
            PairDecrypt::OaepSha256 => oaep(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        };
        self.with_session(|s| s.decrypt(&mechanism, key, ciphertext))
    }

    /// Whether the token refuses to reveal the private parts of `key` (`CKA_VALUE`,
    /// `CKA_PRIVATE_EXPONENT`, `CKA_PRIME_1`): true for every key openkms serves with.
    pub fn private_parts_refused(&self, key: ObjectHandle) -> Result<bool, TokenError> {
        let secret = [
            AttributeType::Value,
            AttributeType::PrivateExponent,
            AttributeType::Prime1,
        ];
        let info = self.with_session(|s| s.get_attribute_info(key, &secret))?;
        Ok(info
            .iter()
            .all(|i| !matches!(i, AttributeInfo::Available(_))))
    }
}

/// The public half of a freshly made pair.
fn read_public(
    s: &Session,
    public_key: ObjectHandle,
    kind: PairKind,
) -> Result<PublicParts, CkError> {
    let wanted: &[AttributeType] = match kind {
        PairKind::Rsa(_) => &[AttributeType::Modulus, AttributeType::PublicExponent],
        PairKind::Ec(_) => &[AttributeType::EcPoint],
    };
    let (mut modulus, mut exponent, mut point) = (None, None, None);
    for attribute in s.get_attributes(public_key, wanted)? {
        match attribute {
            Attribute::Modulus(v) => modulus = Some(v),
            Attribute::PublicExponent(v) => exponent = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            _ => {}
        }
    }
    match (kind, modulus, exponent, point) {
        (PairKind::Rsa(_), Some(modulus), Some(exponent), _) => {
            Ok(PublicParts::Rsa { modulus, exponent })
        }
        (PairKind::Ec(_), _, _, Some(point)) => Ok(PublicParts::Ec(point)),
        _ => Err(CkError::NotSupported),
    }
}
