//! The envelope file format: a file of any size sealed under a data key, chunk by chunk.
//!
//! Layout (see `docs/file-format.md`): an 8-byte magic, a version byte, a length-prefixed JSON
//! header carrying the wrapped data key (`CiphertextBlob`), then AES-256-GCM chunks of
//! `ChunkSize` plaintext bytes, each with a 16-byte tag. Chunk nonces are a random 7-byte
//! prefix, a 32-bit chunk counter and a last-chunk flag; every chunk authenticates the header
//! hash. So a reordered, truncated, extended or altered file fails to open. Memory use is one
//! chunk, whatever the file size. Talking to the KMS (to get or open the data key) and choosing
//! file paths are not done here.

use std::io::{self, BufRead, Read, Write};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::digest::{SHA256, digest};
use openkms_core::SecretBytes;
use serde::{Deserialize, Serialize};

/// First bytes of every envelope file; not valid UTF-8, so never mistaken for a bare blob.
pub const MAGIC: &[u8; 8] = b"\x89OKMS\r\n\x1a";
/// The format version this code writes.
const VERSION: u8 = 1;
/// Plaintext bytes per chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// GCM tag length.
const TAG_LEN: usize = 16;
/// Largest header accepted when reading.
const MAX_HEADER: u32 = 64 * 1024;

/// The JSON header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Header {
    /// The KMS key that wrapped the data key (informational; Decrypt finds it from the blob).
    pub key_id: String,
    /// The data key, wrapped by GenerateDataKey.
    pub ciphertext_blob: String,
    /// The EncryptionContext the data key is bound to.
    pub encryption_context: serde_json::Map<String, serde_json::Value>,
    /// The cipher of the chunks.
    pub cipher: String,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
    /// The 7-byte nonce prefix, hex.
    pub nonce_prefix: String,
}

/// Why a file could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is not an envelope of a version this build reads.
    #[error("not an openkms envelope file of a supported version")]
    NotEnvelope,
    /// The file was altered, truncated, reordered or extended, or the key is wrong.
    #[error("the file is damaged or was altered (authentication failed)")]
    Tampered,
}

/// Whether `prefix` (the first bytes of a file) starts an envelope file.
pub fn is_envelope(prefix: &[u8]) -> bool {
    prefix.starts_with(MAGIC)
}

/// Writes the envelope of everything `input` yields to `output`; calls `progress` with the
/// count of plaintext bytes after each chunk.
pub fn seal(
    key: &SecretBytes,
    header: &Header,
    input: &mut dyn Read,
    output: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<(), EnvelopeError> {
    let head = encode_header(header)?;
    output.write_all(&head)?;
    let chunks = ChunkKey::new(key, header, &head)?;
    let mut buf = vec![0u8; CHUNK_SIZE + TAG_LEN];
    let mut done = 0u64;
    let mut n = read_full(input, &mut buf[..CHUNK_SIZE])?;
    for counter in 0u32.. {
        let mut next = [0u8; 1];
        let last = n < CHUNK_SIZE || read_full(input, &mut next)? == 0;
        let sealed = chunks.seal(counter, last, &mut buf, n)?;
        output.write_all(sealed)?;
        done += n as u64;
        progress(done);
        if last {
            break;
        }
        buf[0] = next[0];
        n = 1 + read_full(input, &mut buf[1..CHUNK_SIZE])?;
    }
    Ok(())
}

/// Reads an envelope's header, leaving `input` at the first chunk.
pub fn read_header(input: &mut dyn Read) -> Result<(Header, Vec<u8>), EnvelopeError> {
    let mut fixed = [0u8; 13];
    input
        .read_exact(&mut fixed)
        .map_err(|_| EnvelopeError::NotEnvelope)?;
    if !is_envelope(&fixed) || fixed[8] != VERSION {
        return Err(EnvelopeError::NotEnvelope);
    }
    let len = u32::from_be_bytes([fixed[9], fixed[10], fixed[11], fixed[12]]);
    if len > MAX_HEADER {
        return Err(EnvelopeError::NotEnvelope);
    }
    let mut json = vec![0u8; len as usize];
    input
        .read_exact(&mut json)
        .map_err(|_| EnvelopeError::NotEnvelope)?;
    let header: Header = serde_json::from_slice(&json).map_err(|_| EnvelopeError::NotEnvelope)?;
    if header.cipher != "AES-256-GCM" || header.chunk_size as usize != CHUNK_SIZE {
        return Err(EnvelopeError::NotEnvelope);
    }
    Ok((header, [&fixed[..], &json].concat()))
}

/// Opens the chunks after [`read_header`], writing plaintext to `output` chunk by chunk.
/// Callers that must not expose any plaintext of a damaged file write to a temporary file and
/// rename it only on success.
pub fn open(
    key: &SecretBytes,
    header: &Header,
    head: &[u8],
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<(), EnvelopeError> {
    let chunks = ChunkKey::new(key, header, head)?;
    let mut buf = vec![0u8; CHUNK_SIZE + TAG_LEN];
    for counter in 0u32.. {
        let n = read_full(input, &mut buf)?;
        if n < TAG_LEN {
            return Err(EnvelopeError::Tampered);
        }
        let last = input.fill_buf()?.is_empty();
        let plain = chunks.open(counter, last, &mut buf[..n])?;
        output.write_all(plain)?;
        if last {
            return Ok(());
        }
        if n < buf.len() {
            return Err(EnvelopeError::Tampered);
        }
    }
    Err(EnvelopeError::Tampered)
}

fn encode_header(header: &Header) -> Result<Vec<u8>, EnvelopeError> {
    let json = serde_json::to_vec(header).map_err(io::Error::other)?;
    let len = u32::try_from(json.len()).map_err(|_| EnvelopeError::NotEnvelope)?;
    let mut out = Vec::with_capacity(13 + json.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

/// The data key with the per-file nonce prefix and header hash.
struct ChunkKey {
    key: LessSafeKey,
    prefix: [u8; 7],
    aad: [u8; 32],
}

impl ChunkKey {
    fn new(key: &SecretBytes, header: &Header, head: &[u8]) -> Result<Self, EnvelopeError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key.expose_secret())
            .map_err(|_| EnvelopeError::Tampered)?;
        let prefix = decode_prefix(&header.nonce_prefix).ok_or(EnvelopeError::NotEnvelope)?;
        let mut aad = [0u8; 32];
        aad.copy_from_slice(digest(&SHA256, head).as_ref());
        Ok(Self {
            key: LessSafeKey::new(unbound),
            prefix,
            aad,
        })
    }

    fn nonce(&self, counter: u32, last: bool) -> Nonce {
        let mut n = [0u8; 12];
        n[..7].copy_from_slice(&self.prefix);
        n[7..11].copy_from_slice(&counter.to_be_bytes());
        n[11] = u8::from(last);
        Nonce::assume_unique_for_key(n)
    }

    fn seal<'b>(
        &self,
        counter: u32,
        last: bool,
        buf: &'b mut [u8],
        n: usize,
    ) -> Result<&'b [u8], EnvelopeError> {
        let (data, tag_out) = buf.split_at_mut(n);
        let tag = self
            .key
            .seal_in_place_separate_tag(self.nonce(counter, last), Aad::from(self.aad), data)
            .map_err(|_| EnvelopeError::Tampered)?;
        tag_out[..TAG_LEN].copy_from_slice(tag.as_ref());
        Ok(&buf[..n + TAG_LEN])
    }

    fn open<'b>(
        &self,
        counter: u32,
        last: bool,
        sealed: &'b mut [u8],
    ) -> Result<&'b [u8], EnvelopeError> {
        self.key
            .open_in_place(self.nonce(counter, last), Aad::from(self.aad), sealed)
            .map(|p| &*p)
            .map_err(|_| EnvelopeError::Tampered)
    }
}

