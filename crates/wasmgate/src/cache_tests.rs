//! Unit tests of the compiled-code cache: keys, checksums, eviction.

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
    cache_entries(dir)
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect()
}

#[test]
fn miss_then_hit_and_a_changed_module_is_a_miss() {
    let dir = tempdir("hit");
    let cache = ModuleCache::new(dir.clone(), DEFAULT_CACHE_MAX_SIZE);
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
    let cache = ModuleCache::new(dir.clone(), DEFAULT_CACHE_MAX_SIZE);
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
    let cache = ModuleCache::new(dir.clone(), DEFAULT_CACHE_MAX_SIZE);
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
    let cache = ModuleCache::new(
        PathBuf::from("/proc/wasmgate-cache-test"),
        DEFAULT_CACHE_MAX_SIZE,
    );
    let e = engine(true);
    for _ in 0..2 {
        let (c, o) = cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(5))
            .unwrap();
        assert_eq!((o, answer(&e, c)), (CacheOutcome::NotStored, 5));
    }
}

/// Sets an entry's last use `secs` seconds into the past.
fn age(path: &Path, secs: u64) {
    let f = std::fs::File::options().append(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn the_least_recently_used_entries_are_evicted_past_the_cap() {
    let dir = tempdir("lru");
    let e = engine(true);
    let big = ModuleCache::new(dir.clone(), DEFAULT_CACHE_MAX_SIZE);
    let mut paths = Vec::new();
    for (i, n) in [10, 11, 12].into_iter().enumerate() {
        big.load_or_compile(&e, WasmKind::CoreModule, &module(n))
            .unwrap();
        let key = ModuleCache::key(&e, WasmKind::CoreModule, &module(n));
        let p = big.entry(&key);
        // 10 is the oldest, 12 the newest.
        age(&p, 100 - 10 * i as u64);
        paths.push(p);
    }
    // A hit makes 10 the most recently used.
    let (_, o) = big
        .load_or_compile(&e, WasmKind::CoreModule, &module(10))
        .unwrap();
    assert_eq!(o, CacheOutcome::Hit);
    let listed = cache_entries(&dir).unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].path, paths[0], "the hit is listed first");
    let size: u64 = listed.iter().map(|e| e.size).sum();
    let one = listed[0].size;

    // Room for the three, less a little: storing a fourth evicts 11 then 12 (the least
    // recently used), never the entry just stored nor the one just hit.
    let small = ModuleCache::new(dir.clone(), size);
    let (c, o) = small
        .load_or_compile(&e, WasmKind::CoreModule, &module(13))
        .unwrap();
    assert_eq!((o, answer(&e, c)), (CacheOutcome::Miss, 13));
    let left: Vec<PathBuf> = cache_entries(&dir)
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert!(left.contains(&paths[0]), "the recently hit entry stays");
    assert!(!left.contains(&paths[1]), "the oldest entry goes first");
    let total: u64 = cache_entries(&dir).unwrap().iter().map(|e| e.size).sum();
    assert!(total <= size, "{total} > {size}");
    assert!(left.len() == 3 || left.len() == 2, "{left:?}");

    // An entry larger than the whole cache is not stored, and evicts nothing.
    let tiny = ModuleCache::new(dir.clone(), one / 2);
    let before = cache_entries(&dir).unwrap();
    let (c, o) = tiny
        .load_or_compile(&e, WasmKind::CoreModule, &module(14))
        .unwrap();
    assert_eq!((o, answer(&e, c)), (CacheOutcome::NotStored, 14));
    assert_eq!(cache_entries(&dir).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clear_removes_every_entry_and_nothing_else() {
    let dir = tempdir("clear");
    let e = engine(true);
    let cache = ModuleCache::new(dir.clone(), DEFAULT_CACHE_MAX_SIZE);
    for n in [20, 21] {
        cache
            .load_or_compile(&e, WasmKind::CoreModule, &module(n))
            .unwrap();
    }
    // Not an entry: left alone by listing and clearing.
    let other = dir.join("ab").join(".tmp-123-0");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::write(&other, b"partial").unwrap();
    let listed = cache_entries(&dir).unwrap();
    assert_eq!(listed.len(), 2);
    let (n, bytes) = clear_cache(&dir).unwrap();
    assert_eq!((n, bytes), (2, listed.iter().map(|e| e.size).sum()));
    assert!(cache_entries(&dir).unwrap().is_empty());
    assert!(other.is_file());
    // A directory that does not exist is an empty cache.
    assert_eq!(clear_cache(&dir.join("nope")).unwrap(), (0, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_entry_in_the_old_layout_is_replaced() {
    // WGCACHE1 put MAGIC and the checksum in front of the artifact.
    let dir = tempdir("old-layout");
    let cache = ModuleCache::new(dir.clone(), DEFAULT_CACHE_MAX_SIZE);
    let e = engine(true);
    cache
        .load_or_compile(&e, WasmKind::CoreModule, &module(5))
        .unwrap();
    let entry = entries(&dir).pop().unwrap();
    let stored = std::fs::read(&entry).unwrap();
    let artifact = &stored[..stored.len() - TRAILER];
    let mut old = b"WGCACHE1".to_vec();
    old.extend_from_slice(&Sha256::digest(artifact));
    old.extend_from_slice(artifact);
    std::fs::write(&entry, &old).unwrap();
    let (c, o) = cache
        .load_or_compile(&e, WasmKind::CoreModule, &module(5))
        .unwrap();
    assert_eq!((o, answer(&e, c)), (CacheOutcome::Replaced, 5));
    let _ = std::fs::remove_dir_all(&dir);
}
