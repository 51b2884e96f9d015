//! The object-encryption format shared by SSE-S3, SSE-KMS and SSE-C.
//!
//! An object is encrypted with a 256-bit data key in independent AES-256-GCM
//! chunks, so a ranged GET decrypts only the chunks it needs:
//!
//! * the plaintext is cut into chunks of [`ChunkLayout::plaintext_chunk`] bytes
//!   (the last one may be shorter; an empty object is one empty chunk);
//! * each ciphertext chunk is the chunk's ciphertext followed by its 16-byte tag;
//! * chunk `i` uses the nonce `base_nonce XOR be64(i)` (in the last 8 bytes),
//!   where `base_nonce` is random per object;
//! * each chunk's AAD binds a caller-chosen `binding` (object identity: bucket,
//!   key, version or upload id and part), the chunk index and whether the chunk
//!   is the final one, so tampering, reordering, splicing between objects and
//!   truncation are all detected.
//!
//! The base nonce and the (wrapped) data key are stored by the caller in the
//! object's metadata; this module is pure.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::Engine as _;
use md5::Digest as _;

/// Bytes of GCM tag appended to each chunk.
pub const TAG_LEN: usize = 16;
/// The default plaintext chunk size (64 KiB).
pub const DEFAULT_CHUNK: usize = 64 * 1024;
/// Length of the per-object base nonce.
pub const BASE_NONCE_LEN: usize = NONCE_LEN;
/// Domain separator at the start of every chunk's AAD (format version 1).
const AAD_PREFIX: &[u8] = b"strongbox-object-chunk-v1";

/// Errors of the object format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectCryptoError {
    /// A chunk failed authentication (wrong key, tampered, reordered, truncated).
    #[error("object ciphertext failed authentication")]
    Authentication,
    /// The ciphertext stream had the wrong length for its layout.
    #[error("object ciphertext has an unexpected length")]
    Length,
    /// The key was not 32 bytes or was rejected by the cipher.
    #[error("invalid object encryption key")]
    Key,
    /// A byte range outside the object.
    #[error("byte range outside the object")]
    Range,
}

/// How plaintext maps to ciphertext chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkLayout {
    /// Plaintext bytes per chunk (all chunks but the last are this size).
    pub plaintext_chunk: usize,
}

impl Default for ChunkLayout {
    fn default() -> Self {
        ChunkLayout {
            plaintext_chunk: DEFAULT_CHUNK,
        }
    }
}

/// The chunks needed to serve a plaintext byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkRange {
    /// First chunk index to decrypt.
    pub first_chunk: u64,
    /// Last chunk index to decrypt (inclusive).
    pub last_chunk: u64,
    /// Offset of `first_chunk` in the ciphertext stream.
    pub ciphertext_offset: u64,
    /// Ciphertext bytes from `ciphertext_offset` covering the chunks.
    pub ciphertext_len: u64,
    /// Plaintext bytes to drop from the start of the first decrypted chunk.
    pub skip: u64,
    /// Plaintext bytes to return in total.
    pub take: u64,
}

impl ChunkLayout {
    fn chunk(&self) -> u64 {
        self.plaintext_chunk.max(1) as u64
    }

    /// Number of chunks for an object of `plaintext_len` bytes (at least one).
    pub fn chunk_count(&self, plaintext_len: u64) -> u64 {
        plaintext_len.div_ceil(self.chunk()).max(1)
    }

    /// Size of the ciphertext stream for `plaintext_len` bytes of plaintext.
    pub fn ciphertext_len(&self, plaintext_len: u64) -> u64 {
        plaintext_len + self.chunk_count(plaintext_len) * TAG_LEN as u64
    }

    /// The plaintext length behind a ciphertext stream, if the length is possible.
    pub fn plaintext_len(&self, ciphertext_len: u64) -> Option<u64> {
        let full = self.chunk() + TAG_LEN as u64;
        let whole = ciphertext_len / full;
        let rest = ciphertext_len % full;
        let len = match (whole, rest) {
            (0, r) if r >= TAG_LEN as u64 => r - TAG_LEN as u64,
            (_, 0) if whole > 0 => whole * self.chunk(),
            (w, r) if r > TAG_LEN as u64 => w * self.chunk() + r - TAG_LEN as u64,
            _ => return None,
        };
        (self.ciphertext_len(len) == ciphertext_len).then_some(len)
    }

    /// Plaintext bytes in chunk `index` of an object of `plaintext_len` bytes.
    pub fn plaintext_chunk_len(&self, index: u64, plaintext_len: u64) -> u64 {
        let start = index.saturating_mul(self.chunk());
        plaintext_len.saturating_sub(start).min(self.chunk())
    }

