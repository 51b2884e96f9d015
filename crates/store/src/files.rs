//! Object bytes on local disk.
//!
//! Files are named by random ids (`objects/ab/abcdef…`), never by object keys,
//! so no key can reach outside the data directory. Every write goes through
//! [`ObjectWriter`] (temp file, fsync, rename, fsync dir) and every read through
//! [`ObjectReader`]: the one place where a per-object transform (encryption)
//! will be inserted.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use md5::{Digest as _, Md5};
use tokio::io::{AsyncWriteExt, BufWriter};

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

/// How many stored bytes of a large object may be written before the kernel is
/// asked to start writing them back. Starting writeback while the rest of the
/// object is still being received, hashed and encrypted lets the disk work in
/// parallel, so the final fsync has little left to wait for.
const WRITEBACK_EVERY: u64 = 8 << 20;
const READ_CHUNK: usize = 256 * 1024;
/// Ciphertext chunks (64 KiB each) read and decrypted at a time.
const CHUNKS_PER_READ: u64 = 16;

/// The directory of object data files.
#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
    tmp: PathBuf,
    pins: Arc<Mutex<Pins>>,
    /// Re-created before each new data file: uploads never use the space it holds.
    reserve: Option<Arc<strongbox_core::reserve::DiskReserve>>,
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

/// Objects whose stored bytes (ciphertext included) fit in this many bytes
/// may be kept inline in the metadata (see [`ObjectWriter::inline_up_to`]).
pub const INLINE_LIMIT: usize = 64 * 1024;

/// What [`ObjectWriter::finish`] produced.
#[derive(Clone, Debug)]
pub struct WrittenFile {
    /// The data file (empty when the bytes stayed inline).
    pub file_id: String,
    pub size: u64,
    pub md5: [u8; 16],
    /// Checksums requested at [`FileStore::create`] (base64 values).
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
    /// The stored bytes, when they stayed in memory (no data file written).
    pub inline: Option<Bytes>,
}

impl WrittenFile {
    /// The object segment these bytes make.
    pub fn segment(&self) -> Segment {
        Segment {
            file_id: self.file_id.clone(),
            length: self.size,
            inline: self.inline.clone(),
        }
    }

