//! The OpenAPI 3.1 document of the JSON API, written by hand from one list of routes
//! ([`ROUTES`]); a test checks that the list and the router agree.

use serde_json::{Value, json};

use crate::ApiError;

/// One documented API route.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    /// The path, in axum's `{name}` form (the same in OpenAPI).
    pub path: &'static str,
    /// What it returns.
    pub summary: &'static str,
    /// The role needed.
    pub role: &'static str,
    /// Whether it takes the stream filters.
    pub filters: bool,
}

/// Every API route.
pub const ROUTES: [ApiRoute; 13] = [
    ApiRoute {
        path: "/api/openapi.json",
        summary: "This document.",
        role: "none",
        filters: false,
    },
    ApiRoute {
        path: "/api/me",
        summary: "Who is logged in and what they may do.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/stream",
        summary: "The live stream: posts newest first, filtered.",
        role: "viewer",
        filters: true,
    },
    ApiRoute {
        path: "/api/attention",
        summary: "Posts not handled, highest priority first.",
        role: "viewer",
        filters: true,
    },
    ApiRoute {
        path: "/api/search",
        summary: "Posts matching the words in `q`, newest first.",
        role: "viewer",
        filters: true,
    },
    ApiRoute {
        path: "/api/posts/{network}/{id}",
        summary: "One post with its analysis, thread, author's posts and history.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/dashboard",
        summary: "The dashboard's counts for a period (`period`: 24h, 7d, 14d, 30d) and `monitor`.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/saved-searches",
        summary: "Saved searches, newest first.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/monitors",
        summary: "Monitors (named listening queries).",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/users",
        summary: "People and their roles.",
        role: "admin",
        filters: false,
    },
    ApiRoute {
        path: "/api/alerts",
        summary: "Alerts, most recently active first.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/alerts/{id}",
        summary: "One alert's crisis view: the alert, its timeline, volume, cases and holding statements.",
        role: "viewer",
        filters: false,
    },
    ApiRoute {
        path: "/api/status",
        summary: "The live connectors' health.",
        role: "viewer",
        filters: false,
    },
];

const FILTERS: [(&str, &str); 10] = [
    ("monitor", "A monitor id."),
    (
        "network",
        "x, mastodon, bluesky, facebook, news or feedback.",
    ),
    ("sentiment", "negative, neutral or positive."),
    (
        "intent",
        "complaint, compliment, question, misinformation, safety or other.",
    ),
    ("theme", "A theme id."),
    ("lang", "A language code."),
    (
        "since",
        "From: 2024-05-01, 2024-05-01T14:30 (UK time), or back from now: 24h, 7d.",
    ),
    ("until", "Until, in the same forms."),
    ("q", "Words in the listening query language."),
    ("page", "The page, from 1."),
];

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in ROUTES
        .iter()
        .chain(crate::engage_pages::API_ROUTES.iter())
        .copied()
    {
        let mut parameters: Vec<Value> = Vec::new();
        if route.path.contains("/{id}") && !route.path.contains("{network}") {
            parameters.push(
                json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
        if route.path.contains("{network}") {
            parameters.push(json!({"name": "network", "in": "path", "required": true, "schema": {"type": "string"}}));
            parameters.push(
                json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
        if route.path.ends_with("/{id}") && !route.path.contains("{network}") {
            parameters.push(
                json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}),
            );
        }
        if route.filters {
            for (name, description) in FILTERS {
                parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
            }
        }
        if route.path == "/api/dashboard" {
            parameters.push(json!({"name": "period", "in": "query", "schema": {"type": "string", "enum": ["24h", "7d", "14d", "30d"]}}));
            parameters
                .push(json!({"name": "monitor", "in": "query", "schema": {"type": "string"}}));
        }
        let errors = json!({"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let method = if route.path.ends_with("/check") {
            "post"
        } else {
            "get"
        };
        paths.insert(
            route.path.to_owned(),
            json!({method: {
                "summary": route.summary,
                "description": format!("Role needed: {}.", route.role),
                "parameters": parameters,
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {}}},
                    "400": errors, "401": errors, "403": errors, "404": errors, "500": errors
                }
            }}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Switchboard", "version": env!("CARGO_PKG_VERSION"),
                 "description": "The listening desk's data. Log in at /login; the session cookie authenticates API calls."},
        "paths": paths,
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string", "enum": ApiError::CODES},
                "message": {"type": "string"}
            }}}
        },
        "security": [{"session": []}]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_documented_and_every_error_code_listed() {
        let source = include_str!("api.rs");
        let routed: Vec<&str> = source
            .match_indices(".route(\"")
            .filter_map(|(at, m)| source.get(at + m.len()..))
            .filter_map(|rest| rest.split('"').next())
            .collect();
        let documented: Vec<&str> = ROUTES.iter().map(|r| r.path).collect();
        assert_eq!(routed, documented);
        let doc = document();
        for path in documented {
            assert!(doc["paths"][path]["get"]["summary"].is_string(), "{path}");
        }
        let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"];
        assert_eq!(codes.as_array().map(Vec::len), Some(ApiError::CODES.len()));
    }
}
