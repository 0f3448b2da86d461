//! Compiled-code cache: a guest is compiled once per content and engine configuration,
//! later runs load the machine code from disk.
//!
//! Why not Wasmtime's own cache: its entries carry no checksum, and a damaged entry that
//! still decompresses would be loaded as code. Here every entry holds a SHA-256 of its
//! payload, checked before Wasmtime deserializes it (which in turn refuses artifacts of
//! another engine configuration); anything that fails a check is recompiled and
//! rewritten. Trust model: like Wasmtime's, the cache directory must be writable only by
//! the user (it is created with mode 0700).
//!
//! Layout: the artifact, then a trailer of [`MAGIC`] and the artifact's SHA-256. The
//! artifact comes first so that a hit is mapped straight from the file
//! (`deserialize_file`) after the checksum is computed by reading it in small pieces:
//! reading a whole entry into memory and handing it to Wasmtime, which copies it again,
//! held two copies of the compiled code at once (a Go guest's entry is 23 MB: most of
//! such a run's peak RSS). Entries are only ever replaced by rename, never rewritten in
//! place, so a mapping stays valid while a run uses it.
//!
//! Size: the directory is kept under a cap (default [`DEFAULT_CACHE_MAX_SIZE`]) by
//! evicting the least recently used entries after each store. An entry's modification
//! time is its last use: a hit touches it.

use crate::kind::WasmKind;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Entry trailer tag: identifies the format, so another layout (`WGCACHE1` put it in
/// front) is a miss, not a misread.
const MAGIC: &[u8; 8] = b"WGCACHE2";

/// The trailer: [`MAGIC`], then the SHA-256 of everything before it.
const TRAILER: usize = MAGIC.len() + 32;

/// Default cap on the cache directory's total size. Wasmtime's own cache uses the same
/// soft limit; it holds 15–25 compiled Go guests (22–40 MB each) or hundreds of Rust
/// and C ones, and stays small beside a user's other caches.
pub const DEFAULT_CACHE_MAX_SIZE: u64 = 512 * 1024 * 1024;

/// How a compile request was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// No cache configured.
    Disabled,
    /// Loaded from the cache.
    Hit,
    /// Compiled and stored.
    Miss,
    /// An entry existed but failed its checks; compiled again and rewritten.
    Replaced,
    /// Compiled, but the entry could not be written (e.g. a read-only directory).
    NotStored,
}

/// A compiled guest.
pub(crate) enum Compiled {
    Component(Component),
    Module(wasmtime::Module),
}

/// Where compiled code is kept, and how much of it.
#[derive(Debug, Clone)]
pub(crate) struct ModuleCache {
    dir: PathBuf,
    max_size: u64,
}

/// The per-user default: `$XDG_CACHE_HOME/wasmgate`, else `$HOME/.cache/wasmgate`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("wasmgate"))
}

/// Feeds `Hash` output into SHA-256, to key entries by the engine's settings.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        unreachable!("only used to feed the digest")
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ModuleCache {
    pub(crate) fn new(dir: PathBuf, max_size: u64) -> Self {
        Self { dir, max_size }
    }

    /// Entry name: the guest's bytes, its kind, everything in the engine configuration
    /// that affects code (Wasmtime's compatibility hash covers its version, target and
    /// compiler settings), and this crate's version.
    fn key(engine: &Engine, kind: WasmKind, bytes: &[u8]) -> String {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        let mut digest = h.0;
        digest.update(env!("CARGO_PKG_VERSION").as_bytes());
        digest.update([kind as u8]);
        digest.update(bytes);
        hex(&digest.finalize())
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(key)
    }

    /// Loads the compiled guest, or compiles and stores it.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        kind: WasmKind,
        bytes: &[u8],
    ) -> Result<(Compiled, CacheOutcome), wasmtime::Error> {
        let key = Self::key(engine, kind, bytes);
        let path = self.entry(&key);
        // One compile per entry at a time in this process: concurrent runs of the same
        // guest wait for the first compile and then load its entry.
        let slot = {
            static IN_PROGRESS: Mutex<BTreeMap<String, Arc<Mutex<()>>>> =
                Mutex::new(BTreeMap::new());
            let mut map = IN_PROGRESS.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|_, m| Arc::strong_count(m) > 1);
            map.entry(key).or_default().clone()
        };
        let _compiling = slot.lock().unwrap_or_else(|p| p.into_inner());
        let existed = match load_verified(engine, kind, &path) {
            Ok(Some(compiled)) => {
                touch(&path);
                return Ok((compiled, CacheOutcome::Hit));
            }
            Ok(None) => true,
            Err(_) => false,
        };
        let artifact = match kind {
            WasmKind::Component => engine.precompile_component(bytes)?,
            WasmKind::CoreModule => engine.precompile_module(bytes)?,
        };
        let compiled = deserialize(engine, kind, &artifact)
            .ok_or_else(|| wasmtime::format_err!("freshly compiled code could not be loaded"))?;
        // An entry bigger than the whole cache would only evict everything else.
        let stored = if entry_size(&artifact) > self.max_size {
            Err(std::io::Error::other(
                "the entry is larger than the cache's size limit",
            ))
        } else {
            store(&path, &artifact)
        };
        let outcome = match stored {
            Ok(()) => {
                evict(&self.dir, self.max_size, &path);
                if existed {
                    CacheOutcome::Replaced
                } else {
                    CacheOutcome::Miss
                }
            }
            Err(e) => {
                tracing::debug!("not caching compiled code at {}: {e}", path.display());
                CacheOutcome::NotStored
            }
        };
        Ok((compiled, outcome))
    }
}

