//! media (under construction)
