//! `TestApp`: boots the real server on 127.0.0.1:0 over a temporary SQLite database with a few
//! analysed posts and one person per role, and a small HTTP client that keeps cookies.

use std::{net::SocketAddr, sync::Arc};

use alert::{Alert, AlertKind, AlertState, PostRef, Severity, UpdateKind};
use jiff::{SignedDuration, Timestamp};
use model::{
    Author, Change, Network, Post,
    analysis::{
        Analysis, AuthorKind, Intent, IntentKind, Language, LanguageSource, PersonalData,
        PersonalDataKind, Priority, Sentiment, SentimentLabel, Theme,
    },
};
use reqwest::{StatusCode, header};
use server::{AppState, Config, auth};
use store::{
    AccountStore, AlertStore, EngageStore, PostAnalysis, Role, SqliteStore, Store, WebStore,
};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Arc<SqliteStore>,
    /// The alert hub the server listens to (as a pipeline in the process would publish).
    pub hub: notify::AlertHub,
    _dir: tempfile::TempDir,
}

pub fn analysis(label: SentimentLabel, intent: IntentKind, priority: u8) -> Analysis {
    Analysis {
        engine: "test".into(),
        language: Language {
            code: "en".into(),
            name: "English".into(),
            confidence: 1.0,
            source: LanguageSource::Declared,
        },
        sentiment: Sentiment {
            score: if label == SentimentLabel::Negative {
                -0.6
            } else {
                0.5
            },
            label,
            confidence: 0.9,
            lexicon_score: 0.0,
            reason: "test words".into(),
        },
        intents: vec![Intent {
            kind: intent,
            probability: 0.9,
            detected: true,
            reason: "test intent".into(),
            spans: Vec::new(),
        }],
        themes: vec![Theme {
            id: "waiting".into(),
            label: "Waiting times".into(),
            probability: 0.8,
            reason: "wait".into(),
        }],
        professional: None,
        journalist: None,
        author: model::analysis::AuthorFinding::default(),
        personal_data: Vec::new(),
        priority: Priority {
            score: priority,
            reasons: vec![format!("+{priority} test reason")],
        },
    }
}

pub fn post(network: Network, id: &str, handle: &str, text: &str, created_at: Timestamp) -> Post {
    let author = Author {
        id: format!("{handle}-id"),
        handle: handle.into(),
        display_name: Some(format!("{handle} name")),
        bio: None,
        followers: Some(10),
        verified: false,
        url: None,
    };
    let mut post = Post::new(network, id, author, text, created_at);
    post.lang = Some("en".into());
    post.hashtags = vec!["nhs".into()];
    post
}

/// Stores posts with analyses and tags them with the monitors they match.
pub fn add_posts(store: &SqliteStore, posts: &[(Post, Analysis)]) {
    let changes: Vec<Change> = posts
        .iter()
        .map(|(p, _)| Change::Upsert(Box::new(p.clone())))
        .collect();
    store.apply(&changes).unwrap();
    let analyses: Vec<PostAnalysis> = posts
        .iter()
        .map(|(p, a)| PostAnalysis {
            network: p.network,
            id: p.id.clone(),
            version_at: p.version_time(),
            analysis: a.clone(),
        })
        .collect();
    store.save_analyses(&analyses).unwrap();
    let tags: Vec<(&Post, Option<&str>)> = posts.iter().map(|(p, _)| (p, Some("en"))).collect();
    store.tag_posts(&tags).unwrap();
}