/// Bytes an entry takes on disk: header, checksum, artifact.
fn entry_size(artifact: &[u8]) -> u64 {
    (artifact.len() + TRAILER) as u64
}

/// Records a use: the entry's modification time orders eviction. Best effort: a cache
/// the user cannot write still serves hits.
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// One entry of a cache directory, as [`cache_entries`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The entry's file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// When a run last stored or loaded it.
    pub last_used: std::time::SystemTime,
}

/// The entries of the cache in `dir`, most recently used first. A missing directory
/// has none. Files that are not entries (temporary files of a store in progress,
/// anything else) are not listed.
pub fn cache_entries(dir: &Path) -> std::io::Result<Vec<CacheEntry>> {
    let top = match std::fs::read_dir(dir) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for sub in top.flatten() {
        let Ok(files) = std::fs::read_dir(sub.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name();
            // Entry names are 64 hex digits (a SHA-256); temporary files start with '.'.
            let is_entry = name.len() == 64
                && name
                    .to_str()
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_hexdigit()));
            let Ok(meta) = f.metadata() else { continue };
            if !is_entry || !meta.is_file() {
                continue;
            }
            out.push(CacheEntry {
                path: f.path(),
                size: meta.len(),
                last_used: meta.modified().unwrap_or(std::time::UNIX_EPOCH),
            });
        }
    }
    out.sort_by(|a, b| b.last_used.cmp(&a.last_used).then(a.path.cmp(&b.path)));
    Ok(out)
}

/// Deletes every entry of the cache in `dir`; returns how many and their total size.
/// Runs in progress elsewhere are unaffected: they hold their code in memory, and a
/// concurrent store simply writes a new entry.
pub fn clear_cache(dir: &Path) -> std::io::Result<(usize, u64)> {
    let mut removed = (0, 0);
    for e in cache_entries(dir)? {
        match std::fs::remove_file(&e.path) {
            Ok(()) => {
                removed.0 += 1;
                removed.1 += e.size;
            }
            // Another process removed it first.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(removed)
}

/// Deletes the least recently used entries until the cache is at most `max_size`
/// bytes, never `keep` (the entry just stored). Best effort: errors leave entries.
fn evict(dir: &Path, max_size: u64, keep: &Path) {
    let Ok(entries) = cache_entries(dir) else {
        return;
    };
    let mut total: u64 = entries.iter().map(|e| e.size).sum();
    // Oldest last in the list: walk it backwards.
    for e in entries.iter().rev() {
        if total <= max_size {
            break;
        }
        if e.path != keep && std::fs::remove_file(&e.path).is_ok() {
            total = total.saturating_sub(e.size);
        }
    }
}

/// The compiled code of the entry at `path` if its trailer and checksum are intact and
/// Wasmtime accepts it: `Ok(None)` for a damaged or foreign entry, an error if there is
/// no entry to read.
fn load_verified(
    engine: &Engine,
    kind: WasmKind,
    path: &Path,
) -> std::io::Result<Option<Compiled>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let Some(payload) = file.metadata()?.len().checked_sub(TRAILER as u64) else {
        return Ok(None);
    };
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; HASH_CHUNK];
    let mut left = payload;
    while left > 0 {
        let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = file.read(&mut chunk[..want])?;
        if n == 0 {
            return Ok(None); // shorter than it said: changed under us
        }
        hasher.update(&chunk[..n]);
        left -= n as u64;
    }
    let mut trailer = [0u8; TRAILER];
    if file.read_exact(&mut trailer).is_err() {
        return Ok(None);
    }
    let (magic, sum) = trailer.split_at(MAGIC.len());
    if magic != MAGIC || hasher.finalize().as_slice() != sum {
        return Ok(None);
    }
    // SAFETY: the file's contents are what this process family wrote (its SHA-256 just
    // matched) into a user-private directory whose entries are replaced only by rename,
    // so the mapped file does not change while the code is in use; Wasmtime additionally
    // refuses artifacts built for another configuration. The trailer after the artifact
    // lies outside everything the artifact's headers point to.
    let compiled = unsafe {
        match kind {
            WasmKind::Component => {
                Component::deserialize_file(engine, path).map(Compiled::Component)
            }
            WasmKind::CoreModule => {
                wasmtime::Module::deserialize_file(engine, path).map(Compiled::Module)
            }
        }
    };
    Ok(compiled.ok())
}

/// Read size for checksumming an entry: small, so a hit never holds the whole entry in
/// memory besides its mapping.
const HASH_CHUNK: usize = 64 * 1024;

fn deserialize(engine: &Engine, kind: WasmKind, artifact: &[u8]) -> Option<Compiled> {
    // SAFETY: `artifact` is either what this engine just produced, or an entry whose
    // SHA-256 matched what this process family wrote into a user-private directory;
    // Wasmtime additionally refuses artifacts built for another configuration.
    let compiled = unsafe {
        match kind {
            WasmKind::Component => {
                Component::deserialize(engine, artifact).map(Compiled::Component)
            }
            WasmKind::CoreModule => {
                wasmtime::Module::deserialize(engine, artifact).map(Compiled::Module)
            }
        }
    };
    compiled.ok()
}

/// Writes an entry atomically: a reader sees the old entry, the new one, or none.
fn store(path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("entries live in a sub-directory");
    create_private_dir(dir)?;
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), rand_suffix()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(artifact)?;
        f.write_all(MAGIC)?;
        f.write_all(&Sha256::digest(artifact))?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Distinguishes temp files of threads in one process.
fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
