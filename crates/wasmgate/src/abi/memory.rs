//! Bounds-checked access to the guest's linear memory. Every pointer/length pair from
//! the guest passes through here before a byte is read or written.

use super::CoreState;
use super::codes::ERR_BAD_POINTER;
use std::ops::Range;
use wasmtime::{Caller, Extern};

/// A failed call: the status code and the message `last_error` will return.
pub(crate) type CallError = (i32, String);

/// The byte range `ptr..ptr+len` if it lies inside a memory of `size` bytes. Both values
/// are unsigned 32-bit offsets; a sum that overflows is out of bounds.
pub(crate) fn checked_range(ptr: i32, len: i32, size: usize) -> Option<Range<usize>> {
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    if len == 0 {
        return Some(0..0);
    }
    let end = ptr.checked_add(len)?;
    (end <= size).then_some(ptr..end)
}

/// The guest's `memory` export, looked up by name once and then kept: every buffer of
/// every ABI call passes through here, and a lookup by name cost more than the copy.
fn memory(caller: &mut Caller<'_, CoreState>) -> Result<wasmtime::Memory, CallError> {
    if let Some(m) = caller.data().abi.memory {
        return Ok(m);
    }
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => {
            caller.data_mut().abi.memory = Some(m);
            Ok(m)
        }
        _ => Err((
            ERR_BAD_POINTER,
            "the module exports no `memory`, so the host cannot read or write its buffers".into(),
        )),
    }
}

/// The guest memory's current size in bytes.
pub(crate) fn size(caller: &mut Caller<'_, CoreState>) -> Result<usize, CallError> {
    let mem = memory(caller)?;
    Ok(mem.data_size(&*caller))
}

fn out_of_bounds(what: &str, ptr: i32, len: i32, size: usize) -> CallError {
    (
        ERR_BAD_POINTER,
        format!(
            "{what}: the buffer at {:#x} of {} bytes lies outside guest memory ({size} bytes)",
            ptr as u32, len as u32
        ),
    )
}

/// Copies `len` bytes at `ptr` out of guest memory.
pub(crate) fn read(
    caller: &mut Caller<'_, CoreState>,
    what: &str,
    ptr: i32,
    len: i32,
) -> Result<Vec<u8>, CallError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let mem = memory(caller)?;
    let data = mem.data(&*caller);
    let range = checked_range(ptr, len, data.len())
        .ok_or_else(|| out_of_bounds(what, ptr, len, data.len()))?;
    Ok(data[range].to_vec())
}

/// Copies `bytes` into guest memory at `ptr`, which must have room for all of them.
pub(crate) fn write(
    caller: &mut Caller<'_, CoreState>,
    what: &str,
    ptr: i32,
    bytes: &[u8],
) -> Result<(), CallError> {
    if bytes.is_empty() {
        return Ok(());
    }
    let len = i32::try_from(bytes.len()).map_err(|_| out_of_bounds(what, ptr, -1, 0))?;
    let mem = memory(caller)?;
    let data = mem.data_mut(&mut *caller);
    let size = data.len();
    let range = checked_range(ptr, len, size).ok_or_else(|| out_of_bounds(what, ptr, len, size))?;
    data[range].copy_from_slice(bytes);
    Ok(())
}

/// Checks that a guest buffer of `cap` bytes at `ptr` is writable, before any work.
pub(crate) fn check_buffer(
    caller: &mut Caller<'_, CoreState>,
    what: &str,
    ptr: i32,
    cap: i32,
) -> Result<(), CallError> {
    if cap == 0 {
        return Ok(());
    }
    let size = size(caller)?;
    checked_range(ptr, cap, size)
        .map(|_| ())
        .ok_or_else(|| out_of_bounds(what, ptr, cap, size))
}

#[cfg(test)]
mod tests {
    use super::checked_range;

    #[test]
    fn ranges_are_checked_as_unsigned_without_overflow() {
        let size = 65536;
        assert_eq!(checked_range(0, 0, size), Some(0..0));
        assert_eq!(checked_range(-1, 0, size), Some(0..0));
        assert_eq!(checked_range(10, 20, size), Some(10..30));
        assert_eq!(checked_range(65530, 6, size), Some(65530..65536));
        assert_eq!(checked_range(65530, 7, size), None);
        assert_eq!(checked_range(-16, 32, size), None); // 0xFFFFFFF0 + 32 wraps in 32 bits
        assert_eq!(checked_range(0, -1, size), None); // length 0xFFFFFFFF
        assert_eq!(checked_range(i32::MAX, i32::MAX, size), None);
    }
}
