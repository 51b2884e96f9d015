//! The data directory is private to the server's user: the directory is 0700
//! and every file in it 0600 (metadata, WAL, object data, logs, keys), so other
//! local users read none of it.
//!
//! The `strongbox` binary sets the process umask to 077 before it creates
//! anything ([`restrict_umask`]), which covers the files SQLite and the object
//! store create; the files that hold secrets are also created with an explicit
//! mode ([`create_private`]) so they are private whatever the umask is.

use std::io::Write as _;
use std::path::Path;

/// Mode of the data directory and of directories inside it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file inside the data directory.
pub const FILE_MODE: u32 = 0o600;

/// Sets the process umask to 077: files and directories created from now on
/// get no group or other permissions. Call at start-up, before any thread is
/// spawned (the umask is process-wide).
pub fn restrict_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the calling process's file mode creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Options that create a file with mode 0600 (on unix).
pub fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(FILE_MODE);
    }
    options
}

/// Writes `bytes` to `path` (replacing it) readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    tighten(path, FILE_MODE);
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `path` (empty) with mode 0600 unless it exists.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    private_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(|_| ())
}

/// Creates `dir` (and its parents) with mode 0700 when missing.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

/// The permission bits of `path` beyond `allowed` (0 when none, or unknown).
fn excess_mode(path: &Path, allowed: u32) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::symlink_metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o777 & !allowed,
            Err(_) => 0,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, allowed);
        0
    }
}

/// Removes the group and other bits of `path` (a file or directory we own);
/// `true` when it had some.
fn tighten(path: &Path, allowed: u32) -> bool {
    if excess_mode(path, allowed) == 0 {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            let mode = meta.permissions().mode() & 0o777 & allowed;
            if let Err(err) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            {
                tracing::warn!(path = %path.display(), %err, "cannot tighten the mode");
            }
        }
    }
    true
}

/// Creates the data dir (0700) or checks an existing one: a directory or top-level
/// file readable or writable by group or others is reported with a warning and
/// tightened (0700 / 0600). The files under `objects/` are not walked: the data
/// dir's own mode keeps other users out of everything below it.
///
/// Returns the paths that were tightened.
pub fn prepare_data_dir(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    create_private_dir(dir)?;
    // The directory itself, not a symbolic link to it (links have mode 0777).
    let resolved = dir.canonicalize()?;
    let mut tightened = Vec::new();
    if tighten(&resolved, DIR_MODE) {
        tightened.push(dir.to_path_buf());
    }
    for entry in std::fs::read_dir(&resolved)? {
        let entry = entry?;
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let allowed = if kind.is_dir() {
            DIR_MODE
        } else if kind.is_file() {
            FILE_MODE
        } else {
            continue;
        };
        if tighten(&path, allowed) {
            tightened.push(path);
        }
    }
    for path in &tightened {
        tracing::warn!(
            path = %path.display(),
            "was readable or writable by other local users; tightened to owner-only"
        );
    }
    Ok(tightened)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_lax_data_dir_and_its_files_are_tightened() {
        let dir = std::env::temp_dir()
            .join(format!("sb-private-{}", crate::ids::random_hex(6)))
            .join("data");
        assert!(prepare_data_dir(&dir).unwrap().is_empty());
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("metadata.db");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let sub = dir.join("objects");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o775)).unwrap();
        let tightened = prepare_data_dir(&dir).unwrap();
        assert_eq!(tightened.len(), 3);
        assert_eq!((mode(&dir), mode(&file), mode(&sub)), (0o700, 0o600, 0o700));
        write_private(&dir.join("secret"), b"s").unwrap();
        assert_eq!(mode(&dir.join("secret")), 0o600);
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
