//! Compiled-code cache: a guest is compiled once per content and engine configuration,
//! later runs load the machine code from disk.
//!
//! Why not Wasmtime's own cache: its entries carry no checksum, and a damaged entry that
//! still decompresses would be loaded as code. Here every entry holds a SHA-256 of its
//! payload, checked before Wasmtime deserializes it (which in turn refuses artifacts of
//! another engine configuration); anything that fails a check is recompiled and
//! rewritten. Trust model: like Wasmtime's, the cache directory must be writable only by
//! the user (it is created with mode 0700).

use crate::kind::WasmKind;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Entry header: identifies the format, so a future layout is a miss, not a misread.
const MAGIC: &[u8; 8] = b"WGCACHE1";

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

/// Where compiled code is kept.
#[derive(Debug, Clone)]
pub(crate) struct ModuleCache {
    dir: PathBuf,
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
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
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
        let existed = match std::fs::read(&path) {
            Ok(stored) => {
                match verified_payload(&stored).and_then(|p| deserialize(engine, kind, p)) {
                    Some(compiled) => return Ok((compiled, CacheOutcome::Hit)),
                    None => true,
                }
            }
            Err(_) => false,
        };
        let artifact = match kind {
            WasmKind::Component => engine.precompile_component(bytes)?,
            WasmKind::CoreModule => engine.precompile_module(bytes)?,
        };
        let compiled = deserialize(engine, kind, &artifact)
            .ok_or_else(|| wasmtime::format_err!("freshly compiled code could not be loaded"))?;
        let outcome = match store(&path, &artifact) {
            Ok(()) if existed => CacheOutcome::Replaced,
            Ok(()) => CacheOutcome::Miss,
            Err(e) => {
                tracing::debug!("not caching compiled code at {}: {e}", path.display());
                CacheOutcome::NotStored
            }
        };
        Ok((compiled, outcome))
    }
}

/// The payload of a stored entry if its header and checksum are intact.
fn verified_payload(stored: &[u8]) -> Option<&[u8]> {
    let rest = stored.strip_prefix(MAGIC.as_slice())?;
    if rest.len() < 32 {
        return None;
    }
    let (sum, payload) = rest.split_at(32);
    (Sha256::digest(payload).as_slice() == sum).then_some(payload)
}

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
        f.write_all(MAGIC)?;
        f.write_all(&Sha256::digest(artifact))?;
        f.write_all(artifact)?;
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
mod tests {
    use super::*;

    fn engine(epoch: bool) -> Engine {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(epoch);
        Engine::new(&config).unwrap()
    }

    fn module(answer: i32) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(module (func (export "answer") (result i32) (i32.const {answer})))"#
        ))
        .unwrap()
    }

    fn answer(engine: &Engine, compiled: Compiled) -> i32 {
        let Compiled::Module(m) = compiled else {
            panic!("expected a module")
        };
        let mut store = wasmtime::Store::new(engine, ());
        store.set_epoch_deadline(u64::MAX / 4);
        let instance = wasmtime::Instance::new(&mut store, &m, &[]).unwrap();
        let f = instance
            .get_typed_func::<(), i32>(&mut store, "answer")
            .unwrap();
        f.call(&mut store, ()).unwrap()
    }

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("wasmgate-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for sub in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            for e in std::fs::read_dir(sub.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                out.push(e.path());
            }
        }
        out
    }

    #[test]
    fn miss_then_hit_and_a_changed_module_is_a_miss() {
        let dir = tempdir("hit");
        let cache = ModuleCache::new(dir.clone());
        let e = engine(true);
        let (c, o) = cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(1))
            .unwrap();
        assert_eq!((o, answer(&e, c)), (CacheOutcome::Miss, 1));
        let (c, o) = cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(1))
            .unwrap();
        assert_eq!((o, answer(&e, c)), (CacheOutcome::Hit, 1));
        // Different content: its own entry, never the old code.
        let (c, o) = cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(2))
            .unwrap();
        assert_eq!((o, answer(&e, c)), (CacheOutcome::Miss, 2));
        assert_eq!(entries(&dir).len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_engine_setting_that_changes_code_is_a_miss() {
        let dir = tempdir("engine");
        let cache = ModuleCache::new(dir.clone());
        let (with, without) = (engine(true), engine(false));
        let (_, o) = cache
            .load_or_compile(&with, WasmKind::CoreModule, &module(3))
            .unwrap();
        assert_eq!(o, CacheOutcome::Miss);
        let (c, o) = cache
            .load_or_compile(&without, WasmKind::CoreModule, &module(3))
            .unwrap();
        assert_eq!((o, answer(&without, c)), (CacheOutcome::Miss, 3));
        assert_eq!(entries(&dir).len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn corrupted_and_truncated_entries_are_recompiled() {
        let dir = tempdir("corrupt");
        let cache = ModuleCache::new(dir.clone());
        let e = engine(true);
        cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(4))
            .unwrap();
        let entry = entries(&dir).pop().unwrap();
        let mut bytes = std::fs::read(&entry).unwrap();
        // One flipped bit deep in the machine code.
        let at = bytes.len() / 2;
        bytes[at] ^= 0x10;
        std::fs::write(&entry, &bytes).unwrap();
        let (c, o) = cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(4))
            .unwrap();
        assert_eq!((o, answer(&e, c)), (CacheOutcome::Replaced, 4));
        // The rewritten entry is good again.
        let (_, o) = cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(4))
            .unwrap();
        assert_eq!(o, CacheOutcome::Hit);
        for keep in [0, 7, 40, bytes.len() - 1] {
            std::fs::write(&entry, &bytes[..keep]).unwrap();
            let (c, o) = cache
                .load_or_compile(&e, WasmKind::CoreModule, &module(4))
                .unwrap();
            assert_eq!(
                (o, answer(&e, c)),
                (CacheOutcome::Replaced, 4),
                "kept {keep} bytes"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unwritable_cache_directory_still_runs() {
        // Under /proc nothing can be created, not even by root.
        let cache = ModuleCache::new(PathBuf::from("/proc/wasmgate-cache-test"));
        let e = engine(true);
        for _ in 0..2 {
            let (c, o) = cache
                .load_or_compile(&e, WasmKind::CoreModule, &module(5))
                .unwrap();
            assert_eq!((o, answer(&e, c)), (CacheOutcome::NotStored, 5));
        }
    }
}
