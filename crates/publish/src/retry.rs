//! Retries with exponential backoff, honouring the server's `Retry-After` (seconds or an HTTP
//! date), Mastodon's `X-RateLimit-Reset` (an ISO 8601 time), and X's `x-rate-limit-reset` and
//! Bluesky's `ratelimit-reset` (Unix seconds).

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::HeaderMap;

/// How to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff; doubled after each failure.
    pub base_delay: Duration,
    /// The longest wait, also for a server-given wait.
    pub max_delay: Duration,
    /// The timeout of one request.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after a failure with these response headers.
    pub fn delay(&self, attempt: u32, headers: Option<&HeaderMap>) -> Duration {
        let server = headers.and_then(server_delay);
        let backoff = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        server.unwrap_or(backoff).min(self.max_delay)
    }
}

/// The wait the server asked for, if any.
fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    if let Some(v) = headers.get("retry-after").and_then(|v| v.to_str().ok()) {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = jiff::fmt::rfc2822::parse(v.trim()) {
            let secs = Timestamp::now().duration_until(at.timestamp()).as_secs();
            return Some(Duration::from_secs(secs.max(0).unsigned_abs()));
        }
    }
    // Mastodon: `X-RateLimit-Reset` is an ISO 8601 time.
    if let Some(at) = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<Timestamp>().ok())
    {
        let secs = Timestamp::now().duration_until(at).as_secs();
        return Some(Duration::from_secs(secs.max(0).unsigned_abs()));
    }
    // X: `x-rate-limit-reset`; Bluesky: `ratelimit-reset`; both Unix seconds.
    let reset = ["x-rate-limit-reset", "ratelimit-reset"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())?;
    let secs = reset - Timestamp::now().as_second();
    Some(Duration::from_secs(secs.max(0).unsigned_abs()))
}

/// Whether a status is worth retrying.
pub(crate) fn retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn backoff_and_server_waits() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(1, None), Duration::from_millis(100));
        assert_eq!(p.delay(3, None), Duration::from_millis(400));
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(p.delay(1, Some(&h)), Duration::from_secs(3));
        let mut h = HeaderMap::new();
        let reset = (Timestamp::now().as_second() + 5).to_string();
        h.insert("x-rate-limit-reset", HeaderValue::from_str(&reset).unwrap());
        assert!(p.delay(1, Some(&h)) >= Duration::from_secs(4));
        let mut m = HeaderMap::new();
        let at = Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(6))
            .unwrap()
            .to_string();
        m.insert("x-ratelimit-reset", HeaderValue::from_str(&at).unwrap());
        let wait = p.delay(1, Some(&m));
        assert!(
            wait >= Duration::from_secs(5) && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        let mut b = HeaderMap::new();
        let reset = (Timestamp::now().as_second() + 3).to_string();
        b.insert("ratelimit-reset", HeaderValue::from_str(&reset).unwrap());
        assert!(p.delay(1, Some(&b)) >= Duration::from_secs(2));
        h.insert("retry-after", HeaderValue::from_static("9999"));
        assert_eq!(p.delay(1, Some(&h)), Duration::from_secs(10));
    }
}