/// Forty posts over the last two days on three networks, each linking to its original, a
/// quarter of them urgent complaints, from the public, staff and a peer organisation; an open
/// alert: the usual weight of the pages.
pub fn add_busy_traffic(app: &TestApp) {
    let now = Timestamp::now();
    let posts: Vec<_> = (0..40_i64)
        .map(|i| {
            let at = now
                .checked_sub(SignedDuration::from_mins(5 + i * 70))
                .unwrap();
            let network = [Network::X, Network::Mastodon, Network::Bluesky][(i % 3) as usize];
            let (label, intent, priority) = if i % 4 == 0 {
                (SentimentLabel::Negative, IntentKind::Complaint, 85)
            } else {
                (SentimentLabel::Positive, IntentKind::Compliment, 10)
            };
            let mut post = post(
                network,
                &format!("walk{i}"),
                &format!("walker_{i}"),
                &format!(
                    "Post number {i} about the outpatients clinic and its waiting times: the \
                     letters came late, the phone line rang out twice, and the car park was full \
                     again this morning, so we nearly missed the appointment altogether"
                ),
                at,
            );
            post.url = Some(format!("https://example.social/{network}/walk{i}"));
            let mut analysis = analysis(label, intent, priority);
            analysis.author.kind = match i % 5 {
                0 => AuthorKind::Staff,
                1 => AuthorKind::PeerOrganisation,
                _ => AuthorKind::Public,
            };
            (post, analysis)
        })
        .collect();
    add_posts(&app.store, &posts);
    add_alert(&app.store, "power cut");
}

/// Tells the server's alert board that alert `id` changed (as a pipeline in the process would),
/// so that pages show it at once.
pub fn publish_alert(app: &TestApp, id: i64) {
    let stored = app.store.alert(id).unwrap().unwrap();
    app.hub.publish(alert::AlertUpdate {
        kind: UpdateKind::Opened,
        alert: stored.alert,
    });
}

/// Saves an open watch-phrase warning (driven by post x/1001) and returns its store id.
pub fn add_alert(store: &SqliteStore, phrase: &str) -> i64 {
    add_alert_with(store, phrase, Severity::Warning)
}

/// Saves an open watch-phrase alert of `severity` (driven by post x/1001); its store id.
pub fn add_alert_with(store: &SqliteStore, phrase: &str, severity: Severity) -> i64 {
    let now = Timestamp::now();
    let alert = Alert {
        id: 1,
        scope: "all posts".into(),
        kind: AlertKind::WatchPhrase,
        detail: phrase.into(),
        severity,
        title: format!("Watch-list phrase \"{phrase}\""),
        state: AlertState::Open,
        first_seen: now,
        last_seen: now,
        count: 1,
        peak: 1.0,
        expected: 0.0,
        posts: vec![PostRef {
            network: Network::X,
            id: "1001".into(),
            url: None,
            author: "patient_pat".into(),
            text: format!("Is there a {phrase} at the hospital?"),
            at: now,
        }],
        resolved_at: None,
        revision: 1,
    };
    store.save_alert_update(UpdateKind::Opened, &alert).unwrap()
}

/// Stores a holding statement for `alert` written by `author`, waiting for approval; its id.
pub fn add_statement(app: &TestApp, alert: i64, author: &str, round: usize) -> String {
    let text = format!("We are looking into it ({round}).");
    let author = engage::Actor::new(author, Role::Officer);
    let verdict = engage::Verdict::default();
    let (draft, audit) = server::crisis::holding_statement(
        alert,
        Network::X,
        &text,
        &author,
        &verdict,
        Timestamp::now(),
    )
    .unwrap();
    app.store.save_draft(&draft, None, &audit).unwrap();
    draft.id
}

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::start_with(|_| {}).await
    }

    /// Starts the app after `configure` has adjusted its state (publishers, schedules).
    pub async fn start_with(configure: impl FnOnce(&mut AppState)) -> TestApp {
        TestApp::start_bound(|state, _| configure(state)).await
    }

    /// [`TestApp::start_with`], telling `configure` the address the app will serve on (for
    /// settings that name it, such as single sign-on's redirect address).
    pub async fn start_bound(configure: impl FnOnce(&mut AppState, SocketAddr)) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("test.db")).unwrap());
        let hash = auth::hash_password(PASSWORD).unwrap();
        for role in Role::ALL {
            store.add_user(role.as_str(), role, &hash).unwrap().unwrap();
        }
        let now = Timestamp::now();
        let ago = |minutes: i64| now.checked_sub(SignedDuration::from_mins(minutes)).unwrap();
        let mut phone = post(
            Network::X,
            "1001",
            "patient_pat",
            "Waited 9 hours in A&E, call me on 07700 900123",
            ago(30),
        );
        phone.thread_id = Some("1001".into());
        let mut with_phone = analysis(SentimentLabel::Negative, IntentKind::Complaint, 80);
        let start = phone.text.find("07700").unwrap();
        with_phone.personal_data = vec![PersonalData {
            kind: PersonalDataKind::Phone,
            start,
            end: start + "07700 900123".len(),
            reason: "UK mobile number".into(),
        }];
        let mut reply = post(
            Network::X,
            "1002",
            "nurse_nina",
            "So sorry to hear this, please message us",
            ago(20),
        );
        reply.reply_to = Some("1001".into());
        reply.thread_id = Some("1001".into());
        add_posts(
            &store,
            &[
                (phone, with_phone),
                (
                    reply,
                    analysis(SentimentLabel::Neutral, IntentKind::Other, 10),
                ),
                (
                    post(
                        Network::Mastodon,
                        "m1",
                        "happy_harry",
                        "Brilliant maternity team, thank you",
                        ago(10),
                    ),
                    analysis(SentimentLabel::Positive, IntentKind::Compliment, 5),
                ),
            ],
        );
        let config = Config {
            live_poll: std::time::Duration::from_millis(100),
            alert_poll: std::time::Duration::from_secs(60),
            ..Config::default()
        };
        let hub = notify::AlertHub::default();
        let mut state = AppState::new(Arc::clone(&store) as Arc<dyn WebStore>, config)
            .with_alert_hub(hub.clone());
        configure(&mut state, addr);
        tokio::spawn(server::serve(listener, state));
        TestApp {
            addr,
            store,
            hub,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn client(&self) -> Client {
        install_crypto_provider();
        Client {
            base: self.url(""),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
            csrf: String::new(),
        }
    }

    /// A client logged in as `name`.
    pub async fn login(&self, name: &str) -> Client {
        let mut client = self.client();
        let response = client.try_login(name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "login of {name}");
        let page = client.get("/stream").await.text().await.unwrap();
        client.csrf = csrf_of(&page).expect("a CSRF token on the stream page");
        client
    }
}

