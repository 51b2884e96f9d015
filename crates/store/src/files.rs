//! Object bytes on local disk.
//!
//! Files are named by random ids (`objects/ab/abcdef…`), never by object keys,
//! so no key can reach outside the data directory. Every write goes through
//! [`ObjectWriter`] (temp file, fsync, rename, fsync dir) and every read through
//! [`ObjectReader`]: the one place where a per-object transform (encryption)
//! will be inserted.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use md5::{Digest as _, Md5};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use crate::checksum::{ChecksumAlgorithm, ChecksumHasher};
use crate::model::Segment;
use strongbox_kms::object_crypto::{ChunkLayout, Decryptor, Encryptor, ObjectCipher};

/// An I/O error for ciphertext that fails authentication or has the wrong length.
fn crypto_error(e: strongbox_kms::object_crypto::ObjectCryptoError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A stream of object bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

const WRITE_BUFFER: usize = 1 << 20;
const READ_CHUNK: usize = 256 * 1024;

/// The directory of object data files.
#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
    tmp: PathBuf,
    pins: Arc<Mutex<Pins>>,
}

/// Data files in use by readers, and those to remove once their last reader ends.
#[derive(Debug, Default)]
struct Pins {
    readers: HashMap<String, usize>,
    doomed: HashSet<String>,
}

/// Keeps a reader's data files from being removed until it is dropped.
struct PinGuard {
    store: FileStore,
    ids: Vec<String>,
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let mut remove = Vec::new();
        if let Ok(mut pins) = self.store.pins.lock() {
            for id in &self.ids {
                let left = match pins.readers.get_mut(id) {
                    Some(n) => {
                        *n -= 1;
                        *n
                    }
                    None => continue,
                };
                if left == 0 {
                    pins.readers.remove(id);
                    if pins.doomed.remove(id) {
                        remove.push(id.clone());
                    }
                }
            }
        }
        for id in remove {
            self.store.unlink(&id);
        }
    }
}

/// What [`ObjectWriter::finish`] produced.
#[derive(Clone, Debug)]
pub struct WrittenFile {
    pub file_id: String,
    pub size: u64,
    pub md5: [u8; 16],
    /// Checksums requested at [`FileStore::create`] (base64 values).
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
}

fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl FileStore {
    /// Opens (creating) `data_dir/objects`.
    pub fn open(data_dir: &Path) -> io::Result<FileStore> {
        let root = data_dir.join("objects");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        Ok(FileStore {
            root,
            tmp,
            pins: Arc::new(Mutex::new(Pins::default())),
        })
    }

    /// Where the data file `id` lives.
    fn path_of(&self, id: &str) -> io::Result<PathBuf> {
        if !valid_id(id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid data file id",
            ));
        }
        Ok(self.root.join(&id[..2]).join(id))
    }

    /// Starts a new data file, computing MD5 and the given checksums as it is written.
    pub async fn create(&self, checksums: &[ChecksumAlgorithm]) -> io::Result<ObjectWriter> {
        self.create_encrypted(checksums, None).await
    }

    /// Starts a new data file whose bytes are encrypted with `cipher` (when
    /// given) in authenticated chunks; MD5, checksums and sizes refer to the plaintext.
    pub async fn create_encrypted(
        &self,
        checksums: &[ChecksumAlgorithm],
        cipher: Option<ObjectCipher>,
    ) -> io::Result<ObjectWriter> {
        let id = strongbox_core::ids::random_hex(16);
        let tmp_path = self.tmp.join(format!("{id}.tmp"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp_path)
            .await?;
        Ok(ObjectWriter {
            final_path: self.path_of(&id)?,
            id,
            tmp_path,
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            size: 0,
            md5: Md5::new(),
            hashers: checksums.iter().map(|a| ChecksumHasher::new(*a)).collect(),
            finished: false,
            encryptor: cipher.map(|c| Encryptor::new(c, ChunkLayout::default())),
            scratch: Vec::new(),
        })
    }

    /// Opens the bytes `[start, end)` of an object made of `segments`.
    ///
    /// The segments' files are pinned: a file removed (overwrite, delete) while
    /// the reader lives is only unlinked when the reader is dropped. A file
    /// already gone is `NotFound`; the caller then looks the object up again.
    pub async fn open_reader(
        &self,
        segments: Vec<Segment>,
        start: u64,
        end: u64,
    ) -> io::Result<ObjectReader> {
        self.open_decrypting_reader(segments, None, start, end)
            .await
    }

    /// Like [`FileStore::open_reader`] for segments encrypted by
    /// [`FileStore::create_encrypted`], one cipher per segment: `start`/`end`
    /// and segment lengths are plaintext offsets, and only the chunks the range
    /// needs are read and authenticated. A chunk that fails authentication is an
    /// `InvalidData` error.
    pub async fn open_decrypting_reader(
        &self,
        segments: Vec<Segment>,
        ciphers: Option<Vec<ObjectCipher>>,
        start: u64,
        end: u64,
    ) -> io::Result<ObjectReader> {
        if ciphers.as_ref().is_some_and(|c| c.len() != segments.len()) {
            return Err(io::Error::other("one cipher per segment is required"));
        }
        let ciphers: Option<Vec<Option<ObjectCipher>>> =
            ciphers.map(|c| c.into_iter().map(Some).collect());
        let ids: Vec<String> = segments.iter().map(|s| s.file_id.clone()).collect();
        if let Ok(mut pins) = self.pins.lock() {
            for id in &ids {
                *pins.readers.entry(id.clone()).or_insert(0) += 1;
            }
        }
        let pin = PinGuard {
            store: self.clone(),
            ids,
        };
        // Every file the range needs must still exist now that it is pinned.
        let mut offset = 0;
        for seg in &segments {
            if offset < end && offset + seg.length > start {
                tokio::fs::metadata(self.path_of(&seg.file_id)?).await?;
            }
            offset += seg.length;
        }
        let encrypted = ciphers.is_some();
        let mut reader = ObjectReader {
            store: self.clone(),
            segments,
            index: 0,
            offset_in_segment: 0,
            remaining: end.saturating_sub(start),
            current: None,
            _pin: pin,
            ciphers,
            decryptor: None,
            raw_remaining: 0,
        };
        // Skip whole segments before `start`.
        let mut skip = start;
        while reader.index < reader.segments.len() && skip >= reader.segments[reader.index].length {
            skip -= reader.segments[reader.index].length;
            reader.index += 1;
        }
        reader.offset_in_segment = skip;
        if reader.remaining > 0 && !encrypted {
            reader.open_current().await?;
        }
        Ok(reader)
    }

    /// Removes data files (after the metadata no longer references them).
    pub fn remove_all(&self, ids: &[String]) {
        for id in ids {
            if let Ok(mut pins) = self.pins.lock() {
                if pins.readers.contains_key(id) {
                    pins.doomed.insert(id.clone());
                    continue;
                }
            }
            self.unlink(id);
        }
    }

    fn unlink(&self, id: &str) {
        match self.path_of(id) {
            Ok(p) => {
                if let Err(e) = std::fs::remove_file(&p) {
                    if e.kind() != io::ErrorKind::NotFound {
                        tracing::warn!(file = %p.display(), error = %e, "could not remove data file");
                    }
                }
            }
            Err(_) => tracing::warn!(id, "refusing to remove a file with an invalid id"),
        }
    }

    /// Removes temp files and data files not in `referenced` (start-up only).
    pub fn sweep(&self, referenced: &HashSet<String>) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.tmp)? {
            let entry = entry?;
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
        for dir in std::fs::read_dir(&self.root)? {
            let dir = dir?;
            let name = dir.file_name();
            if dir.path() == self.tmp || !dir.file_type()?.is_dir() || name.len() != 2 {
                continue;
            }
            for entry in std::fs::read_dir(dir.path())? {
                let entry = entry?;
                let id = entry.file_name().to_string_lossy().into_owned();
                if !referenced.contains(&id) {
                    tracing::info!(id, "removing orphan data file");
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Writes one data file durably.
pub struct ObjectWriter {
    id: String,
    tmp_path: PathBuf,
    final_path: PathBuf,
    file: Option<BufWriter<tokio::fs::File>>,
    size: u64,
    md5: Md5,
    hashers: Vec<ChecksumHasher>,
    finished: bool,
    /// Encrypts the bytes on their way to disk (server-side encryption).
    encryptor: Option<Encryptor>,
    scratch: Vec<u8>,
}

impl ObjectWriter {
    /// Appends (plaintext) bytes.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.md5.update(data);
        for h in &mut self.hashers {
            h.update(data);
        }
        self.size += data.len() as u64;
        let out: &[u8] = match self.encryptor.as_mut() {
            Some(enc) => {
                self.scratch.clear();
                enc.update(data, &mut self.scratch).map_err(crypto_error)?;
                &self.scratch
            }
            None => data,
        };
        match self.file.as_mut() {
            Some(f) => f.write_all(out).await,
            None => Err(io::Error::other("writer already finished")),
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes, fsyncs, renames into place and fsyncs the directory.
    pub async fn finish(mut self) -> io::Result<WrittenFile> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("writer already finished"))?;
        if let Some(enc) = self.encryptor.take() {
            self.scratch.clear();
            enc.finish(&mut self.scratch).map_err(crypto_error)?;
            file.write_all(&self.scratch).await?;
        }
        file.flush().await?;
        let file = file.into_inner();
        file.sync_all().await?;
        drop(file);
        let dir = self
            .final_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::rename(&self.tmp_path, &self.final_path).await?;
        self.finished = true;
        tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
            .await
            .map_err(io::Error::other)??;
        let md5: [u8; 16] = std::mem::take(&mut self.md5).finalize().into();
        let checksums = std::mem::take(&mut self.hashers)
            .into_iter()
            .map(|h| (h.algorithm(), h.finish()))
            .collect();
        Ok(WrittenFile {
            file_id: self.id.clone(),
            size: self.size,
            md5,
            checksums,
        })
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// Reads a byte range of an object, segment by segment, in bounded chunks.
pub struct ObjectReader {
    store: FileStore,
    segments: Vec<Segment>,
    index: usize,
    offset_in_segment: u64,
    remaining: u64,
    current: Option<tokio::fs::File>,
    _pin: PinGuard,
    /// Per-segment ciphers of an encrypted object (taken as each segment opens).
    ciphers: Option<Vec<Option<ObjectCipher>>>,
    /// Decrypts the chunks of the current segment.
    decryptor: Option<Decryptor>,
    /// Ciphertext bytes still to read from the current segment.
    raw_remaining: u64,
}

impl ObjectReader {
    async fn open_current(&mut self) -> io::Result<()> {
        let seg = self.segments.get(self.index).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "object shorter than its metadata",
            )
        })?;
        let mut f = tokio::fs::File::open(self.store.path_of(&seg.file_id)?).await?;
        if self.offset_in_segment > 0 {
            f.seek(io::SeekFrom::Start(self.offset_in_segment)).await?;
        }
        self.current = Some(f);
        Ok(())
    }

    /// Opens the current encrypted segment at the first chunk the range needs.
    async fn open_current_encrypted(&mut self) -> io::Result<()> {
        let seg = self.segments.get(self.index).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "object shorter than its metadata",
            )
        })?;
        let len = seg.length;
        let start = self.offset_in_segment;
        let last = (start + self.remaining).min(len) - 1;
        let layout = ChunkLayout::default();
        let range = layout
            .chunk_range(start, Some(last), len)
            .map_err(crypto_error)?;
        let cipher = self
            .ciphers
            .as_mut()
            .and_then(|c| c.get_mut(self.index))
            .and_then(Option::take)
            .ok_or_else(|| io::Error::other("segment read twice"))?;
        let mut f = tokio::fs::File::open(self.store.path_of(&seg.file_id)?).await?;
        if range.ciphertext_offset > 0 {
            f.seek(io::SeekFrom::Start(range.ciphertext_offset)).await?;
        }
        self.decryptor = Some(Decryptor::new(cipher, layout, len, range));
        self.raw_remaining = range.ciphertext_len;
        self.current = Some(f);
        Ok(())
    }

    /// The next plaintext chunk of an encrypted object.
    async fn next_decrypted(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            if self.remaining == 0 {
                return Ok(None);
            }
            if self.current.is_none() {
                let seg_len = self.segments.get(self.index).map_or(0, |s| s.length);
                if self.index < self.segments.len() && self.offset_in_segment >= seg_len {
                    self.index += 1;
                    self.offset_in_segment = 0;
                    continue;
                }
                self.open_current_encrypted().await?;
            }
            let want = (READ_CHUNK as u64).min(self.raw_remaining) as usize;
            let mut buf = vec![0u8; want];
            let file = self
                .current
                .as_mut()
                .ok_or_else(|| io::Error::other("no open segment"))?;
            let n = if want == 0 {
                0
            } else {
                file.read(&mut buf).await?
            };
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "data file shorter than its metadata",
                ));
            }
            self.raw_remaining -= n as u64;
            let mut out = Vec::with_capacity(n);
            let dec = self
                .decryptor
                .as_mut()
                .ok_or_else(|| io::Error::other("no decryptor"))?;
            dec.update(&buf[..n], &mut out).map_err(crypto_error)?;
            self.remaining = self.remaining.saturating_sub(out.len() as u64);
            self.offset_in_segment += out.len() as u64;
            if self.raw_remaining == 0 {
                if let Some(dec) = self.decryptor.take() {
                    dec.finish().map_err(crypto_error)?;
                }
                self.index += 1;
                self.offset_in_segment = 0;
                self.current = None;
            }
            if !out.is_empty() {
                return Ok(Some(Bytes::from(out)));
            }
        }
    }

    /// The next chunk, or `None` at the end of the range.
    pub async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.ciphers.is_some() {
            return self.next_decrypted().await;
        }
        loop {
            if self.remaining == 0 {
                return Ok(None);
            }
            if self.current.is_none() {
                self.open_current().await?;
            }
            let seg_len = self.segments[self.index].length;
            let left_in_seg = seg_len - self.offset_in_segment.min(seg_len);
            if left_in_seg == 0 {
                self.index += 1;
                self.offset_in_segment = 0;
                self.current = None;
                continue;
            }
            let want = (READ_CHUNK as u64).min(left_in_seg).min(self.remaining) as usize;
            let mut buf = vec![0u8; want];
            let file = self
                .current
                .as_mut()
                .ok_or_else(|| io::Error::other("no open segment"))?;
            let n = file.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "data file shorter than its metadata",
                ));
            }
            buf.truncate(n);
            self.offset_in_segment += n as u64;
            self.remaining -= n as u64;
            return Ok(Some(Bytes::from(buf)));
        }
    }

    /// The reader as a stream of chunks.
    pub fn into_stream(self) -> ByteStream {
        Box::pin(futures_util::stream::unfold(
            Some(self),
            |state| async move {
                let mut reader = state?;
                match reader.next_chunk().await {
                    Ok(Some(b)) => Some((Ok(b), Some(reader))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "sbstore-{name}-{}",
            strongbox_core::ids::random_hex(6)
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn write_read_ranges_across_segments() {
        let dir = temp_dir("rw");
        let fs = FileStore::open(&dir).unwrap();
        let mut segs = Vec::new();
        for part in [&b"hello "[..], b"wide ", b"world"] {
            let mut w = fs.create(&[ChecksumAlgorithm::Crc32]).await.unwrap();
            w.write(part).await.unwrap();
            let f = w.finish().await.unwrap();
            assert_eq!(f.size, part.len() as u64);
            segs.push(Segment {
                file_id: f.file_id,
                length: f.size,
            });
        }
        let read = |s: u64, e: u64| {
            let fs = fs.clone();
            let segs = segs.clone();
            async move {
                let mut r = fs.open_reader(segs, s, e).await.unwrap();
                let mut out = Vec::new();
                while let Some(c) = r.next_chunk().await.unwrap() {
                    out.extend_from_slice(&c);
                }
                String::from_utf8(out).unwrap()
            }
        };
        assert_eq!(read(0, 16).await, "hello wide world");
        assert_eq!(read(4, 13).await, "o wide wo");
        assert_eq!(read(6, 11).await, "wide ");
        assert_eq!(read(15, 16).await, "d");
        assert_eq!(read(3, 3).await, "");
        let referenced: HashSet<String> = segs.iter().skip(1).map(|s| s.file_id.clone()).collect();
        // An unfinished writer leaves nothing behind; an unreferenced file is swept.
        let mut w = fs.create(&[]).await.unwrap();
        w.write(b"x").await.unwrap();
        drop(w);
        assert_eq!(fs.sweep(&referenced).unwrap(), 1);
        assert_eq!(read(6, 16).await, "wide world");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn files_in_use_are_removed_when_the_reader_ends() {
        let dir = temp_dir("pins");
        let fs = FileStore::open(&dir).unwrap();
        let mut w = fs.create(&[]).await.unwrap();
        w.write(b"pinned").await.unwrap();
        let f = w.finish().await.unwrap();
        let segs = vec![Segment {
            file_id: f.file_id.clone(),
            length: f.size,
        }];
        let path = fs.path_of(&f.file_id).unwrap();
        let mut reader = fs.open_reader(segs.clone(), 0, 6).await.unwrap();
        fs.remove_all(std::slice::from_ref(&f.file_id));
        assert!(path.exists(), "still in use");
        assert_eq!(&reader.next_chunk().await.unwrap().unwrap()[..], b"pinned");
        drop(reader);
        assert!(!path.exists(), "removed after the last reader");
        let gone = fs.open_reader(segs, 0, 6).await;
        assert_eq!(gone.err().map(|e| e.kind()), Some(io::ErrorKind::NotFound));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn encrypted_segments_read_back_in_ranges_and_detect_tampering() {
        let dir = temp_dir("enc");
        let fs = FileStore::open(&dir).unwrap();
        let key = [3u8; 32];
        let cipher =
            |i: usize| ObjectCipher::new(&key, [i as u8; 12], format!("p{i}").as_bytes()).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let parts = [&data[..150_000], &data[150_000..150_000], &data[150_000..]];
        let mut segs = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let mut w = fs.create_encrypted(&[], Some(cipher(i))).await.unwrap();
            w.write(part).await.unwrap();
            let f = w.finish().await.unwrap();
            assert_eq!(f.size, part.len() as u64);
            let on_disk = std::fs::read(fs.path_of(&f.file_id).unwrap()).unwrap();
            assert!(on_disk.len() > part.len(), "chunk tags on disk");
            segs.push(Segment {
                file_id: f.file_id,
                length: f.size,
            });
        }
        let read = |s: u64, e: u64| {
            let fs = fs.clone();
            let segs = segs.clone();
            async move {
                let ciphers = (0..3).map(cipher).collect();
                let mut r = fs
                    .open_decrypting_reader(segs, Some(ciphers), s, e)
                    .await
                    .unwrap();
                let mut out = Vec::new();
                while let Some(c) = r.next_chunk().await? {
                    out.extend_from_slice(&c);
                }
                Ok::<_, io::Error>(out)
            }
        };
        for (s, e) in [
            (0, 300_000),
            (65_530, 65_540),
            (149_999, 150_001),
            (299_999, 300_000),
            (200_000, 270_000),
        ] {
            assert_eq!(
                read(s, e).await.unwrap(),
                &data[s as usize..e as usize],
                "{s}..{e}"
            );
        }
        // Flip one byte of the last segment: reads touching it fail, others succeed.
        let path = fs.path_of(&segs[2].file_id).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read(0, 1000).await.unwrap(), &data[..1000]);
        let err = read(150_000, 150_010).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("0123456789abcdef0123456789abcdef"));
        assert!(!valid_id("../../etc/passwd"));
        assert!(!valid_id("0123456789ABCDEF0123456789abcdef"));
    }
}
