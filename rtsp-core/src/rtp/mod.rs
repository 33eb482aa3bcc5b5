//! rtp (under construction)
