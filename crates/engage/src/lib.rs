//! Triage and respond: the executable response matrix and everything that follows from it.
//!
//! A post arrives with its [`model::analysis::Analysis`]; the [`matrix::Matrix`] (a TOML file
//! written in advance, rules in order, first match wins) decides whether a [`case::Case`] opens,
//! what to do (reply with a template, escalate to a role, watch, ignore), how fast, who may send
//! and whether approval is needed. Replies are [`draft::Draft`]s rendered from
//! [`template::Template`]s and run through the [`checks`] (length per network, personal data,
//! tone, clinical statements) before [`approval`] and sending. Every step yields an
//! [`audit::NewAuditEntry`]; the store chains them by SHA-256 so that tampering is detected.
//!
//! This crate does no I/O: every operation takes the current state and the acting user and
//! returns the new state and its audit entry, so the web application, the command line and the
//! tests share one set of rules and the store persists what they return.

pub mod approval;
pub mod audit;
pub mod case;
pub mod checks;
pub mod diff;
pub mod draft;
pub mod inbox;
pub mod matrix;
pub mod role;
pub mod template;

pub use approval::{ApprovalError, ApprovalOutcome};
pub use audit::{AuditEntry, AuditKey, BrokenLink, ChainVerifier, Checkpoint, NewAuditEntry};
pub use case::{Case, CaseError, CaseFilter, CaseState, Note, thread_key};
pub use checks::{CheckKind, Checker, DraftContext, Finding, Severity, Verdict};
pub use draft::{Draft, DraftStatus};
pub use inbox::{Inbox, InboxError, ReplyContext};
pub use matrix::{Action, Matrix, MatrixError, MatrixIssue, Rule, Subject};
pub use role::{Actor, Role};
pub use template::{Template, TemplateError, TemplateValues};