    /// Ciphertext bytes of chunk `index`.
    pub fn ciphertext_chunk_len(&self, index: u64, plaintext_len: u64) -> u64 {
        self.plaintext_chunk_len(index, plaintext_len) + TAG_LEN as u64
    }

    /// Offset of chunk `index` in the ciphertext stream.
    pub fn ciphertext_chunk_offset(&self, index: u64) -> u64 {
        index * (self.chunk() + TAG_LEN as u64)
    }

    /// The chunks covering plaintext bytes `start..=end` (inclusive, as in an
    /// HTTP `Range`). An empty object has only the empty range `0..0`, asked
    /// as `start = 0, end = None`.
    pub fn chunk_range(
        &self,
        start: u64,
        end: Option<u64>,
        plaintext_len: u64,
    ) -> Result<ChunkRange, ObjectCryptoError> {
        let count = self.chunk_count(plaintext_len);
        let (first_chunk, last_chunk, take) = match end {
            None if plaintext_len == 0 && start == 0 => (0, 0, 0),
            None => {
                if start >= plaintext_len {
                    return Err(ObjectCryptoError::Range);
                }
                (start / self.chunk(), count - 1, plaintext_len - start)
            }
            Some(end) => {
                if start > end || end >= plaintext_len {
                    return Err(ObjectCryptoError::Range);
                }
                (start / self.chunk(), end / self.chunk(), end - start + 1)
            }
        };
        let ciphertext_offset = self.ciphertext_chunk_offset(first_chunk);
        let ciphertext_end = self.ciphertext_chunk_offset(last_chunk)
            + self.ciphertext_chunk_len(last_chunk, plaintext_len);
        Ok(ChunkRange {
            first_chunk,
            last_chunk,
            ciphertext_offset,
            ciphertext_len: ciphertext_end - ciphertext_offset,
            skip: start - first_chunk * self.chunk(),
            take,
        })
    }
}

/// The chunks of one part of a multipart object that a byte range needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartRange {
    /// Index into the part list (0-based; part number = index + 1 when parts are dense).
    pub part_index: usize,
    /// Offset of the part's first ciphertext byte in the stored object
    /// (the concatenation of every part's ciphertext).
    pub part_ciphertext_offset: u64,
    /// Plaintext length of the part.
    pub part_plaintext_len: u64,
    /// The chunks within the part (offsets relative to the part).
    pub range: ChunkRange,
}

/// Maps plaintext bytes `start..=end` of a multipart object, whose parts were
/// each encrypted separately (own binding and nonce) with `layout`, to the
/// parts and chunks to decrypt. `end = None` reads to the end.
pub fn multipart_ranges(
    layout: ChunkLayout,
    part_plaintext_lens: &[u64],
    start: u64,
    end: Option<u64>,
) -> Result<Vec<PartRange>, ObjectCryptoError> {
    let total: u64 = part_plaintext_lens.iter().sum();
    if total == 0 {
        return match (part_plaintext_lens.is_empty(), start, end) {
            (false, 0, None) => Ok(vec![PartRange {
                part_index: 0,
                part_ciphertext_offset: 0,
                part_plaintext_len: 0,
                range: layout.chunk_range(0, None, 0)?,
            }]),
            _ => Err(ObjectCryptoError::Range),
        };
    }
    let last = match end {
        Some(e) if start <= e && e < total => e,
        None if start < total => total - 1,
        _ => return Err(ObjectCryptoError::Range),
    };
    let mut out = Vec::new();
    let (mut plain_off, mut cipher_off) = (0u64, 0u64);
    for (i, &len) in part_plaintext_lens.iter().enumerate() {
        let part_end = plain_off + len; // exclusive
        if len > 0 && start < part_end && last >= plain_off {
            let s = start.max(plain_off) - plain_off;
            let e = last.min(part_end - 1) - plain_off;
            out.push(PartRange {
                part_index: i,
                part_ciphertext_offset: cipher_off,
                part_plaintext_len: len,
                range: layout.chunk_range(s, Some(e), len)?,
            });
        }
        plain_off = part_end;
        cipher_off += layout.ciphertext_len(len);
    }
    Ok(out)
}

/// A fresh random base nonce for a new object.
pub fn random_base_nonce() -> [u8; BASE_NONCE_LEN] {
    let mut nonce = [0u8; BASE_NONCE_LEN];
    nonce.copy_from_slice(&strongbox_core::ids::random_bytes(BASE_NONCE_LEN));
    nonce
}