pub fn csrf_of(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    page.get(at..)?.split('"').next().map(str::to_owned)
}

/// The body of a live connection.
pub type LiveEvents =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;

pub struct Client {
    base: String,
    pub http: reqwest::Client,
    pub cookies: Vec<(String, String)>,
    pub csrf: String,
}

impl Client {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", auth::form_urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// Opens this person's live connection (`GET /live`) and returns its body.
    pub async fn open_live(&self) -> LiveEvents {
        use futures_util::StreamExt;
        let response = self
            .http
            .get(format!("{}/live", self.base))
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        Box::pin(
            response
                .bytes_stream()
                .map(|chunk| chunk.map(|b| b.to_vec())),
        )
    }

    /// The new posts of a live list (`list=stream&network=x`) after number `after`.
    pub async fn new_posts(&mut self, list: &str, after: u64) -> serde_json::Value {
        let response = self.get(&format!("/live/posts?{list}&after={after}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn try_login(&mut self, name: &str, password: &str) -> reqwest::Response {
        let page = self.get("/login").await.text().await.unwrap();
        let token = csrf_of(&page).unwrap();
        self.post_form(
            "/login",
            &[("csrf", &token), ("name", name), ("password", password)],
        )
        .await
    }
}

/// Reads an event stream until `wanted` appears in what arrived, or fails after `within`;
/// returns what arrived.
pub async fn wait_for_event<B: AsRef<[u8]>>(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    wanted: &str,
    within: std::time::Duration,
) -> String {
    use futures_util::StreamExt;
    let started = std::time::Instant::now();
    let mut seen = String::new();
    while started.elapsed() < within {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, body.next()).await {
            Ok(Some(Ok(chunk))) => {
                seen.push_str(&String::from_utf8_lossy(chunk.as_ref()));
                if seen.contains(wanted) {
                    return seen;
                }
            }
            _ => break,
        }
    }
    panic!("`{wanted}` did not arrive within {within:?}; got: {seen}");
}

/// The number in the last `posts` event of `events` (the newest post seen).
pub fn last_posts_seq(events: &str) -> u64 {
    events
        .split("event: posts\ndata: ")
        .skip(1)
        .last()
        .and_then(|rest| rest.split('\n').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no posts event in {events}"))
}

/// reqwest is built with `rustls-no-provider` (the workspace uses ring only, see STACK.md):
/// the test clients install the ring provider once before building a client.
pub fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}
