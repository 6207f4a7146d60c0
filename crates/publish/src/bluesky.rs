//! Bluesky (AT Protocol): `com.atproto.server.createSession`, then
//! `com.atproto.repo.createRecord` of an `app.bsky.feed.post` with `reply` root/parent strong
//! references and facets for links, mentions (handles resolved to DIDs with
//! `com.atproto.identity.resolveHandle`) and tags, at UTF-8 byte offsets.
//!
//! The record key is a TID derived from the draft (its creation time and a hash of its key), so
//! every attempt writes the same record: a retry after a lost response either finds the record
//! (`com.atproto.repo.getRecord`, checked before each retry) or is refused as a duplicate, never
//! posted twice.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use tracing::warn;

use crate::{
    Outgoing, PublishError, Published,
    retry::{RetryPolicy, retryable},
};

const COLLECTION: &str = "app.bsky.feed.post";

/// A strong reference to a record: its at-uri and content id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrongRef {
    /// `at://did/app.bsky.feed.post/rkey`.
    pub uri: String,
    /// The record's CID.
    pub cid: String,
}

#[derive(Debug, Clone)]
struct Session {
    access_jwt: String,
    did: String,
}

/// A Bluesky account to post as.
#[derive(Debug)]
pub struct Bluesky {
    base: String,
    identifier: String,
    password: String,
    http: reqwest::Client,
    policy: RetryPolicy,
    session: Mutex<Option<Session>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionResponse {
    access_jwt: String,
    did: String,
}

#[derive(Debug, Deserialize)]
struct XrpcError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

enum Attempt {
    Done(Published),
    Retry(String, Option<reqwest::header::HeaderMap>),
}

/// The 32 characters of base32-sortable, used by TIDs.
const S32: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A TID (13 characters) for a time in microseconds and a 10-bit clock id.
pub fn tid(micros: i64, clock_id: u16) -> String {
    let v: u64 =
        ((micros.max(0).unsigned_abs() & ((1 << 53) - 1)) << 10) | u64::from(clock_id & 0x3FF);
    (0..13)
        .rev()
        .map(|i| {
            char::from(
                S32.get(((v >> (i * 5)) & 31) as usize)
                    .copied()
                    .unwrap_or(b'2'),
            )
        })
        .collect()
}

/// The record key of an outgoing post: the same for every attempt.
pub fn record_key(post: &Outgoing) -> String {
    let h = Sha256::digest(post.key.as_bytes());
    let clock = u16::from_be_bytes([
        h.first().copied().unwrap_or(0),
        h.get(1).copied().unwrap_or(0),
    ]);
    tid(post.created_at.as_microsecond(), clock)
}

/// A facet found in the text, before mentions are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FacetKind {
    /// A link to this URI.
    Link(String),
    /// A mention of this handle.
    Mention(String),
    /// A hashtag (without `#`).
    Tag(String),
}

