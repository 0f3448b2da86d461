//! One check per file. Each looks at the [`Facts`] (and the user's policy) and returns
//! findings; a check that has nothing to say returns none.

use crate::{Context, Facts, Finding};

mod allocator_exports;
mod go_wasip1;
mod kind;
mod policy;
mod producers;
mod sockets;
mod tinygo_netdev;
mod unknown_imports;
mod wasi_versions;

/// Every check, in the order their findings are listed within a severity.
const CHECKS: &[fn(&Facts, &Context) -> Vec<Finding>] = &[
    tinygo_netdev::check,
    go_wasip1::check,
    wasi_versions::check,
    unknown_imports::check,
    policy::check,
    sockets::check,
    allocator_exports::check,
    kind::check,
    producers::check,
];

pub(crate) fn run_all(facts: &Facts, ctx: &Context) -> Vec<Finding> {
    CHECKS.iter().flat_map(|check| check(facts, ctx)).collect()
}

/// `a, b, c` with at most `max` items, then `and N more`.
pub(crate) fn list(items: &[&str], max: usize) -> String {
    let mut out = items
        .iter()
        .take(max)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        out.push_str(&format!(" and {} more", items.len() - max));
    }
    out
}
