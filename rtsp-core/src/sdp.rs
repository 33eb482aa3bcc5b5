//! SDP (under construction)
