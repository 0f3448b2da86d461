//! `--pin`: the whole bench on one CPU. The server, the floor and native clients and every
//! spawned `wasmgate` (or `wasmtime`) child then compete for the same core, so a
//! subject's figure includes the server's share of the CPU just as the floor's does, and
//! the scheduler cannot hide overhead on the other core.

/// Restricts this process to the first CPU of its current affinity mask and returns that
/// CPU's number. Threads and children created afterwards inherit the mask, so call it
/// first thing in `main`, before any thread exists (threads already running keep their
/// own mask).
#[cfg(target_os = "linux")]
pub fn pin_to_first_cpu() -> Result<usize, String> {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: an all-zero `cpu_set_t` is the empty set, a valid value of this C struct.
    let mut current: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `current` is valid for writes of `size` bytes; pid 0 = this thread.
    if unsafe { libc::sched_getaffinity(0, size, &mut current) } != 0 {
        return Err(format!(
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    let max = usize::try_from(libc::CPU_SETSIZE).unwrap_or(1024);
    // SAFETY: `c` < CPU_SETSIZE, within the set.
    let cpu = (0..max)
        .find(|&c| unsafe { libc::CPU_ISSET(c, &current) })
        .ok_or("sched_getaffinity returned an empty CPU set")?;
    // SAFETY: as above.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` < CPU_SETSIZE.
    unsafe { libc::CPU_SET(cpu, &mut one) };
    // SAFETY: `one` is a valid set of `size` bytes; pid 0 = this thread (the only one).
    if unsafe { libc::sched_setaffinity(0, size, &one) } != 0 {
        return Err(format!(
            "sched_setaffinity(CPU {cpu}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(cpu)
}

/// Pinning needs Linux's `sched_setaffinity`.
#[cfg(not(target_os = "linux"))]
pub fn pin_to_first_cpu() -> Result<usize, String> {
    Err("--pin needs Linux (sched_setaffinity)".into())
}
