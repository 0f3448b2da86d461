//! One module per subcommand.

pub(crate) mod cache;
pub(crate) mod doctor;
pub(crate) mod run;
