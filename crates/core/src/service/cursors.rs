//! Sealed listing cursors: where a paged listing resumes, handed to the client as bytes it
//! can neither read nor alter.
//!
//! A cursor names a position in a listing (for the tags of every key, the key id and tag key
//! of the last row read, which may belong to a key the caller is refused). Sealing it under the
//! cursor key (see [`crate::rootkey::CursorKey`]) keeps that position secret and makes a forged
//! or altered cursor fail to open, so a caller resumes only where the server left off. Because
//! the cursor key is kept in the store (wrapped under the root key), every node sharing the
//! store opens every node's cursors, before and after a restart. Writing the bytes on the wire
//! is the codec's business.

use super::KeyService;

impl KeyService {
    /// Seals the position `position` of the listing `kind`.
    pub fn seal_cursor(&self, kind: &str, position: &[u8]) -> Vec<u8> {
        self.cursor_key
            .seal_cursor(self.rng.as_ref(), kind, position)
    }

    /// The position a cursor sealed by [`KeyService::seal_cursor`] for `kind` holds; `None`
    /// when `sealed` is not such a cursor.
    pub fn open_cursor(&self, kind: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        self.cursor_key.open_cursor(kind, sealed)
    }
}
