//! The static files (stylesheets and the progressive-enhancement scripts), compiled into the
//! binary and served under `/static/`.

use axum::{
    Router,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};

use crate::AppState;

/// One static file: its address, media type and content.
struct Asset {
    path: &'static str,
    media_type: &'static str,
    body: &'static str,
}

/// Every static file.
const ASSETS: [Asset; 5] = [
    Asset {
        path: "/static/app.css",
        media_type: "text/css; charset=utf-8",
        body: include_str!("../static/app.css"),
    },
    Asset {
        path: "/static/live.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/live.js"),
    },
    Asset {
        path: "/static/live-worker.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/live-worker.js"),
    },
    Asset {
        path: "/static/menu.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/menu.js"),
    },
    Asset {
        path: "/static/engage.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/engage.js"),
    },
];

fn serve(asset: &'static Asset) -> Response {
    (
        [
            (header::CONTENT_TYPE, asset.media_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        asset.body,
    )
        .into_response()
}

/// The routes of the static files.
pub fn routes() -> Router<AppState> {
    ASSETS.iter().fold(Router::new(), |router, asset| {
        router.route(asset.path, get(move || async move { serve(asset) }))
    })
}
