//! jpeg (under construction)
