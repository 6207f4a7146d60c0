//! Placeholder: the store is being written.
