//! Command-line quantities: shared with the server (`strongbox_core::units`).

pub use strongbox_core::units::*;
