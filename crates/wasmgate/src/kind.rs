//! Telling a core module from a component before compiling it.

use crate::{Error, ErrorKind};

/// What a `.wasm` file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    /// A core module (e.g. `wasm32-wasip1` output).
    CoreModule,
    /// A component (e.g. `wasm32-wasip2` output).
    Component,
}

/// Reads the header. Text-format (`.wat`) input is not accepted: wasmgate runs binaries.
pub fn detect(bytes: &[u8], name: &str) -> Result<WasmKind, Error> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(Error::new(
            ErrorKind::Load,
            format!(
                "{name} is not a WebAssembly binary (it does not start with the `\\0asm` magic bytes); expected a .wasm file built for wasm32-wasip1 or wasm32-wasip2"
            ),
        ));
    }
    if wasmparser::Parser::is_component(bytes) {
        Ok(WasmKind::Component)
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        Ok(WasmKind::CoreModule)
    } else {
        Err(Error::new(
            ErrorKind::Load,
            format!(
                "{name} has an unknown WebAssembly version or layer; expected a core module (version 1) or a component"
            ),
        ))
    }
}