    /// The data files to remove should the metadata commit fail (none when inline).
    pub fn files(&self) -> Vec<String> {
        if self.file_id.is_empty() {
            Vec::new()
        } else {
            vec![self.file_id.clone()]
        }
    }
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
        strongbox_core::private_files::create_private_dir(&tmp)?;
        Ok(FileStore {
            root,
            tmp,
            pins: Arc::new(Mutex::new(Pins::default())),
            reserve: None,
        })
    }

    /// Keeps `reserve` in place: a new data file is refused (ENOSPC) when the
    /// reserve, released by a delete on a full disk, cannot be re-created.
    pub fn with_reserve(mut self, reserve: Arc<strongbox_core::reserve::DiskReserve>) -> FileStore {
        self.reserve = Some(reserve);
        self
    }

    /// Re-creates the disk reserve when a delete released it.
    async fn ensure_reserve(&self) -> io::Result<()> {
        match &self.reserve {
            Some(reserve) if !reserve.is_held() => {
                let reserve = reserve.clone();
                tokio::task::spawn_blocking(move || reserve.ensure_held())
                    .await
                    .map_err(io::Error::other)?
            }
            _ => Ok(()),
        }
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
        self.ensure_reserve().await?;
        let id = strongbox_core::ids::random_hex(16);
        Ok(ObjectWriter {
            final_path: self.path_of(&id)?,
            tmp_path: self.tmp.join(format!("{id}.tmp")),
            id,
            file: None,
            pending: None,
            size: 0,
            md5: Md5::new(),
            hashers: checksums.iter().map(|a| ChecksumHasher::new(*a)).collect(),
            finished: false,
            encryptor: cipher.map(|c| Encryptor::new(c, ChunkLayout::default())),
            scratch: Vec::new(),
            stored: 0,
            writeback_started: 0,
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
        let ids: Vec<String> = segments
            .iter()
            .filter(|s| s.inline.is_none())
            .map(|s| s.file_id.clone())
            .collect();
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
            if offset < end && offset + seg.length > start && seg.inline.is_none() {
                tokio::fs::metadata(self.path_of(&seg.file_id)?).await?;
            }
            offset += seg.length;
        }
        // Fewer bytes than the range: the object's rows went away meanwhile.
        if offset < end {
            return Err(io::Error::new(io::ErrorKind::NotFound, "object removed"));
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
            ready: VecDeque::new(),
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
        for id in ids.iter().filter(|id| !id.is_empty()) {
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

/// Writes one data file durably (or keeps small contents in memory, see
/// [`ObjectWriter::inline_up_to`]).
pub struct ObjectWriter {
    id: String,
    tmp_path: PathBuf,
    final_path: PathBuf,
    /// The temp file, opened at the first byte that does not stay in memory.
    file: Option<BufWriter<tokio::fs::File>>,
    /// Stored bytes held in memory, with the most that may be held.
    pending: Option<(Vec<u8>, usize)>,
    size: u64,
    md5: Md5,
    hashers: Vec<ChecksumHasher>,
    finished: bool,
    /// Encrypts the bytes on their way to disk (server-side encryption).
    encryptor: Option<Encryptor>,
    scratch: Vec<u8>,
    /// Stored bytes in the file, and how many of them writeback was started for.
    stored: u64,
    writeback_started: u64,
}

impl ObjectWriter {
    /// Keeps the stored bytes in memory while they fit in `limit` bytes: when
    /// they still do at [`ObjectWriter::finish`], no data file is written and
    /// [`WrittenFile::inline`] holds them. Call before the first write.
    pub fn inline_up_to(mut self, limit: usize) -> ObjectWriter {
        if self.size == 0 && self.file.is_none() {
            self.pending = Some((Vec::new(), limit));
        }
        self
    }

    /// Appends (plaintext) bytes.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.finished {
            return Err(io::Error::other("writer already finished"));
        }
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
        store_bytes(&mut self.pending, &mut self.file, &self.tmp_path, out).await?;
        if self.file.is_some() {
            self.stored += out.len() as u64;
            if self.stored - self.writeback_started >= WRITEBACK_EVERY {
                self.start_writeback().await?;
            }
        }
        Ok(())
    }

    /// Hands what was written so far to the kernel and asks it to start
    /// writing it back (`sync_file_range(SYNC_FILE_RANGE_WRITE)`: no wait, no
    /// durability promise; [`ObjectWriter::finish`] still fsyncs).
    async fn start_writeback(&mut self) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.flush().await?;
        self.writeback_started = self.stored;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd as _;
            let fd = file.get_ref().as_raw_fd();
            // SAFETY: `fd` is the open temp file this writer owns and keeps open
            // until `finish`; offset 0 and length 0 mean "the whole file", and
            // the call only starts writeback of its dirty pages.
            let rc = unsafe { libc::sync_file_range(fd, 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
            if rc != 0 {
                tracing::debug!(error = %io::Error::last_os_error(), "sync_file_range failed");
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes, fsyncs, renames into place and fsyncs the directory; or, when
    /// the bytes stayed in memory, hands them back without touching the disk.
    pub async fn finish(mut self) -> io::Result<WrittenFile> {
        if self.finished {
            return Err(io::Error::other("writer already finished"));
        }
        if let Some(enc) = self.encryptor.take() {
            self.scratch.clear();
            enc.finish(&mut self.scratch).map_err(crypto_error)?;
            store_bytes(
                &mut self.pending,
                &mut self.file,
                &self.tmp_path,
                &self.scratch,
            )
            .await?;
        }
        let inline = match self.pending.take() {
            Some((bytes, _)) => Some(Bytes::from(bytes)),
            None => {
                let mut file = match self.file.take() {
                    Some(f) => f,
                    None => open_temp(&self.tmp_path).await?,
                };
                file.flush().await?;
                let file = file.into_inner();
                file.sync_all().await?;
                drop(file);
                let dir = self
                    .final_path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                let created = dir.clone();
                tokio::task::spawn_blocking(move || {
                    strongbox_core::private_files::create_private_dir(&created)
                })
                .await
                .map_err(io::Error::other)??;
                tokio::fs::rename(&self.tmp_path, &self.final_path).await?;
                self.finished = true;
                tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
                    .await
                    .map_err(io::Error::other)??;
                None
            }
        };
        self.finished = true;
        let md5: [u8; 16] = std::mem::take(&mut self.md5).finalize().into();
        let checksums = std::mem::take(&mut self.hashers)
            .into_iter()
            .map(|h| (h.algorithm(), h.finish()))
            .collect();
        Ok(WrittenFile {
            file_id: if inline.is_some() {
                String::new()
            } else {
                self.id.clone()
            },
            size: self.size,
            md5,
            checksums,
            inline,
        })
    }
}

/// Opens a new temp file for writing.
async fn open_temp(path: &Path) -> io::Result<BufWriter<tokio::fs::File>> {
    let mut options = tokio::fs::OpenOptions::new();
    #[cfg(unix)]
    options.mode(strongbox_core::private_files::FILE_MODE);
    let file = options.write(true).create_new(true).open(path).await?;
    Ok(BufWriter::with_capacity(WRITE_BUFFER, file))
}

/// Appends stored bytes: to the in-memory buffer while they fit, else to the
/// temp file (opening it and moving the buffer there first).
async fn store_bytes(
    pending: &mut Option<(Vec<u8>, usize)>,
    file: &mut Option<BufWriter<tokio::fs::File>>,
    tmp_path: &Path,
    out: &[u8],
) -> io::Result<()> {
    if let Some((buf, limit)) = pending.as_mut() {
        if buf.len() + out.len() <= *limit {
            buf.extend_from_slice(out);
            return Ok(());
        }
    }
    if file.is_none() {
        let mut f = open_temp(tmp_path).await?;
        if let Some((buf, _)) = pending.take() {
            f.write_all(&buf).await?;
        }
        *file = Some(f);
    }
    match file.as_mut() {
        Some(f) => f.write_all(out).await,
        None => Err(io::Error::other("no temp file")),
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// Where the current segment's stored bytes come from.
enum Source {
    /// A data file (this reader's own handle), read from `offset` on, on the
    /// blocking pool, straight into the buffer that is handed on.
    File {
        file: Arc<std::fs::File>,
        offset: u64,
    },
    /// Inline bytes, from `pos` on.
    Memory(Bytes, usize),
}

impl Source {
    /// Opens `seg` at stored offset `offset`.
    async fn open(store: &FileStore, seg: &Segment, offset: u64) -> io::Result<Source> {
        if let Some(bytes) = &seg.inline {
            let pos = usize::try_from(offset)
                .ok()
                .filter(|p| *p <= bytes.len())
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "inline data too short")
                })?;
            return Ok(Source::Memory(bytes.clone(), pos));
        }
        let path = store.path_of(&seg.file_id)?;
        let file = tokio::task::spawn_blocking(move || std::fs::File::open(path))
            .await
            .map_err(io::Error::other)??;
        Ok(Source::File {
            file: Arc::new(file),
            offset,
        })
    }

    /// The next `want` bytes; fewer only at the end of the stored bytes.
    async fn read(&mut self, want: usize) -> io::Result<Vec<u8>> {
        match self {
            Source::File { file, offset } => {
                let file = Arc::clone(file);
                let at = *offset;
                let buf = tokio::task::spawn_blocking(move || read_at_most(&file, at, want))
                    .await
                    .map_err(io::Error::other)??;
                *offset += buf.len() as u64;
                Ok(buf)
            }
            Source::Memory(bytes, pos) => {
                let end = bytes.len().min(*pos + want);
                let out = bytes[*pos..end].to_vec();
                *pos = end;
                Ok(out)
            }
        }
    }
}

/// Reads up to `want` bytes at `offset` (fewer only at the end of the file).
/// `read_to_end` fills the vector's spare capacity without zeroing it first.
fn read_at_most(file: &std::fs::File, offset: u64, want: usize) -> io::Result<Vec<u8>> {
    use std::io::{Read as _, Seek as _};
    let mut file = file;
    file.seek(io::SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(want);
    file.take(want as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Reads a byte range of an object, segment by segment, in bounded chunks.
pub struct ObjectReader {
    store: FileStore,
    segments: Vec<Segment>,
    index: usize,
    offset_in_segment: u64,
    remaining: u64,
    current: Option<Source>,
    _pin: PinGuard,
    /// Per-segment ciphers of an encrypted object (taken as each segment opens).
    ciphers: Option<Vec<Option<ObjectCipher>>>,
    /// Decrypts the chunks of the current segment.
    decryptor: Option<Decryptor>,
    /// Ciphertext bytes still to read from the current segment.
    raw_remaining: u64,
    /// Decrypted plaintext not yet handed out.
    ready: VecDeque<Bytes>,
}

impl ObjectReader {
    async fn open_current(&mut self) -> io::Result<()> {
        let seg = self.segments.get(self.index).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "object shorter than its metadata",
            )
        })?;
        self.current = Some(Source::open(&self.store, seg, self.offset_in_segment).await?);
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
        let source = Source::open(&self.store, seg, range.ciphertext_offset).await?;
        self.decryptor = Some(Decryptor::new(cipher, layout, len, range));
        self.raw_remaining = range.ciphertext_len;
        self.current = Some(source);
        Ok(())
    }

    /// The next plaintext chunk of an encrypted object. Whole ciphertext
    /// chunks are read into one buffer, decrypted in place and handed out as
    /// slices of it.
    async fn next_decrypted(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Ok(Some(b));
            }
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
            let dec = self
                .decryptor
                .as_mut()
                .ok_or_else(|| io::Error::other("no decryptor"))?;
            let want = dec.next_chunks_len(CHUNKS_PER_READ).min(self.raw_remaining) as usize;
            if want > 0 {
                let source = self
                    .current
                    .as_mut()
                    .ok_or_else(|| io::Error::other("no open segment"))?;
                let mut buf = source.read(want).await?;
                if buf.len() < want {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "data file shorter than its metadata",
                    ));
                }
                self.raw_remaining -= want as u64;
                let ranges = dec.open_in_place(&mut buf).map_err(crypto_error)?;
                let buf = Bytes::from(buf);
                for r in ranges {
                    let n = r.len() as u64;
                    self.remaining = self.remaining.saturating_sub(n);
                    self.offset_in_segment += n;
                    self.ready.push_back(buf.slice(r));
                }
            }
            if self.raw_remaining == 0 {
                if let Some(dec) = self.decryptor.take() {
                    dec.finish().map_err(crypto_error)?;
                }
                self.index += 1;
                self.offset_in_segment = 0;
                self.current = None;
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
            let source = self
                .current
                .as_mut()
                .ok_or_else(|| io::Error::other("no open segment"))?;
            let buf = Bytes::from(source.read(want).await?);
            let n = buf.len();
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "data file shorter than its metadata",
                ));
            }
            self.offset_in_segment += n as u64;
            self.remaining -= n as u64;
            return Ok(Some(buf));
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
            segs.push(f.segment());
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
        let segs = vec![f.segment()];
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
            segs.push(f.segment());
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

    #[tokio::test]
    async fn small_contents_stay_inline_and_large_ones_spill_to_a_file() {
        let dir = temp_dir("inline");
        let fs = FileStore::open(&dir).unwrap();
        let key = [5u8; 32];
        let cipher = || ObjectCipher::new(&key, [1u8; 12], b"inline").unwrap();
        let files_on_disk = || {
            std::fs::read_dir(dir.join("objects"))
                .unwrap()
                .flatten()
                .filter(|d| d.file_name() != "tmp")
                .map(|d| std::fs::read_dir(d.path()).unwrap().count())
                .sum::<usize>()
        };
        for encrypted in [false, true] {
            // Inline: written in pieces, nothing on disk, read back in ranges.
            let data: Vec<u8> = (0..5000u32).map(|i| (i % 239) as u8).collect();
            let w = fs
                .create_encrypted(&[ChecksumAlgorithm::Crc32], encrypted.then(cipher))
                .await
                .unwrap();
            let mut w = w.inline_up_to(INLINE_LIMIT);
            for piece in data.chunks(1000) {
                w.write(piece).await.unwrap();
            }
            let f = w.finish().await.unwrap();
            assert!(f.file_id.is_empty() && f.files().is_empty());
            let stored = f.inline.clone().unwrap();
            assert_eq!(
                stored.len() > data.len(),
                encrypted,
                "tags only when encrypted"
            );
            if encrypted {
                assert!(
                    !stored.windows(64).any(|w| w == &data[100..164]),
                    "ciphertext"
                );
            }
            assert_eq!(files_on_disk(), 0);
            for (s, e) in [(0, 5000), (10, 20), (4999, 5000), (0, 0)] {
                let ciphers = encrypted.then(|| vec![cipher()]);
                let mut r = fs
                    .open_decrypting_reader(vec![f.segment()], ciphers, s, e)
                    .await
                    .unwrap();
                let mut out = Vec::new();
                while let Some(c) = r.next_chunk().await.unwrap() {
                    out.extend_from_slice(&c);
                }
                assert_eq!(out, &data[s as usize..e as usize]);
            }
            // Past the limit: a data file, the buffered bytes first.
            let big: Vec<u8> = (0..INLINE_LIMIT as u32 + 10)
                .map(|i| (i % 13) as u8)
                .collect();
            let mut w = fs
                .create_encrypted(&[], encrypted.then(cipher))
                .await
                .unwrap()
                .inline_up_to(INLINE_LIMIT);
            for piece in big.chunks(4096) {
                w.write(piece).await.unwrap();
            }
            let f = w.finish().await.unwrap();
            assert!(f.inline.is_none() && !f.file_id.is_empty());
            let ciphers = encrypted.then(|| vec![cipher()]);
            let mut r = fs
                .open_decrypting_reader(vec![f.segment()], ciphers, 0, big.len() as u64)
                .await
                .unwrap();
            let mut out = Vec::new();
            while let Some(c) = r.next_chunk().await.unwrap() {
                out.extend_from_slice(&c);
            }
            assert_eq!(out, big);
            fs.remove_all(&f.files());
        }
        // Without inline_up_to even an empty body is a file.
        let f = fs.create(&[]).await.unwrap().finish().await.unwrap();
        assert!(f.inline.is_none() && fs.path_of(&f.file_id).unwrap().exists());
        // A range past the segments' bytes: the object went away meanwhile.
        let gone = fs
            .open_reader(vec![Segment::file(f.file_id.clone(), 0)], 0, 5)
            .await;
        assert_eq!(gone.err().map(|e| e.kind()), Some(io::ErrorKind::NotFound));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("0123456789abcdef0123456789abcdef"));
        assert!(!valid_id("../../etc/passwd"));
        assert!(!valid_id("0123456789ABCDEF0123456789abcdef"));
    }
}
