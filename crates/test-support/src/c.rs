//! (filled in by the guest-library work)
