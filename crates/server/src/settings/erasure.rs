//! Erasure on request (administrators only): `GET /settings/erase` and its form, which removes
//! everything stored about one account ([`store::ProtectionStore::erase_author`]) and says how
//! much went.

use askama::Template;
use axum::{Form, Router, extract::State, http::StatusCode, response::Response, routing::get};
use jiff::Timestamp;
use model::Network;
use serde::Deserialize;
use store::AuthorRef;

use crate::{
    AppState, PageError, blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
};

/// The routes of the erasure page.
pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/erase", get(page).post(erase))
}

/// The API routes of this module (none).
pub const API: [ApiRoute; 0] = [];

#[derive(Template)]
#[template(path = "erase.html")]
struct ErasePage {
    layout: Layout,
    networks: Vec<&'static str>,
    done: Option<String>,
    error: Option<String>,
}

fn draw(page: &PageContext, done: Option<String>, error: Option<String>) -> Response {
    render(&ErasePage {
        layout: Layout::new("Erase a person's data", page, "users"),
        networks: Network::ALL.iter().map(|n| n.as_str()).collect(),
        done,
        error,
    })
}

/// `GET /settings/erase`.
pub async fn page(page: PageContext) -> Result<Response, PageError> {
    page.user.require(Action::EraseData)?;
    Ok(draw(&page, None, None))
}

/// The erasure form.
#[derive(Debug, Deserialize)]
pub struct EraseForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The network.
    #[serde(default)]
    pub network: String,
    /// The handle or account id.
    #[serde(default)]
    pub account: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// `POST /settings/erase`.
pub async fn erase(
    State(state): State<AppState>,
    page: PageContext,
    Form(form): Form<EraseForm>,
) -> Result<Response, PageError> {
    page.user.check_csrf(&form.csrf)?;
    page.user.require(Action::EraseData)?;
    let account = form.account.trim().to_owned();
    let reason = form.reason.trim().to_owned();
    let network: Result<Network, _> = form.network.parse();
    let (Ok(network), false, false, true, true) = (
        network,
        account.is_empty(),
        reason.is_empty(),
        account.len() <= 200,
        reason.len() <= 200,
    ) else {
        let mut response = draw(
            &page,
            None,
            Some("Choose a network and give the account and the reason (at most 200 characters each).".into()),
        );
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    };
    let by = page.user.user.name.clone();
    let shown = account.clone();
    let summary = blocking(&state, move |store| {
        Ok(store.erase_author(
            &AuthorRef { network, account },
            &by,
            &reason,
            Timestamp::now(),
        )?)
    })
    .await?;
    if summary.authors == 0 {
        let mut response = draw(
            &page,
            None,
            Some(format!(
                "No {network} account {shown} is stored: nothing was erased. Check the handle, or use the account id."
            )),
        );
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    }
    Ok(draw(
        &page,
        Some(format!(
            "Erased: {} posts, {} earlier versions, {} cases, {} notes, {} drafts, samples in {} alerts, and the detail of {} audit entries. The audit log records the erasure.",
            summary.posts,
            summary.versions,
            summary.cases,
            summary.notes,
            summary.drafts,
            summary.alerts,
            summary.audit_details
        )),
        None,
    ))
}
