//! The pieces of the server that read a request head (and the small bodies
//! read with it) before anyone is authenticated, as a library so that the fuzz
//! targets in `/fuzz` can drive them directly; the binary (`main.rs`) uses them
//! from here.

pub mod addressing;
pub mod forms;
pub mod limits;
