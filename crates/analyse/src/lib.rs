//! Placeholder: the analysis engine is being written.
