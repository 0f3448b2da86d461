//! Exported `malloc`/`free`: often kept as a workaround for other hosts' ABIs; wasmgate
//! does not need them.

use crate::inspect::Facts;
use crate::{Context, Finding, Severity};

pub(crate) fn check(f: &Facts, _: &Context) -> Vec<Finding> {
    let Some(m) = f.core() else {
        return Vec::new();
    };
    if !(m.exports("malloc") && m.exports("free")) {
        return Vec::new();
    }
    vec![
        Finding::new(
            "malloc-export",
            Severity::Info,
            "Exports malloc/free: not needed with wasmgate",
            "Some hosts' HTTP ABIs allocate guest memory through exported malloc/free, and TinyGo exports them (by accident in older releases, tinygo#2788 and #3142). wasmgate's ABI copies into buffers the guest passes (snprintf-style) and needs neither; only the optional `fetch` fast path uses an allocator (cabi_realloc preferred, malloc as fallback).",
        )
        .fix("Nothing to change. If you added `//export malloc`/`free` (or -Wl,--export=malloc) only for another host's ABI, you can drop them."),
    ]
}
