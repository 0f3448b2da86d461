//! One module per subcommand.

pub(crate) mod cache;
pub(crate) mod doctor;
pub(crate) mod egress_flags;
pub(crate) mod guest_flags;
pub(crate) mod run;
pub(crate) mod serve;
pub(crate) mod tape_flags;