/// A fresh random 256-bit data key.
pub fn random_data_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    key.copy_from_slice(&strongbox_core::ids::random_bytes(32));
    key
}

/// The per-object cipher: data key, base nonce and object binding.
pub struct ObjectCipher {
    key: LessSafeKey,
    base_nonce: [u8; BASE_NONCE_LEN],
    binding: Vec<u8>,
}

impl std::fmt::Debug for ObjectCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectCipher")
            .field("binding", &String::from_utf8_lossy(&self.binding))
            .finish_non_exhaustive()
    }
}

impl ObjectCipher {
    /// A cipher for one object. `binding` identifies the object (e.g.
    /// `bucket/key/version`, or `upload-id/part-number` for a multipart part);
    /// decryption must use the same binding.
    pub fn new(
        key: &[u8],
        base_nonce: [u8; BASE_NONCE_LEN],
        binding: &[u8],
    ) -> Result<ObjectCipher, ObjectCryptoError> {
        if key.len() != 32 {
            return Err(ObjectCryptoError::Key);
        }
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| ObjectCryptoError::Key)?;
        Ok(ObjectCipher {
            key: LessSafeKey::new(unbound),
            base_nonce,
            binding: binding.to_vec(),
        })
    }

    fn nonce(&self, index: u64) -> Nonce {
        let mut n = self.base_nonce;
        for (b, i) in n[NONCE_LEN - 8..].iter_mut().zip(index.to_be_bytes()) {
            *b ^= i;
        }
        Nonce::assume_unique_for_key(n)
    }

    fn aad(&self, index: u64, is_final: bool) -> Vec<u8> {
        let mut aad = Vec::with_capacity(AAD_PREFIX.len() + 4 + self.binding.len() + 9);
        aad.extend_from_slice(AAD_PREFIX);
        aad.extend_from_slice(&(self.binding.len() as u32).to_be_bytes());
        aad.extend_from_slice(&self.binding);
        aad.extend_from_slice(&index.to_be_bytes());
        aad.push(u8::from(is_final));
        aad
    }

    /// Encrypts one chunk, appending ciphertext and tag to `out`.
    pub fn encrypt_chunk(
        &self,
        index: u64,
        is_final: bool,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ObjectCryptoError> {
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                self.nonce(index),
                Aad::from(self.aad(index, is_final)),
                &mut out[start..],
            )
            .map_err(|_| ObjectCryptoError::Key)?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts and authenticates chunk `index` (ciphertext followed by tag).
    pub fn decrypt_chunk(
        &self,
        index: u64,
        is_final: bool,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, ObjectCryptoError> {
        let mut buf = ciphertext.to_vec();
        let len = self
            .decrypt_chunk_in_place(index, is_final, &mut buf)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    /// Decrypts chunk `index` in place; returns the plaintext prefix of `chunk`.
    pub fn decrypt_chunk_in_place<'b>(
        &self,
        index: u64,
        is_final: bool,
        chunk: &'b mut [u8],
    ) -> Result<&'b mut [u8], ObjectCryptoError> {
        if chunk.len() < TAG_LEN {
            return Err(ObjectCryptoError::Length);
        }
        self.key
            .open_in_place(
                self.nonce(index),
                Aad::from(self.aad(index, is_final)),
                chunk,
            )
            .map_err(|_| ObjectCryptoError::Authentication)
    }
}

/// Streaming encryption: feed plaintext slices of any size, collect ciphertext.
///
/// A chunk is sealed only once it is known whether more data follows, so up
/// to one chunk of plaintext is buffered.
#[derive(Debug)]
pub struct Encryptor {
    cipher: ObjectCipher,
    layout: ChunkLayout,
    buffer: Vec<u8>,
    next_index: u64,
}

impl Encryptor {
    pub fn new(cipher: ObjectCipher, layout: ChunkLayout) -> Encryptor {
        Encryptor {
            cipher,
            layout,
            buffer: Vec::with_capacity(layout.plaintext_chunk),
            next_index: 0,
        }
    }

