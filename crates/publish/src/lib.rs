//! Publishing (in progress).
