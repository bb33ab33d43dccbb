//! What the key-pair actions share on the wire (§3 of the next-surfaces contract): the
//! required `KeyVersionId`, the `Algorithm` names, standard base64 fields, and the reply of
//! the actions that answer bytes (`Value` or `CiphertextBlob`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openkms_core::asymmetric::{EncryptAlgorithm, SignAlgorithm};
use serde::Serialize;

use crate::codec::spec::{ParamSpec, required};
use crate::rpc::{Params, RpcError};

/// `KeyVersionId`, required by every key-pair action: key pairs have no primary version.
pub const KEY_VERSION_ID: ParamSpec = required(
    "KeyVersionId",
    "the key version (ListKeyVersions lists them); key pairs have no primary version",
);

/// `Algorithm` of AsymmetricSign and AsymmetricVerify.
pub const SIGN_ALGORITHM: ParamSpec = required(
    "Algorithm",
    "RSA_PSS_SHA_256, RSA_PKCS1_SHA_256 (RSA), ECDSA_SHA_256 (EC_P256, EC_P256K) or SM2DSA",
);

/// `Algorithm` of AsymmetricEncrypt and AsymmetricDecrypt.
pub const ENCRYPT_ALGORITHM: ParamSpec = required(
    "Algorithm",
    "RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1 (RSA) or SM2PKE (EC_SM2)",
);

/// `Digest`: base64 of the 32-byte hash to sign, never of the message.
pub const DIGEST: ParamSpec = required(
    "Digest",
    "base64 of the 32-byte SHA-256 of the message (SM2DSA: SM3 of Z and the message)",
);

/// The required `KeyVersionId`.
pub fn version_id(params: &Params) -> Result<String, RpcError> {
    Ok(params.required("KeyVersionId")?.to_owned())
}

/// The required `Algorithm` of a signing action.
pub fn sign_algorithm(params: &Params) -> Result<SignAlgorithm, RpcError> {
    SignAlgorithm::parse(params.required("Algorithm")?).ok_or(RpcError::invalid("Algorithm"))
}

/// The required `Algorithm` of an encryption action.
pub fn encrypt_algorithm(params: &Params) -> Result<EncryptAlgorithm, RpcError> {
    encrypt_algorithm_in(params, "Algorithm")
}

/// The required encryption algorithm named by parameter `name` (`Algorithm`, or ReEncrypt's
/// `SourceEncryptionAlgorithm`).
pub fn encrypt_algorithm_in(
    params: &Params,
    name: &'static str,
) -> Result<EncryptAlgorithm, RpcError> {
    EncryptAlgorithm::parse(params.required(name)?).ok_or(RpcError::invalid(name))
}

/// A required standard-base64 parameter, decoded; bad base64 is `InvalidParameter` on it.
pub fn base64(params: &Params, name: &'static str) -> Result<Vec<u8>, RpcError> {
    B64.decode(params.required(name)?.trim())
        .map_err(|_| RpcError::invalid(name))
}

/// The reply of AsymmetricSign: `{"KeyId","KeyVersionId","Value"}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Signed<'a> {
    /// The real key id.
    pub key_id: &'a str,
    /// The version that signed.
    pub key_version_id: &'a str,
    /// Base64 of the signature.
    pub value: String,
}

/// The reply of AsymmetricEncrypt: `{"KeyId","KeyVersionId","CiphertextBlob"}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Encrypted<'a> {
    /// The real key id.
    pub key_id: &'a str,
    /// The version whose public key encrypted.
    pub key_version_id: &'a str,
    /// Base64 of the bare ciphertext.
    pub ciphertext_blob: String,
}

/// Standard base64 of reply bytes.
pub fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}
