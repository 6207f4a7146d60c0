//! The publishing clients against local servers on 127.0.0.1 that implement the documented
//! requests and responses of Mastodon, Bluesky and X, errors included, counting the posts each
//! one creates.

#[cfg(test)]
mod tests {
    use std::{
        collections::{HashMap, VecDeque},
        sync::{Arc, Mutex},
        time::{Duration, Instant},
    };

    use axum::{
        Json, Router,
        extract::{Path, Query, State},
        http::{HeaderMap, StatusCode},
        response::{IntoResponse, Response},
        routing::{get, post},
    };
    use jiff::Timestamp;
    use publish::{Bluesky, Mastodon, Outgoing, PublishError, RetryPolicy, StrongRef, X};
    use serde_json::{Value, json};

    /// What the fake server does with the next create request.
    #[derive(Debug, Clone, Copy)]
    enum Next {
        /// Creates the post and answers normally.
        Ok,
        /// Answers with this status and creates nothing.
        Fail(u16),
        /// Answers 429 with `Retry-After: 1` (or X's reset header).
        RateLimited,
        /// Creates the post, then answers with this status (the response is "lost").
        CreateThenFail(u16),
        /// Bluesky: answers 400 `ExpiredToken` (the access token timed out).
        Expired,
    }

    #[derive(Default)]
    struct Fake {
        script: VecDeque<Next>,
        /// Created posts: (id, body).
        posts: Vec<(String, Value)>,
        /// Mastodon: idempotency key -> response.
        keys: HashMap<String, Value>,
        /// Bluesky: rkey -> (uri, cid).
        records: HashMap<String, (String, String)>,
        requests: u32,
        /// Bluesky: sessions created.
        sessions: u32,
    }

