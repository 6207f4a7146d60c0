//! The OpenAPI 3.1 document of the JSON API, built from the lists of API routes that each page
//! module declares beside its router ([`crate::API_ROUTES`]); a test checks that every `/api/`
//! route a module registers is in its list, and the other way round.

use axum::Json;
use serde_json::{Value, json};

use crate::ApiError;

/// The HTTP method of an API route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Acts (with the `x-csrf-token` header).
    Post,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
}

/// One parameter of an API route.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Where it goes.
    pub location: In,
    /// `string` or `integer`.
    pub kind: &'static str,
    /// What it means.
    pub description: &'static str,
}

impl Param {
    /// A string in the query string.
    pub const fn query(name: &'static str, description: &'static str) -> Param {
        Param {
            name,
            location: In::Query,
            kind: "string",
            description,
        }
    }

    /// A string path segment.
    pub const fn path(name: &'static str, description: &'static str) -> Param {
        Param {
            name,
            location: In::Path,
            kind: "string",
            description,
        }
    }

    /// An integer path segment.
    pub const fn path_integer(name: &'static str, description: &'static str) -> Param {
        Param {
            name,
            location: In::Path,
            kind: "integer",
            description,
        }
    }
}

/// One documented API route.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    /// The method.
    pub method: Method,
    /// The path, in axum's `{name}` form (the same in OpenAPI).
    pub path: &'static str,
    /// What it returns.
    pub summary: &'static str,
    /// The role needed.
    pub role: &'static str,
    /// Its parameters.
    pub params: &'static [Param],
}

impl ApiRoute {
    /// A `GET` route.
    pub const fn get(
        path: &'static str,
        summary: &'static str,
        role: &'static str,
        params: &'static [Param],
    ) -> ApiRoute {
        ApiRoute {
            method: Method::Get,
            path,
            summary,
            role,
            params,
        }
    }
}

/// The filters of the post lists (stream, attention, search).
pub const POST_FILTERS: [Param; 10] = [
    Param::query("monitor", "A monitor id."),
    Param::query(
        "network",
        "x, mastodon, bluesky, facebook, news or feedback.",
    ),
    Param::query("sentiment", "negative, neutral or positive."),
    Param::query(
        "intent",
        "complaint, compliment, question, misinformation, safety or other.",
    ),
    Param::query("theme", "A theme id."),
    Param::query("lang", "A language code."),
    Param::query(
        "since",
        "From: 2024-05-01, 2024-05-01T14:30 (UK time), or back from now: 24h, 7d.",
    ),
    Param::query("until", "Until, in the same forms."),
    Param::query("q", "Words in the listening query language."),
    Param::query("page", "The page, from 1."),
];

/// The routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/openapi.json",
    "This document.",
    "none",
    &[],
)];

/// `GET /api/openapi.json`.
pub async fn openapi_document() -> Json<Value> {
    Json(document())
}

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in crate::API_ROUTES.iter().flat_map(|list| list.iter()) {
        let parameters: Vec<Value> = route
            .params
            .iter()
            .map(|p| {
                let location = match p.location {
                    In::Path => "path",
                    In::Query => "query",
                };
                json!({"name": p.name, "in": location, "required": p.location == In::Path,
                       "description": p.description, "schema": {"type": p.kind}})
            })
            .collect();
        let errors = json!({"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let method = match route.method {
            Method::Get => "get",
            Method::Post => "post",
        };
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[method] = json!({
            "summary": route.summary,
            "description": format!("Role needed: {}.", route.role),
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "400": errors, "401": errors, "403": errors, "404": errors, "500": errors
            }
        });
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
    use std::collections::BTreeSet;

    use super::*;

    /// The `/api/` routes registered in a module's source, with their method.
    fn routed(source: &str) -> Vec<(String, &'static str)> {
        let mut found = Vec::new();
        for (at, m) in source.match_indices(".route(\"/api/") {
            let Some(rest) = source.get(at + m.len() - "/api/".len()..) else {
                continue;
            };
            let path = rest.split('"').next().unwrap_or_default().to_owned();
            let call = rest
                .split(".route(")
                .next()
                .and_then(|c| c.split("\n}").next())
                .unwrap_or_default();
            if call.contains("get(") {
                found.push((path.clone(), "get"));
            }
            if call.contains("post(") {
                found.push((path, "post"));
            }
        }
        found
    }

    #[test]
    fn every_api_route_is_documented_and_every_error_code_listed() {
        let routed: BTreeSet<(String, &str)> = crate::SOURCES
            .iter()
            .flat_map(|source| routed(source))
            .collect();
        let doc = document();
        let documented: BTreeSet<(String, &str)> = crate::API_ROUTES
            .iter()
            .flat_map(|list| list.iter())
            .map(|r| {
                let method = match r.method {
                    Method::Get => "get",
                    Method::Post => "post",
                };
                (r.path.to_owned(), method)
            })
            .collect();
        assert_eq!(routed, documented);
        for (path, method) in &documented {
            assert!(
                doc["paths"][path][method]["summary"].is_string(),
                "{method} {path}"
            );
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(['{', '}']);
                let params = doc["paths"][path][method]["parameters"].as_array().unwrap();
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{path}: {name}"
                );
            }
        }
        let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"];
        assert_eq!(codes.as_array().map(Vec::len), Some(ApiError::CODES.len()));
    }
}