/// Links, mentions and tags of a text with their UTF-8 byte ranges.
pub fn find_facets(text: &str) -> Vec<(usize, usize, FacetKind)> {
    let mut out = Vec::new();
    let patterns = [
        r"https?://[^\s]+[^\s.,;:!?)\]]",
        r"(?:^|[\s(])(@([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)",
        r"(?:^|\s)(#[^\d\s[:punct:]][^\s[:punct:]]*)",
    ];
    for (k, p) in patterns.iter().enumerate() {
        let Ok(re) = Regex::new(p) else { continue };
        for c in re.captures_iter(text) {
            let m = if k == 0 { c.get(0) } else { c.get(1) };
            let Some(m) = m else { continue };
            let s = m.as_str();
            let kind = match k {
                0 => FacetKind::Link(s.to_owned()),
                1 => FacetKind::Mention(s.trim_start_matches('@').to_owned()),
                _ => FacetKind::Tag(s.trim_start_matches('#').to_owned()),
            };
            out.push((m.start(), m.end(), kind));
        }
    }
    out.sort_by_key(|f| f.0);
    out
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Bluesky {
    /// A client for the PDS at `base` (`https://bsky.social`) with a handle and app password.
    pub fn new(
        base: &str,
        identifier: &str,
        password: &str,
        policy: RetryPolicy,
    ) -> Result<Bluesky, PublishError> {
        Ok(Bluesky {
            base: base.trim_end_matches('/').to_owned(),
            identifier: identifier.to_owned(),
            password: password.to_owned(),
            http: crate::http_client(policy.timeout)?,
            policy,
            session: Mutex::new(None),
        })
    }

    /// A client from `SWITCHBOARD_BLUESKY_PDS` (default `https://bsky.social`),
    /// `SWITCHBOARD_BLUESKY_HANDLE` and `SWITCHBOARD_BLUESKY_APP_PASSWORD`.
    pub fn from_env() -> Result<Bluesky, PublishError> {
        let var = |k: &str| {
            std::env::var(k)
                .map_err(|_| PublishError::Config(format!("set {k} to post to Bluesky")))
        };
        let base = std::env::var("SWITCHBOARD_BLUESKY_PDS")
            .unwrap_or_else(|_| "https://bsky.social".into());
        Bluesky::new(
            &base,
            &var("SWITCHBOARD_BLUESKY_HANDLE")?,
            &var("SWITCHBOARD_BLUESKY_APP_PASSWORD")?,
            RetryPolicy::default(),
        )
    }

    fn xrpc(&self, method: &str) -> String {
        format!("{}/xrpc/{method}", self.base)
    }

    async fn session(&self) -> Result<Session, PublishError> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let mut last = String::new();
        for attempt in 1..=self.policy.max_attempts {
            let sent = self
                .http
                .post(self.xrpc("com.atproto.server.createSession"))
                .json(&json!({ "identifier": self.identifier, "password": self.password }))
                .send()
                .await;
            let r = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(self.policy.delay(attempt, None)).await;
                    continue;
                }
            };
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let text = r.text().await.unwrap_or_default();
            if (200..300).contains(&status) {
                let s: SessionResponse =
                    serde_json::from_str(&text).map_err(|e| PublishError::Unauthorized {
                        network: "bluesky",
                        message: format!("unexpected session response ({e})"),
                    })?;
                let s = Session {
                    access_jwt: s.access_jwt,
                    did: s.did,
                };
                *guard = Some(s.clone());
                return Ok(s);
            }
            let e: XrpcError = serde_json::from_str(&text).unwrap_or(XrpcError {
                error: String::new(),
                message: text,
            });
            if !retryable(status) {
                return Err(PublishError::Unauthorized {
                    network: "bluesky",
                    message: format!("{}: {}", e.error, e.message),
                });
            }
            last = format!("HTTP {status}");
            tokio::time::sleep(self.policy.delay(attempt, Some(&headers))).await;
        }
        Err(PublishError::GaveUp {
            network: "bluesky",
            attempts: self.policy.max_attempts,
            last,
        })
    }

    /// Resolves a handle to its DID (`None` when the handle is unknown).
    pub async fn resolve_handle(&self, handle: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct Resolved {
            did: String,
        }
        let url = format!(
            "{}?handle={}",
            self.xrpc("com.atproto.identity.resolveHandle"),
            encode(handle)
        );
        let r = self.http.get(url).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json::<Resolved>().await.ok().map(|r| r.did)
    }

    /// The facets of a text as Bluesky expects them; mentions of unknown handles stay plain.
    pub async fn facets(&self, text: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for (start, end, kind) in find_facets(text) {
            let feature = match kind {
                FacetKind::Link(uri) => {
                    json!({ "$type": "app.bsky.richtext.facet#link", "uri": uri })
                }
                FacetKind::Tag(tag) => {
                    json!({ "$type": "app.bsky.richtext.facet#tag", "tag": tag })
                }
                FacetKind::Mention(handle) => match self.resolve_handle(&handle).await {
                    Some(did) => json!({ "$type": "app.bsky.richtext.facet#mention", "did": did }),
                    None => continue,
                },
            };
            out.push(
                json!({ "index": { "byteStart": start, "byteEnd": end }, "features": [feature] }),
            );
        }
        out
    }

    /// The record at `rkey` in our repository, if it exists.
    async fn existing(&self, session: &Session, rkey: &str) -> Option<StrongRef> {
        let url = format!(
            "{}?repo={}&collection={COLLECTION}&rkey={}",
            self.xrpc("com.atproto.repo.getRecord"),
            encode(&session.did),
            encode(rkey)
        );
        let r = self
            .http
            .get(url)
            .bearer_auth(&session.access_jwt)
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json::<StrongRef>().await.ok()
    }

    /// The root and parent strong references for a reply to the post at `uri`
    /// (`at://did/app.bsky.feed.post/rkey`), read with `com.atproto.repo.getRecord`.
    pub async fn reply_refs(&self, uri: &str) -> Result<(StrongRef, StrongRef), PublishError> {
        match self.reply_refs_unredacted(uri).await {
            Ok(refs) => Ok(refs),
            Err(error) => Err(self.redacted(error).await),
        }
    }

    async fn reply_refs_unredacted(
        &self,
        uri: &str,
    ) -> Result<(StrongRef, StrongRef), PublishError> {
        #[derive(Deserialize)]
        struct Got {
            uri: String,
            cid: String,
            #[serde(default)]
            value: Value,
        }
        let parts: Vec<&str> = uri.trim_start_matches("at://").split('/').collect();
        let (Some(repo), Some(collection), Some(rkey)) =
            (parts.first(), parts.get(1), parts.get(2))
        else {
            return Err(PublishError::Rejected {
                network: "bluesky",
                status: 400,
                message: format!("`{uri}` is not an at:// post address"),
            });
        };
        let url = format!(
            "{}?repo={}&collection={}&rkey={}",
            self.xrpc("com.atproto.repo.getRecord"),
            encode(repo),
            encode(collection),
            encode(rkey)
        );
        let not_found = |message: String| PublishError::Rejected {
            network: "bluesky",
            status: 404,
            message,
        };
        let r = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| not_found(format!("cannot read the post replied to: {e}")))?;
        if !r.status().is_success() {
            return Err(not_found(format!(
                "the post replied to ({uri}) was not found"
            )));
        }
        let got: Got = r
            .json()
            .await
            .map_err(|e| not_found(format!("unexpected getRecord response: {e}")))?;
        let parent = StrongRef {
            uri: got.uri,
            cid: got.cid,
        };
        let root = serde_json::from_value::<StrongRef>(got.value["reply"]["root"].clone())
            .unwrap_or_else(|_| parent.clone());
        Ok((root, parent))
    }

    /// Posts, as a reply when `reply` gives the thread's root and the parent. Neither the app
    /// password nor the session token ever appears in an error.
    pub async fn post(
        &self,
        post: &Outgoing,
        reply: Option<(&StrongRef, &StrongRef)>,
    ) -> Result<Published, PublishError> {
        match self.post_unredacted(post, reply).await {
            Ok(published) => Ok(published),
            Err(error) => Err(self.redacted(error).await),
        }
    }

    /// `error` with this account's secrets taken out.
    async fn redacted(&self, error: PublishError) -> PublishError {
        let session = self.session.lock().await.clone();
        let token = session
            .map(|session| session.access_jwt)
            .unwrap_or_default();
        error.redacted(&[&self.password, &token])
    }

    async fn post_unredacted(
        &self,
        post: &Outgoing,
        reply: Option<(&StrongRef, &StrongRef)>,
    ) -> Result<Published, PublishError> {
        let rkey = record_key(post);
        let mut record = json!({
            "$type": COLLECTION,
            "text": post.text,
            "createdAt": post.created_at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        });
        let facets = self.facets(&post.text).await;
        if !facets.is_empty() {
            record["facets"] = Value::Array(facets);
        }
        if let Some((root, parent)) = reply {
            record["reply"] = json!({ "root": root, "parent": parent });
        }
        let mut last = String::new();
        let mut ambiguous = post.resumed;
        let mut refreshed = false;
        let mut attempt = 0;
        while attempt < self.policy.max_attempts {
            attempt += 1;
            let session = self.session().await?;
            if ambiguous && let Some(found) = self.existing(&session, &rkey).await {
                return Ok(Published {
                    id: found.uri,
                    url: None,
                    cid: Some(found.cid),
                    attempts: attempt,
                    recovered: true,
                });
            }
            match self.create(&session, &rkey, &record, attempt).await {
                Ok(Attempt::Done(p)) => return Ok(p),
                Ok(Attempt::Retry(why, headers)) => {
                    ambiguous = true;
                    last = why;
                    warn!(network = "bluesky", attempt, reason = %last, "Create failed; retrying with the same record key.");
                    if attempt < self.policy.max_attempts {
                        tokio::time::sleep(self.policy.delay(attempt, headers.as_ref())).await;
                    }
                }
                Err(PublishError::Unauthorized { message, .. })
                    if !refreshed && message.contains("ExpiredToken") =>
                {
                    refreshed = true;
                    attempt -= 1;
                    *self.session.lock().await = None;
                }
                Err(PublishError::Rejected { message, .. })
                    if message.contains("already exists") =>
                {
                    if let Some(found) = self.existing(&session, &rkey).await {
                        return Ok(Published {
                            id: found.uri,
                            url: None,
                            cid: Some(found.cid),
                            attempts: attempt,
                            recovered: true,
                        });
                    }
                    return Err(PublishError::Rejected {
                        network: "bluesky",
                        status: 409,
                        message,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Err(PublishError::GaveUp {
            network: "bluesky",
            attempts: self.policy.max_attempts,
            last,
        })
    }

    async fn create(
        &self,
        session: &Session,
        rkey: &str,
        record: &Value,
        attempt: u32,
    ) -> Result<Attempt, PublishError> {
        let body = json!({ "repo": session.did, "collection": COLLECTION, "rkey": rkey, "record": record });
        let sent = self
            .http
            .post(self.xrpc("com.atproto.repo.createRecord"))
            .bearer_auth(&session.access_jwt)
            .json(&body)
            .send()
            .await;
        let r = match sent {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Retry(format!("request failed: {e}"), None)),
        };
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            let s: StrongRef = serde_json::from_str(&text).map_err(|e| PublishError::Rejected {
                network: "bluesky",
                status,
                message: format!("unexpected response ({e})"),
            })?;
            return Ok(Attempt::Done(Published {
                id: s.uri,
                url: None,
                cid: Some(s.cid),
                attempts: attempt,
                recovered: false,
            }));
        }
        let e: XrpcError = serde_json::from_str(&text).unwrap_or(XrpcError {
            error: String::new(),
            message: text.chars().take(200).collect(),
        });
        let message = format!("{}: {}", e.error, e.message);
        if retryable(status) {
            return Ok(Attempt::Retry(
                format!("HTTP {status} {message}"),
                Some(headers),
            ));
        }
        if status == 401
            || e.error == "ExpiredToken"
            || e.error == "AuthenticationRequired"
            || e.error == "InvalidToken"
        {
            return Err(PublishError::Unauthorized {
                network: "bluesky",
                message,
            });
        }
        Err(PublishError::Rejected {
            network: "bluesky",
            status,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tids_are_13_sortable_characters() {
        let a = tid(1_700_000_000_000_000, 5);
        let b = tid(1_700_000_000_000_001, 5);
        assert_eq!(a.len(), 13);
        assert!(a < b);
        assert!(a.starts_with(|c: char| "234567abcdefghij".contains(c)));
    }

    #[test]
    fn facets_use_utf8_byte_offsets() {
        let text = "Café ☕ news: https://nhs.uk/x #MentalHealth thanks @sam.bsky.social!";
        let f = find_facets(text);
        let (s, e, k) = &f[0];
        assert_eq!(&text[*s..*e], "https://nhs.uk/x");
        assert_eq!(*s, "Café ☕ news: ".len());
        assert_eq!(*k, FacetKind::Link("https://nhs.uk/x".into()));
        assert_eq!(f[1].2, FacetKind::Tag("MentalHealth".into()));
        assert_eq!(&text[f[2].0..f[2].1], "@sam.bsky.social");
        assert_eq!(f[2].2, FacetKind::Mention("sam.bsky.social".into()));
    }
}