    type Shared = Arc<Mutex<Fake>>;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(3),
            timeout: Duration::from_secs(5),
        }
    }

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        format!("http://{addr}")
    }

    fn outgoing(key: &str, text: &str) -> Outgoing {
        Outgoing {
            key: key.into(),
            text: text.into(),
            created_at: Timestamp::from_second(1_767_225_600).unwrap(),
            resumed: false,
        }
    }

    fn fail(status: u16, body: Value) -> Response {
        (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
    }

    fn next(fake: &mut Fake) -> Next {
        fake.requests += 1;
        fake.script.pop_front().unwrap_or(Next::Ok)
    }

    // --- Mastodon -------------------------------------------------------------------------

    async fn statuses(
        State(s): State<Shared>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Response {
        let mut f = s.lock().unwrap();
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer good") {
            f.requests += 1;
            return fail(401, json!({"error": "The access token is invalid"}));
        }
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if let Some(first) = f.keys.get(&key).cloned() {
            f.requests += 1;
            return (StatusCode::OK, Json(first)).into_response();
        }
        let text = body["status"].as_str().unwrap_or_default().to_owned();
        if text.is_empty() || text.chars().count() > 500 {
            f.requests += 1;
            return fail(
                422,
                json!({"error": "Validation failed: Text character limit of 500 exceeded"}),
            );
        }
        let n = next(&mut f);
        let create = |f: &mut Fake| {
            let id = format!("11{}", f.posts.len() + 1);
            let status = json!({"id": id, "url": format!("https://nhs.social/@trust/{id}"), "content": text, "in_reply_to_id": body["in_reply_to_id"]});
            f.posts.push((id, status.clone()));
            if !key.is_empty() {
                f.keys.insert(key.clone(), status.clone());
            }
            status
        };
        match n {
            Next::Ok => (StatusCode::OK, Json(create(&mut f))).into_response(),
            Next::Fail(code) => fail(code, json!({"error": "Internal server error"})),
            Next::Expired => fail(400, json!({"error": "Bad request"})),
            Next::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(json!({"error": "Too many requests"})),
            )
                .into_response(),
            Next::CreateThenFail(code) => {
                create(&mut f);
                fail(code, json!({"error": "Bad gateway"}))
            }
        }
    }

    async fn mastodon(script: &[Next]) -> (Shared, String) {
        let state: Shared = Arc::new(Mutex::new(Fake {
            script: script.iter().copied().collect(),
            ..Fake::default()
        }));
        let app = Router::new()
            .route("/api/v1/statuses", post(statuses))
            .with_state(state.clone());
        (state.clone(), serve(app).await)
    }

    /// Answers every request with `status` and a body that echoes what the client sent: its
    /// Authorization header and JSON body, as careless or hostile servers do.
    async fn echo(status: u16) -> String {
        let reply = move |headers: HeaderMap, body: String| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let text = format!("Unauthorised request. You sent: {auth} with {body}");
            fail(
                status,
                json!({"error": text, "message": text, "detail": text}),
            )
        };
        serve(Router::new().fallback(reply)).await
    }

    #[tokio::test]
    async fn upstream_errors_that_echo_the_access_token_are_redacted() {
        // Issue 14, finding 11: an upstream error body that echoed the access token was stored
        // and shown on the draft page.
        let token = "mastodon-secret-token-0123456789";
        for status in [401, 422, 503] {
            let base = echo(status).await;
            let mastodon = Mastodon::new(&base, token, policy()).unwrap();
            let error = mastodon
                .post(&outgoing("d1", "Hello"), None)
                .await
                .unwrap_err();
            let shown = error.to_string();
            assert!(!shown.contains(token), "mastodon {status}: {shown}");
            assert!(shown.contains("[redacted]"), "mastodon {status}: {shown}");

            let x_token = "x-bearer-token-AAAAAAAAAAAAAAAAAAAAA";
            let x = X::new(&base, x_token, policy()).unwrap();
            let shown = x
                .post(&outgoing("d2", "Hello"), None)
                .await
                .unwrap_err()
                .to_string();
            assert!(!shown.contains(x_token), "x {status}: {shown}");
        }
        let base = echo(401).await;
        let password = "abcd-efgh-ijkl-mnop";
        let bluesky = Bluesky::new(&base, "trust.bsky.social", password, policy()).unwrap();
        let shown = bluesky
            .post(&outgoing("d3", "Hello"), None)
            .await
            .unwrap_err()
            .to_string();
        assert!(!shown.contains(password), "bluesky: {shown}");
        assert!(shown.contains("[redacted]"), "bluesky: {shown}");
        // Tokens of the common shapes are redacted even when the client does not know them.
        let shown = publish::redact_secrets(
            "GET /me?access_token=EAAGm0PX4ZCpsBAJ2cmC8 failed; Bearer abc.def-ghi; \
             jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjIn0.c2lnbmF0dXJl",
            &[],
        );
        assert!(!shown.contains("EAAGm0PX4ZCpsBAJ2cmC8"), "{shown}");
        assert!(!shown.contains("abc.def-ghi"), "{shown}");
        assert!(!shown.contains("eyJzdWIiOiJkaWQ6cGxjIn0"), "{shown}");
    }

    #[tokio::test]
    async fn mastodon_reply_is_posted_once_with_its_reply_id() {
        let (state, base) = mastodon(&[]).await;
        let client = Mastodon::new(&base, "good", policy()).unwrap();
        let p = client
            .post(&outgoing("d1", "Hi Pat, so sorry. ^Sam"), Some("109"))
            .await
            .unwrap();
        let f = state.lock().unwrap();
        assert_eq!(f.posts.len(), 1);
        assert_eq!(f.posts[0].1["in_reply_to_id"], "109");
        assert_eq!(p.id, f.posts[0].0);
        assert_eq!(p.attempts, 1);
    }

    #[tokio::test]
    async fn mastodon_retries_500_and_429_with_retry_after() {
        let (state, base) = mastodon(&[Next::Fail(500), Next::RateLimited, Next::Ok]).await;
        let client = Mastodon::new(&base, "good", policy()).unwrap();
        let started = Instant::now();
        let p = client.post(&outgoing("d2", "Hello"), None).await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After honoured"
        );
        assert_eq!(p.attempts, 3);
        assert_eq!(state.lock().unwrap().posts.len(), 1);
    }

    #[tokio::test]
    async fn mastodon_lost_response_is_not_posted_twice() {
        let (state, base) = mastodon(&[Next::CreateThenFail(502)]).await;
        let client = Mastodon::new(&base, "good", policy()).unwrap();
        let p = client
            .post(&outgoing("d3", "Hello again"), Some("7"))
            .await
            .unwrap();
        let f = state.lock().unwrap();
        assert_eq!(
            f.posts.len(),
            1,
            "the same Idempotency-Key returned the first status"
        );
        assert_eq!(p.id, f.posts[0].0);
        assert_eq!(f.requests, 2);
    }

    #[tokio::test]
    async fn mastodon_errors_are_not_retried() {
        let (state, base) = mastodon(&[]).await;
        let bad = Mastodon::new(&base, "wrong", policy()).unwrap();
        let e = bad.post(&outgoing("d4", "x"), None).await.unwrap_err();
        assert!(matches!(e, PublishError::Unauthorized { .. }), "{e}");
        let client = Mastodon::new(&base, "good", policy()).unwrap();
        let e = client
            .post(&outgoing("d5", &"a".repeat(501)), None)
            .await
            .unwrap_err();
        assert!(
            matches!(e, PublishError::Rejected { status: 422, .. }),
            "{e}"
        );
        let f = state.lock().unwrap();
        assert_eq!((f.posts.len(), f.requests), (0, 2));
    }

    #[tokio::test]
    async fn mastodon_gives_up_after_the_last_attempt() {
        let (state, base) = mastodon(&[Next::Fail(503); 5]).await;
        let client = Mastodon::new(&base, "good", policy()).unwrap();
        let e = client.post(&outgoing("d6", "x"), None).await.unwrap_err();
        assert!(matches!(e, PublishError::GaveUp { attempts: 5, .. }), "{e}");
        assert_eq!(state.lock().unwrap().posts.len(), 0);
    }

    // --- Bluesky --------------------------------------------------------------------------

    async fn create_session(State(s): State<Shared>, Json(body): Json<Value>) -> Response {
        if body["identifier"] == "trust.bsky.social" && body["password"] == "app-pass" {
            s.lock().unwrap().sessions += 1;
            (StatusCode::OK, Json(json!({"accessJwt": "jwt", "refreshJwt": "r", "handle": "trust.bsky.social", "did": "did:plc:trust"}))).into_response()
        } else {
            fail(
                401,
                json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
            )
        }
    }

    async fn resolve_handle(Query(q): Query<HashMap<String, String>>) -> Response {
        match q.get("handle").map(String::as_str) {
            Some("sam.bsky.social") => {
                (StatusCode::OK, Json(json!({"did": "did:plc:sam"}))).into_response()
            }
            _ => fail(
                400,
                json!({"error": "InvalidRequest", "message": "Unable to resolve handle"}),
            ),
        }
    }

    async fn create_record(
        State(s): State<Shared>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Response {
        let mut f = s.lock().unwrap();
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer jwt") {
            f.requests += 1;
            return fail(
                401,
                json!({"error": "AuthenticationRequired", "message": "Authentication Required"}),
            );
        }
        let record = &body["record"];
        let text = record["text"].as_str().unwrap_or_default();
        if record["$type"] != "app.bsky.feed.post" || body["collection"] != "app.bsky.feed.post" {
            f.requests += 1;
            return fail(
                400,
                json!({"error": "InvalidRequest", "message": "Invalid $type"}),
            );
        }
        if text.chars().count() > 300 {
            f.requests += 1;
            return fail(
                400,
                json!({"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"}),
            );
        }
        for facet in record["facets"].as_array().into_iter().flatten() {
            let (s, e) = (
                facet["index"]["byteStart"].as_u64().unwrap() as usize,
                facet["index"]["byteEnd"].as_u64().unwrap() as usize,
            );
            if e > text.len() || s >= e || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                f.requests += 1;
                return fail(
                    400,
                    json!({"error": "InvalidRequest", "message": "Invalid facet byte range"}),
                );
            }
        }
        let rkey = body["rkey"].as_str().unwrap_or_default().to_owned();
        if rkey.len() != 13 {
            f.requests += 1;
            return fail(
                400,
                json!({"error": "InvalidRequest", "message": "Invalid record key: must be a TID"}),
            );
        }
        if f.records.contains_key(&rkey) {
            f.requests += 1;
            return fail(
                400,
                json!({"error": "InvalidRequest", "message": "Record already exists"}),
            );
        }
        let n = next(&mut f);
        let uri = format!("at://did:plc:trust/app.bsky.feed.post/{rkey}");
        let cid = format!("bafyrei{rkey}");
        let create = |f: &mut Fake| {
            f.records.insert(rkey.clone(), (uri.clone(), cid.clone()));
            f.posts.push((uri.clone(), record.clone()));
        };
        match n {
            Next::Ok => {
                create(&mut f);
                (StatusCode::OK, Json(json!({"uri": uri, "cid": cid}))).into_response()
            }
            Next::Fail(code) => fail(
                code,
                json!({"error": "InternalServerError", "message": "Internal Server Error"}),
            ),
            Next::Expired => fail(
                400,
                json!({"error": "ExpiredToken", "message": "Token has expired"}),
            ),
            Next::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})),
            )
                .into_response(),
            Next::CreateThenFail(code) => {
                create(&mut f);
                fail(
                    code,
                    json!({"error": "InternalServerError", "message": "Internal Server Error"}),
                )
            }
        }
    }

    async fn get_record(
        State(s): State<Shared>,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        let f = s.lock().unwrap();
        match q.get("rkey").and_then(|k| f.records.get(k)) {
            Some((uri, cid)) => {
                let value = f
                    .posts
                    .iter()
                    .find(|(id, _)| id == uri)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                (
                    StatusCode::OK,
                    Json(json!({"uri": uri, "cid": cid, "value": value})),
                )
                    .into_response()
            }
            None => fail(
                400,
                json!({"error": "RecordNotFound", "message": "Could not locate record"}),
            ),
        }
    }

    async fn bluesky(script: &[Next]) -> (Shared, String) {
        let state: Shared = Arc::new(Mutex::new(Fake {
            script: script.iter().copied().collect(),
            ..Fake::default()
        }));
        let app = Router::new()
            .route(
                "/xrpc/com.atproto.server.createSession",
                post(create_session),
            )
            .route(
                "/xrpc/com.atproto.identity.resolveHandle",
                get(resolve_handle),
            )
            .route("/xrpc/com.atproto.repo.createRecord", post(create_record))
            .route("/xrpc/com.atproto.repo.getRecord", get(get_record))
            .with_state(state.clone());
        (state, serve(app).await)
    }

    fn sky(base: &str) -> Bluesky {
        Bluesky::new(base, "trust.bsky.social", "app-pass", policy()).unwrap()
    }

    #[tokio::test]
    async fn bluesky_reply_with_facets_at_byte_offsets() {
        let (state, base) = bluesky(&[]).await;
        let root = StrongRef {
            uri: "at://did:plc:pat/app.bsky.feed.post/3kroot".into(),
            cid: "bafyroot".into(),
        };
        let parent = StrongRef {
            uri: "at://did:plc:pat/app.bsky.feed.post/3kparent".into(),
            cid: "bafyparent".into(),
        };
        let text = "Café ☕ tips: https://nhs.uk/live-well #WellbeingWeek thanks @sam.bsky.social and @nobody.example.org";
        let p = sky(&base)
            .post(&outgoing("b1", text), Some((&root, &parent)))
            .await
            .unwrap();
        let f = state.lock().unwrap();
        assert_eq!(f.posts.len(), 1);
        let record = &f.posts[0].1;
        assert_eq!(p.id, f.posts[0].0);
        assert_eq!(record["reply"]["root"]["cid"], "bafyroot");
        assert_eq!(record["reply"]["parent"]["uri"], parent.uri);
        let facets = record["facets"].as_array().unwrap();
        assert_eq!(
            facets.len(),
            3,
            "the unknown handle stays plain text: {facets:?}"
        );
        let slice = |i: usize| {
            let idx = &facets[i]["index"];
            &text[idx["byteStart"].as_u64().unwrap() as usize
                ..idx["byteEnd"].as_u64().unwrap() as usize]
        };
        assert_eq!(slice(0), "https://nhs.uk/live-well");
        assert_eq!(facets[0]["index"]["byteStart"], "Café ☕ tips: ".len());
        assert_eq!(facets[0]["features"][0]["uri"], "https://nhs.uk/live-well");
        assert_eq!(slice(1), "#WellbeingWeek");
        assert_eq!(facets[1]["features"][0]["tag"], "WellbeingWeek");
        assert_eq!(slice(2), "@sam.bsky.social");
        assert_eq!(facets[2]["features"][0]["did"], "did:plc:sam");
    }

    #[tokio::test]
    async fn bluesky_lost_response_and_retry_find_the_record() {
        let (state, base) = bluesky(&[Next::CreateThenFail(500)]).await;
        let p = sky(&base)
            .post(&outgoing("b2", "Hello"), None)
            .await
            .unwrap();
        assert!(p.recovered);
        assert_eq!(state.lock().unwrap().posts.len(), 1);
        // Sending the same draft again (say after a restart) does not post twice either.
        let again = sky(&base)
            .post(&outgoing("b2", "Hello"), None)
            .await
            .unwrap();
        assert_eq!(again.id, p.id);
        assert_eq!(state.lock().unwrap().posts.len(), 1);
    }

    #[tokio::test]
    async fn bluesky_publisher_replies_in_the_thread() {
        let (state, base) = bluesky(&[]).await;
        let client = sky(&base);
        let root = client
            .post(&outgoing("b6", "Root post"), None)
            .await
            .unwrap();
        let child = client
            .post(
                &outgoing("b7", "Child"),
                Some((
                    &StrongRef {
                        uri: root.id.clone(),
                        cid: root.cid.clone().unwrap(),
                    },
                    &StrongRef {
                        uri: root.id.clone(),
                        cid: root.cid.clone().unwrap(),
                    },
                )),
            )
            .await
            .unwrap();
        let (r, p) = client.reply_refs(&child.id).await.unwrap();
        assert_eq!(p.uri, child.id);
        assert_eq!(
            r.uri, root.id,
            "the thread's root comes from the parent's reply.root"
        );
        assert_eq!(state.lock().unwrap().posts.len(), 2);
    }

    #[tokio::test]
    async fn bluesky_expired_token_gets_a_new_session() {
        let (state, base) = bluesky(&[Next::Expired, Next::Ok]).await;
        let p = sky(&base).post(&outgoing("b8", "Hi"), None).await.unwrap();
        let f = state.lock().unwrap();
        assert_eq!((f.posts.len(), f.sessions), (1, 2));
        assert_eq!(p.id, f.posts[0].0);
    }

    #[tokio::test]
    async fn bluesky_rate_limit_then_success() {
        let (state, base) = bluesky(&[Next::RateLimited, Next::Fail(502), Next::Ok]).await;
        let started = Instant::now();
        let p = sky(&base).post(&outgoing("b3", "Hi"), None).await.unwrap();
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert_eq!(p.attempts, 3);
        assert_eq!(state.lock().unwrap().posts.len(), 1);
    }

    #[tokio::test]
    async fn bluesky_validation_and_login_errors() {
        let (state, base) = bluesky(&[]).await;
        let e = sky(&base)
            .post(&outgoing("b4", &"x".repeat(301)), None)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, PublishError::Rejected { status: 400, message, .. } if message.contains("300 graphemes")),
            "{e}"
        );
        let bad = Bluesky::new(&base, "trust.bsky.social", "wrong", policy()).unwrap();
        let e = bad.post(&outgoing("b5", "x"), None).await.unwrap_err();
        assert!(matches!(e, PublishError::Unauthorized { .. }), "{e}");
        assert_eq!(state.lock().unwrap().posts.len(), 0);
    }

    // --- X --------------------------------------------------------------------------------

    async fn tweets(
        State(s): State<Shared>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Response {
        let mut f = s.lock().unwrap();
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer user-token") {
            f.requests += 1;
            return fail(
                401,
                json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
            );
        }
        let text = body["text"].as_str().unwrap_or_default().to_owned();
        if f.posts.iter().any(|(_, t)| t["text"] == text) {
            f.requests += 1;
            return fail(
                403,
                json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403}),
            );
        }
        let n = next(&mut f);
        let create = |f: &mut Fake| {
            let id = format!("18{}", f.posts.len() + 1);
            let mut tweet = json!({"id": id, "text": text, "referenced_tweets": []});
            if let Some(r) = body["reply"]["in_reply_to_tweet_id"].as_str() {
                tweet["referenced_tweets"] = json!([{"type": "replied_to", "id": r}]);
            }
            f.posts.insert(0, (id.clone(), tweet));
            id
        };
        match n {
            Next::Ok => {
                let id = create(&mut f);
                (
                    StatusCode::CREATED,
                    Json(json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}})),
                )
                    .into_response()
            }
            Next::Fail(code) => fail(
                code,
                json!({"title": "Service Unavailable", "status": code}),
            ),
            Next::Expired => fail(401, json!({"title": "Unauthorized", "status": 401})),
            Next::RateLimited => {
                let reset = (Timestamp::now().as_second() + 1).to_string();
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [
                        ("x-rate-limit-reset", reset.as_str()),
                        ("x-rate-limit-remaining", "0"),
                    ],
                    Json(json!({"title": "Too Many Requests", "status": 429})),
                )
                    .into_response()
            }
            Next::CreateThenFail(code) => {
                create(&mut f);
                fail(
                    code,
                    json!({"title": "Service Unavailable", "status": code}),
                )
            }
        }
    }

    async fn me() -> Json<Value> {
        Json(json!({"data": {"id": "42", "name": "Trust", "username": "trust"}}))
    }

    async fn timeline(State(s): State<Shared>, Path(id): Path<String>) -> Response {
        assert_eq!(id, "42");
        let f = s.lock().unwrap();
        let data: Vec<Value> = f.posts.iter().map(|(_, t)| t.clone()).collect();
        (
            StatusCode::OK,
            Json(json!({"data": data, "meta": {"result_count": data.len()}})),
        )
            .into_response()
    }

    async fn x(script: &[Next]) -> (Shared, String) {
        let state: Shared = Arc::new(Mutex::new(Fake {
            script: script.iter().copied().collect(),
            ..Fake::default()
        }));
        let app = Router::new()
            .route("/2/tweets", post(tweets))
            .route("/2/users/me", get(me))
            .route("/2/users/{id}/tweets", get(timeline))
            .with_state(state.clone());
        (state, serve(app).await)
    }

    #[tokio::test]
    async fn x_reply_and_rate_limit_reset() {
        let (state, base) = x(&[Next::RateLimited, Next::Ok]).await;
        let client = X::new(&base, "user-token", policy()).unwrap();
        let p = client
            .post(&outgoing("x1", "Hi Pat ^Sam"), Some("1799"))
            .await
            .unwrap();
        assert_eq!(p.attempts, 2);
        let f = state.lock().unwrap();
        assert_eq!(f.posts.len(), 1);
        assert_eq!(f.posts[0].1["referenced_tweets"][0]["id"], "1799");
    }

    #[tokio::test]
    async fn x_lost_response_is_found_not_posted_twice() {
        let (state, base) = x(&[Next::CreateThenFail(503)]).await;
        let client = X::new(&base, "user-token", policy()).unwrap();
        let p = client
            .post(&outgoing("x2", "Sorry Pat ^Sam"), Some("1800"))
            .await
            .unwrap();
        assert!(p.recovered);
        let f = state.lock().unwrap();
        assert_eq!(f.posts.len(), 1);
        assert_eq!(p.id, f.posts[0].0);
    }

    #[tokio::test]
    async fn x_resumed_after_a_restart_checks_first() {
        let (state, base) = x(&[]).await;
        let client = X::new(&base, "user-token", policy()).unwrap();
        let first = client
            .post(&outgoing("x5", "Open day on Saturday"), None)
            .await
            .unwrap();
        let mut again = outgoing("x5", "Open day on Saturday");
        again.resumed = true;
        let second = client.post(&again, None).await.unwrap();
        assert!(second.recovered);
        assert_eq!(first.id, second.id);
        assert_eq!(state.lock().unwrap().posts.len(), 1);
    }

    #[tokio::test]
    async fn x_unauthorized_and_server_errors() {
        let (state, base) = x(&[Next::Fail(500), Next::Ok]).await;
        let bad = X::new(&base, "nope", policy()).unwrap();
        assert!(matches!(
            bad.post(&outgoing("x3", "a"), None).await.unwrap_err(),
            PublishError::Unauthorized { .. }
        ));
        let client = X::new(&base, "user-token", policy()).unwrap();
        client.post(&outgoing("x4", "b"), None).await.unwrap();
        assert_eq!(state.lock().unwrap().posts.len(), 1);
    }
}
