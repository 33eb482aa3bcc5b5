//! The C ABI (under construction).
