//! The HTTP client every HTTP connector shares, and splitting a byte stream into lines.
//!
//! TLS is rustls with the ring provider only (STACK.md pitfall 4): the provider is installed
//! process-wide on first use, which is harmless when `main` already did it.

use std::time::Duration;

use super::SourceError;

/// Builds the HTTP client: rustls with ring, a connect timeout, Switchboard's user agent.
pub fn client() -> Result<reqwest::Client, SourceError> {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| SourceError::Config(format!("cannot build the HTTP client ({error})")))
}

/// Splits bytes arriving in chunks into lines (without `\r\n` or `\n`).
#[derive(Debug, Default)]
pub struct Lines {
    buffer: Vec<u8>,
}

impl Lines {
    /// Adds a chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next complete line, if one has arrived.
    pub fn next_line(&mut self) -> Option<String> {
        let end = self.buffer.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(String::from_utf8_lossy(&line).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_chunks() {
        let mut lines = Lines::default();
        lines.push(b"ab");
        assert_eq!(lines.next_line(), None);
        lines.push(b"c\r\n\r\nd\n");
        assert_eq!(lines.next_line().as_deref(), Some("abc"));
        assert_eq!(lines.next_line().as_deref(), Some(""));
        assert_eq!(lines.next_line().as_deref(), Some("d"));
        assert_eq!(lines.next_line(), None);
    }
}
