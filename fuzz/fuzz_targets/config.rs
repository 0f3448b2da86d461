//! The config file: TOML → ConfigFile → the validated plan of `wasmgate run`, on any
//! text. Never panics; an error is a message (what the user would see).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(msg) = wasmgate_cli::check_config_text(text) {
            assert!(!msg.is_empty());
        }
    }
});