/// Reads until `buf` is full or the input ends; returns the count read.
fn read_full(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn decode_prefix(hex: &str) -> Option<[u8; 7]> {
    if hex.len() != 14 {
        return None;
    }
    let mut out = [0u8; 7];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Hex of a nonce prefix, for [`Header::nonce_prefix`].
pub fn encode_prefix(prefix: &[u8; 7]) -> String {
    prefix.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn header() -> Header {
        Header {
            key_id: "k".into(),
            ciphertext_blob: "blob".into(),
            encryption_context: serde_json::Map::new(),
            cipher: "AES-256-GCM".into(),
            chunk_size: CHUNK_SIZE as u32,
            nonce_prefix: encode_prefix(&[7; 7]),
        }
    }

    fn key() -> SecretBytes {
        SecretBytes::new(vec![9; 32])
    }

    fn sealed(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        seal(
            &key(),
            &header(),
            &mut Cursor::new(data),
            &mut out,
            &mut |_| {},
        )
        .unwrap();
        out
    }

    fn opened(file: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let mut input = BufReader::new(Cursor::new(file));
        let (h, head) = read_header(&mut input)?;
        let mut out = Vec::new();
        open(&key(), &h, &head, &mut input, &mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_at_chunk_edges() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            assert_eq!(opened(&sealed(&data)).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn truncation_reordering_and_tampering_fail() {
        let data = vec![1u8; 2 * CHUNK_SIZE + 10];
        let file = sealed(&data);
        let head_len = file.len() - (data.len() + 3 * TAG_LEN);
        let chunk = CHUNK_SIZE + TAG_LEN;
        assert!(matches!(
            opened(&file[..head_len + chunk]),
            Err(EnvelopeError::Tampered)
        ));
        assert!(matches!(
            opened(&file[..file.len() - 1]),
            Err(EnvelopeError::Tampered)
        ));
        let mut swapped = file[..head_len].to_vec();
        swapped.extend_from_slice(&file[head_len + chunk..head_len + 2 * chunk]);
        swapped.extend_from_slice(&file[head_len..head_len + chunk]);
        swapped.extend_from_slice(&file[head_len + 2 * chunk..]);
        assert!(matches!(opened(&swapped), Err(EnvelopeError::Tampered)));
        let mut flipped = file.clone();
        flipped[head_len + 5] ^= 1;
        assert!(matches!(opened(&flipped), Err(EnvelopeError::Tampered)));
        let mut extended = file.clone();
        extended.push(0);
        assert!(matches!(opened(&extended), Err(EnvelopeError::Tampered)));
        let mut header_changed = file.clone();
        header_changed[20] ^= 1;
        assert!(opened(&header_changed).is_err());
    }

    #[test]
    fn bare_blobs_are_not_envelopes() {
        assert!(!is_envelope(b"MTlhYTc0NGYtYTZlNy00YmVj"));
        assert!(matches!(
            opened(b"MTlhYTc0NGYtYTZlNy00YmVjLTlkYWItNDYyMWE2"),
            Err(EnvelopeError::NotEnvelope)
        ));
    }
}