    /// Feeds plaintext; appends the ciphertext of every chunk now known not to be final.
    pub fn update(
        &mut self,
        mut plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ObjectCryptoError> {
        let chunk = self.layout.plaintext_chunk.max(1);
        while !plaintext.is_empty() {
            if self.buffer.len() == chunk {
                self.cipher
                    .encrypt_chunk(self.next_index, false, &self.buffer, out)?;
                self.next_index += 1;
                self.buffer.clear();
            }
            // Whole chunks with more data after them skip the buffer.
            if self.buffer.is_empty() && plaintext.len() > chunk {
                self.cipher
                    .encrypt_chunk(self.next_index, false, &plaintext[..chunk], out)?;
                self.next_index += 1;
                plaintext = &plaintext[chunk..];
                continue;
            }
            let n = (chunk - self.buffer.len()).min(plaintext.len());
            self.buffer.extend_from_slice(&plaintext[..n]);
            plaintext = &plaintext[n..];
        }
        Ok(())
    }

    /// Seals the final chunk and appends it to `out`.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), ObjectCryptoError> {
        self.cipher
            .encrypt_chunk(self.next_index, true, &self.buffer, out)?;
        zeroize::Zeroize::zeroize(&mut self.buffer);
        Ok(())
    }
}

/// Streaming decryption of the chunks of a [`ChunkRange`]: feed the ciphertext
/// from `range.ciphertext_offset` on, collect exactly the requested plaintext.
#[derive(Debug)]
pub struct Decryptor {
    cipher: ObjectCipher,
    layout: ChunkLayout,
    plaintext_len: u64,
    range: ChunkRange,
    buffer: Vec<u8>,
    next_index: u64,
    skip: u64,
    remaining: u64,
}

impl Decryptor {
    pub fn new(
        cipher: ObjectCipher,
        layout: ChunkLayout,
        plaintext_len: u64,
        range: ChunkRange,
    ) -> Decryptor {
        Decryptor {
            cipher,
            layout,
            plaintext_len,
            range,
            buffer: Vec::new(),
            next_index: range.first_chunk,
            skip: range.skip,
            remaining: range.take,
        }
    }

    fn final_index(&self) -> u64 {
        self.layout.chunk_count(self.plaintext_len) - 1
    }

    /// Ciphertext length of the next chunk of the range.
    fn next_chunk_len(&self) -> Result<usize, ObjectCryptoError> {
        if self.next_index > self.range.last_chunk {
            return Err(ObjectCryptoError::Length);
        }
        Ok(self
            .layout
            .ciphertext_chunk_len(self.next_index, self.plaintext_len) as usize)
    }

    /// Decrypts the next chunk (all of `chunk`) in place and moves on; returns
    /// where in `chunk` the requested plaintext lies (possibly empty).
    fn open_next_chunk(
        &mut self,
        chunk: &mut [u8],
    ) -> Result<std::ops::Range<usize>, ObjectCryptoError> {
        let is_final = self.next_index == self.final_index();
        let plain_len = self
            .cipher
            .decrypt_chunk_in_place(self.next_index, is_final, chunk)?
            .len();
        let from = (self.skip as usize).min(plain_len);
        let take = ((plain_len - from) as u64).min(self.remaining) as usize;
        self.skip -= from as u64;
        self.remaining -= take as u64;
        self.next_index += 1;
        Ok(from..from + take)
    }

    /// Feeds ciphertext; appends the plaintext of every completed chunk.
    pub fn update(
        &mut self,
        mut ciphertext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ObjectCryptoError> {
        while !ciphertext.is_empty() {
            let want = self.next_chunk_len()?;
            let n = (want - self.buffer.len()).min(ciphertext.len());
            self.buffer.extend_from_slice(&ciphertext[..n]);
            ciphertext = &ciphertext[n..];
            if self.buffer.len() == want {
                let mut chunk = std::mem::take(&mut self.buffer);
                let wanted = self.open_next_chunk(&mut chunk)?;
                out.extend_from_slice(&chunk[wanted]);
                chunk.clear();
                self.buffer = chunk;
            }
        }
        Ok(())
    }

    /// Decrypts the next whole chunks of the range in place, without copying:
    /// `buf` must hold exactly a run of complete chunks (and nothing may be
    /// buffered from [`Decryptor::update`]). Returns where in `buf` the
    /// requested plaintext lies, one range per chunk that contributes.
    pub fn open_in_place(
        &mut self,
        buf: &mut [u8],
    ) -> Result<Vec<std::ops::Range<usize>>, ObjectCryptoError> {
        if !self.buffer.is_empty() {
            return Err(ObjectCryptoError::Length);
        }
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < buf.len() {
            let want = self.next_chunk_len()?;
            let chunk = buf
                .get_mut(pos..pos + want)
                .ok_or(ObjectCryptoError::Length)?;
            let wanted = self.open_next_chunk(chunk)?;
            if !wanted.is_empty() {
                out.push(pos + wanted.start..pos + wanted.end);
            }
            pos += want;
        }
        Ok(out)
    }

    /// Ciphertext bytes of the next `n` chunks of the range (fewer at its end).
    pub fn next_chunks_len(&self, n: u64) -> u64 {
        let last = self
            .range
            .last_chunk
            .min(self.next_index.saturating_add(n).saturating_sub(1));
        (self.next_index..=last)
            .map(|i| self.layout.ciphertext_chunk_len(i, self.plaintext_len))
            .sum()
    }

    /// Checks that every chunk of the range arrived.
    pub fn finish(self) -> Result<(), ObjectCryptoError> {
        if self.next_index == self.range.last_chunk + 1
            && self.buffer.is_empty()
            && self.remaining == 0
        {
            Ok(())
        } else {
            Err(ObjectCryptoError::Length)
        }
    }
}

/// Encrypts a whole object in memory (tests, small objects).
pub fn encrypt_all(
    cipher: ObjectCipher,
    layout: ChunkLayout,
    plaintext: &[u8],
) -> Result<Vec<u8>, ObjectCryptoError> {
    let mut out = Vec::with_capacity(layout.ciphertext_len(plaintext.len() as u64) as usize);
    let mut enc = Encryptor::new(cipher, layout);
    enc.update(plaintext, &mut out)?;
    enc.finish(&mut out)?;
    Ok(out)
}

/// Decrypts a whole object in memory, checking its length and every chunk.
pub fn decrypt_all(
    cipher: ObjectCipher,
    layout: ChunkLayout,
    ciphertext: &[u8],
) -> Result<Vec<u8>, ObjectCryptoError> {
    let plaintext_len = layout
        .plaintext_len(ciphertext.len() as u64)
        .ok_or(ObjectCryptoError::Length)?;
    let range = layout.chunk_range(0, plaintext_len.checked_sub(1), plaintext_len)?;
    let mut out = Vec::with_capacity(plaintext_len as usize);
    let mut dec = Decryptor::new(cipher, layout, plaintext_len, range);
    dec.update(ciphertext, &mut out)?;
    dec.finish()?;
    Ok(out)
}

/// Errors of SSE-C key headers, with S3's messages (all `InvalidArgument`, 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseCKeyError {
    #[error("The secret key was invalid for the specified algorithm.")]
    InvalidKey,
    #[error("The calculated MD5 hash of the key did not match the hash that was provided.")]
    Md5Mismatch,
}

/// Base64 of the MD5 of a customer key, as in `x-amz-server-side-encryption-customer-key-MD5`.
pub fn sse_c_key_md5(key: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(key))
}

/// Decodes the SSE-C key header (base64 of 32 bytes) and checks its MD5 header.
pub fn verify_sse_c_key(key_b64: &str, key_md5_b64: &str) -> Result<[u8; 32], SseCKeyError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key_b64.trim())
        .map_err(|_| SseCKeyError::InvalidKey)?;
    let key: [u8; 32] = raw
        .as_slice()
        .try_into()
        .map_err(|_| SseCKeyError::InvalidKey)?;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(key_md5_b64.trim())
        .map_err(|_| SseCKeyError::Md5Mismatch)?;
    if md5::Md5::digest(key).as_slice() != expected.as_slice() {
        return Err(SseCKeyError::Md5Mismatch);
    }
    Ok(key)
}

/// A salted HMAC-SHA256 of a customer key, to store with the object so a GET
/// with the wrong key is refused before any decryption (S3 keeps such a
/// "randomly salted HMAC" and never the key). Returns hex.
pub fn sse_c_key_fingerprint(key: &[u8], salt: &[u8]) -> String {
    let hkey = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, salt);
    strongbox_core::ids::hex(aws_lc_rs::hmac::sign(&hkey, key).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];
    const NONCE: [u8; 12] = [9u8; 12];

    fn cipher(binding: &[u8]) -> ObjectCipher {
        ObjectCipher::new(&KEY, NONCE, binding).unwrap()
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn layout_lengths() {
        let l = ChunkLayout {
            plaintext_chunk: 10,
        };
        assert_eq!(l.chunk_count(0), 1);
        assert_eq!(l.chunk_count(1), 1);
        assert_eq!(l.chunk_count(10), 1);
        assert_eq!(l.chunk_count(11), 2);
        assert_eq!(l.ciphertext_len(0), 16);
        assert_eq!(l.ciphertext_len(10), 26);
        assert_eq!(l.ciphertext_len(11), 43);
        for n in 0..100u64 {
            assert_eq!(l.plaintext_len(l.ciphertext_len(n)), Some(n), "n={n}");
        }
        assert_eq!(l.plaintext_len(0), None);
        assert_eq!(l.plaintext_len(15), None);
        assert_eq!(l.plaintext_len(27), None); // one full chunk + 1 byte: not a valid tail
        assert_eq!(l.plaintext_len(42), None);
        assert_eq!(l.plaintext_chunk_len(2, 25), 5);
        assert_eq!(l.plaintext_chunk_len(3, 25), 0);
        assert_eq!(l.ciphertext_chunk_offset(2), 52);
    }

    #[test]
    fn ranges() {
        let l = ChunkLayout {
            plaintext_chunk: 10,
        };
        let r = l.chunk_range(0, Some(0), 25).unwrap();
        assert_eq!(
            (
                r.first_chunk,
                r.last_chunk,
                r.ciphertext_offset,
                r.ciphertext_len,
                r.skip,
                r.take
            ),
            (0, 0, 0, 26, 0, 1)
        );
        let r = l.chunk_range(12, Some(24), 25).unwrap();
        assert_eq!(
            (
                r.first_chunk,
                r.last_chunk,
                r.ciphertext_offset,
                r.ciphertext_len,
                r.skip,
                r.take
            ),
            (1, 2, 26, 26 + 21, 2, 13)
        );
        let r = l.chunk_range(20, None, 25).unwrap();
        assert_eq!((r.first_chunk, r.last_chunk, r.skip, r.take), (2, 2, 0, 5));
        assert_eq!(r.ciphertext_offset + r.ciphertext_len, l.ciphertext_len(25));
        assert_eq!(l.chunk_range(25, None, 25), Err(ObjectCryptoError::Range));
        assert_eq!(
            l.chunk_range(3, Some(25), 25),
            Err(ObjectCryptoError::Range)
        );
        assert_eq!(l.chunk_range(5, Some(4), 25), Err(ObjectCryptoError::Range));
        let r = l.chunk_range(0, None, 0).unwrap();
        assert_eq!((r.ciphertext_len, r.take), (16, 0));
    }

    #[test]
    fn roundtrip_many_sizes_and_feeds() {
        let l = ChunkLayout {
            plaintext_chunk: 16,
        };
        for n in [0usize, 1, 15, 16, 17, 32, 33, 100] {
            let plain = data(n);
            for feed in [1usize, 3, 16, 1000] {
                let mut enc = Encryptor::new(cipher(b"b/k/v1"), l);
                let mut ct = Vec::new();
                for piece in plain.chunks(feed) {
                    enc.update(piece, &mut ct).unwrap();
                }
                enc.finish(&mut ct).unwrap();
                assert_eq!(ct.len() as u64, l.ciphertext_len(n as u64));
                assert_eq!(decrypt_all(cipher(b"b/k/v1"), l, &ct).unwrap(), plain);
            }
        }
    }

    #[test]
    fn ranged_decrypt_matches_slices() {
        let l = ChunkLayout { plaintext_chunk: 8 };
        let plain = data(50);
        let ct = encrypt_all(cipher(b"x"), l, &plain).unwrap();
        for start in 0..50u64 {
            for end in [start, (start + 7).min(49), 49] {
                let r = l.chunk_range(start, Some(end), 50).unwrap();
                let slice = &ct[r.ciphertext_offset as usize
                    ..(r.ciphertext_offset + r.ciphertext_len) as usize];
                let mut dec = Decryptor::new(cipher(b"x"), l, 50, r);
                let mut out = Vec::new();
                for piece in slice.chunks(5) {
                    dec.update(piece, &mut out).unwrap();
                }
                dec.finish().unwrap();
                assert_eq!(out, &plain[start as usize..=end as usize]);
            }
        }
    }

    #[test]
    fn in_place_decrypt_of_whole_chunk_runs_matches_slices() {
        let l = ChunkLayout { plaintext_chunk: 8 };
        let plain = data(50);
        let ct = encrypt_all(cipher(b"x"), l, &plain).unwrap();
        for start in 0..50u64 {
            for end in [start, (start + 13).min(49), 49] {
                for per_read in [1u64, 2, 5] {
                    let r = l.chunk_range(start, Some(end), 50).unwrap();
                    let mut dec = Decryptor::new(cipher(b"x"), l, 50, r);
                    let mut offset = r.ciphertext_offset as usize;
                    let mut out = Vec::new();
                    loop {
                        let n = dec.next_chunks_len(per_read) as usize;
                        if n == 0 {
                            break;
                        }
                        let mut buf = ct[offset..offset + n].to_vec();
                        for range in dec.open_in_place(&mut buf).unwrap() {
                            out.extend_from_slice(&buf[range]);
                        }
                        offset += n;
                    }
                    assert_eq!(offset as u64, r.ciphertext_offset + r.ciphertext_len);
                    dec.finish().unwrap();
                    assert_eq!(out, &plain[start as usize..=end as usize]);
                }
            }
        }
        // A partial chunk, or a tampered one, is refused.
        let r = l.chunk_range(0, None, 50).unwrap();
        let mut dec = Decryptor::new(cipher(b"x"), l, 50, r);
        assert_eq!(
            dec.open_in_place(&mut ct[..10].to_vec()),
            Err(ObjectCryptoError::Length)
        );
        let mut dec = Decryptor::new(cipher(b"x"), l, 50, r);
        let mut bad = ct[..24].to_vec();
        bad[3] ^= 1;
        assert_eq!(
            dec.open_in_place(&mut bad),
            Err(ObjectCryptoError::Authentication)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let l = ChunkLayout { plaintext_chunk: 8 };
        let plain = data(30);
        let ct = encrypt_all(cipher(b"x"), l, &plain).unwrap();
        for i in [0usize, 10, ct.len() - 1] {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            assert_eq!(
                decrypt_all(cipher(b"x"), l, &bad),
                Err(ObjectCryptoError::Authentication)
            );
        }
    }

    #[test]
    fn wrong_key_or_binding_fails() {
        let l = ChunkLayout { plaintext_chunk: 8 };
        let ct = encrypt_all(cipher(b"bucket/a"), l, b"hello world").unwrap();
        assert_eq!(
            decrypt_all(cipher(b"bucket/b"), l, &ct),
            Err(ObjectCryptoError::Authentication)
        );
        let other = ObjectCipher::new(&[8u8; 32], NONCE, b"bucket/a").unwrap();
        assert_eq!(
            decrypt_all(other, l, &ct),
            Err(ObjectCryptoError::Authentication)
        );
        let other_nonce = ObjectCipher::new(&KEY, [1u8; 12], b"bucket/a").unwrap();
        assert_eq!(
            decrypt_all(other_nonce, l, &ct),
            Err(ObjectCryptoError::Authentication)
        );
    }

    #[test]
    fn truncation_at_chunk_boundary_is_detected() {
        let l = ChunkLayout { plaintext_chunk: 8 };
        let ct = encrypt_all(cipher(b"x"), l, &data(24)).unwrap();
        // Drop the last full chunk: the remaining stream is a valid length for
        // 16 bytes, but chunk 1 was not sealed as final.
        let truncated = &ct[..2 * 24];
        assert_eq!(
            decrypt_all(cipher(b"x"), l, truncated),
            Err(ObjectCryptoError::Authentication)
        );
    }

    #[test]
    fn reordering_is_detected() {
        let l = ChunkLayout { plaintext_chunk: 8 };
        let ct = encrypt_all(cipher(b"x"), l, &data(24)).unwrap();
        let mut swapped = Vec::new();
        swapped.extend_from_slice(&ct[24..48]);
        swapped.extend_from_slice(&ct[0..24]);
        swapped.extend_from_slice(&ct[48..]);
        assert_eq!(
            decrypt_all(cipher(b"x"), l, &swapped),
            Err(ObjectCryptoError::Authentication)
        );
    }

    #[test]
    fn extra_or_missing_bytes_are_length_errors() {
        let l = ChunkLayout { plaintext_chunk: 8 };
        let ct = encrypt_all(cipher(b"x"), l, &data(20)).unwrap();
        let r = l.chunk_range(0, Some(19), 20).unwrap();
        let mut dec = Decryptor::new(cipher(b"x"), l, 20, r);
        let mut out = Vec::new();
        dec.update(&ct[..ct.len() - 1], &mut out).unwrap();
        assert_eq!(dec.finish(), Err(ObjectCryptoError::Length));
        let mut dec = Decryptor::new(cipher(b"x"), l, 20, r);
        let mut long = ct.clone();
        long.push(0);
        assert_eq!(dec.update(&long, &mut out), Err(ObjectCryptoError::Length));
    }

    #[test]
    fn distinct_chunks_use_distinct_nonces() {
        let l = ChunkLayout { plaintext_chunk: 4 };
        let ct = encrypt_all(cipher(b"x"), l, &[0u8; 12]).unwrap();
        // Same plaintext in each chunk must still give different ciphertext.
        assert_ne!(ct[0..4], ct[20..24]);
        assert_ne!(ct[20..24], ct[40..44]);
    }

    #[test]
    fn multipart_range_mapping() {
        let l = ChunkLayout {
            plaintext_chunk: 10,
        };
        let parts = [25u64, 10, 5];
        let cipher_lens: Vec<u64> = parts.iter().map(|p| l.ciphertext_len(*p)).collect();
        // Whole object: every part, full ranges.
        let all = multipart_ranges(l, &parts, 0, None).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].part_ciphertext_offset, cipher_lens[0]);
        assert_eq!(
            all[2].part_ciphertext_offset,
            cipher_lens[0] + cipher_lens[1]
        );
        assert_eq!(all.iter().map(|p| p.range.take).sum::<u64>(), 40);
        // A range spanning the end of part 0 and the start of part 1.
        let r = multipart_ranges(l, &parts, 22, Some(27)).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            (
                r[0].part_index,
                r[0].range.first_chunk,
                r[0].range.skip,
                r[0].range.take
            ),
            (0, 2, 2, 3)
        );
        assert_eq!(
            (
                r[1].part_index,
                r[1].range.first_chunk,
                r[1].range.skip,
                r[1].range.take
            ),
            (1, 0, 0, 3)
        );
        // Inside the last part only.
        let r = multipart_ranges(l, &parts, 36, None).unwrap();
        assert_eq!(
            (r.len(), r[0].part_index, r[0].range.skip, r[0].range.take),
            (1, 2, 1, 4)
        );
        assert_eq!(
            multipart_ranges(l, &parts, 40, None),
            Err(ObjectCryptoError::Range)
        );
        assert_eq!(
            multipart_ranges(l, &parts, 3, Some(40)),
            Err(ObjectCryptoError::Range)
        );
        assert_eq!(
            multipart_ranges(l, &[0], 0, None).unwrap()[0]
                .range
                .ciphertext_len,
            16
        );
        assert_eq!(
            multipart_ranges(l, &[], 0, None),
            Err(ObjectCryptoError::Range)
        );

        // End to end: encrypt parts separately, decrypt a cross-part range.
        let body: Vec<u8> = (0..40u8).collect();
        let mut stored = Vec::new();
        let mut off = 0usize;
        for (i, len) in parts.iter().enumerate() {
            let c = ObjectCipher::new(&KEY, NONCE, format!("upload/{}", i + 1).as_bytes()).unwrap();
            stored.extend(encrypt_all(c, l, &body[off..off + *len as usize]).unwrap());
            off += *len as usize;
        }
        let mut out = Vec::new();
        for p in multipart_ranges(l, &parts, 7, Some(38)).unwrap() {
            let c = ObjectCipher::new(
                &KEY,
                NONCE,
                format!("upload/{}", p.part_index + 1).as_bytes(),
            )
            .unwrap();
            let from = (p.part_ciphertext_offset + p.range.ciphertext_offset) as usize;
            let mut dec = Decryptor::new(c, l, p.part_plaintext_len, p.range);
            dec.update(
                &stored[from..from + p.range.ciphertext_len as usize],
                &mut out,
            )
            .unwrap();
            dec.finish().unwrap();
        }
        assert_eq!(out, &body[7..=38]);
    }

    #[test]
    fn bad_key_length() {
        assert_eq!(
            ObjectCipher::new(&[0u8; 16], NONCE, b"").err(),
            Some(ObjectCryptoError::Key)
        );
    }

    #[test]
    fn sse_c_key_checks() {
        let key = [0x11u8; 32];
        let b64 = base64::engine::general_purpose::STANDARD.encode(key);
        let md5 = sse_c_key_md5(&key);
        assert_eq!(verify_sse_c_key(&b64, &md5).unwrap(), key);
        assert_eq!(
            verify_sse_c_key(&b64, &sse_c_key_md5(&[0u8; 32])),
            Err(SseCKeyError::Md5Mismatch)
        );
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert_eq!(
            verify_sse_c_key(&short, &md5),
            Err(SseCKeyError::InvalidKey)
        );
        assert_eq!(verify_sse_c_key("!!", &md5), Err(SseCKeyError::InvalidKey));
        // RFC 1321 test vector for the empty string.
        assert_eq!(sse_c_key_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        let f1 = sse_c_key_fingerprint(&key, b"salt");
        assert_eq!(f1.len(), 64);
        assert_ne!(f1, sse_c_key_fingerprint(&key, b"pepper"));
        assert_ne!(f1, sse_c_key_fingerprint(&[0u8; 32], b"salt"));
    }
}
