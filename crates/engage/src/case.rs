//! Cases: the inbox. One case per conversation thread, opened by the matrix, worked through
//! new → assigned → drafting → awaiting approval → answered → closed.
//!
//! Every operation takes the acting user, checks their role and the allowed transitions, changes
//! the case and returns the [`NewAuditEntry`] to record with it. A case carries the time limit
//! of the rule that opened it; [`Case::breached`] says whether the first response came (or is
//! still missing) after it.

use jiff::{SignedDuration, Timestamp};
use model::{Network, Post};
use serde::{Deserialize, Serialize};

use crate::{audit::NewAuditEntry, matrix::Rule, role::Actor, role::Role};

/// The states of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Opened by the matrix; nobody has it yet.
    New,
    /// Someone owns it.
    Assigned,
    /// A reply is being written.
    Drafting,
    /// A reply waits for approval.
    AwaitingApproval,
    /// A reply went out.
    Answered,
    /// Nothing more to do.
    Closed,
}

impl CaseState {
    /// Every state, in workflow order.
    pub const ALL: [CaseState; 6] = [
        CaseState::New,
        CaseState::Assigned,
        CaseState::Drafting,
        CaseState::AwaitingApproval,
        CaseState::Answered,
        CaseState::Closed,
    ];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseState::New => "new",
            CaseState::Assigned => "assigned",
            CaseState::Drafting => "drafting",
            CaseState::AwaitingApproval => "awaiting_approval",
            CaseState::Answered => "answered",
            CaseState::Closed => "closed",
        }
    }

    /// The state with this name.
    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether a case may go from this state to `to`.
    pub fn can_go_to(self, to: CaseState) -> bool {
        use CaseState::*;
        matches!(
            (self, to),
            (New, Assigned | Drafting | Closed)
                | (Assigned, Assigned | New | Drafting | Closed)
                | (Drafting, AwaitingApproval | Answered | Assigned | Closed)
                | (AwaitingApproval, Drafting | Answered | Closed)
                | (Answered, Drafting | Closed | New)
                | (Closed, New)
        )
    }
}

/// Why a case operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// Not allowed from the current state.
    #[error("case {case} is {from}; it cannot become {to}")]
    Transition {
        /// The case.
        case: String,
        /// The current state.
        from: &'static str,
        /// The state asked for.
        to: &'static str,
    },
    /// The actor's role does not allow it.
    #[error("{actor} ({role}) may not {what}: ask an officer or the case's owner")]
    NotAllowed {
        /// The actor.
        actor: String,
        /// Their role.
        role: Role,
        /// What they tried.
        what: String,
    },
    /// An empty note.
    #[error("a note needs some text")]
    EmptyNote,
}

/// A case in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The conversation thread: `network:root post id`. Unique.
    pub id: String,
    /// The network.
    pub network: Network,
    /// The post that opened (or last reopened) the case, to reply to.
    pub post_id: String,
    /// The matrix rule that opened it.
    pub rule: String,
    /// What the rule said to do (`reply with template apology`).
    pub action: String,
    /// The state.
    pub state: CaseState,
    /// Who owns it.
    pub assignee: Option<String>,
    /// When it opened.
    pub opened_at: Timestamp,
    /// The time limit to the first response.
    pub due_at: Option<Timestamp>,
    /// When the first reply went out.
    pub first_response_at: Option<Timestamp>,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// An internal note on a case (never published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The case.
    pub case_id: String,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub at: Timestamp,
    /// The text.
    pub text: String,
}

/// The conversation thread a post belongs to: `network:root id`.
pub fn thread_key(post: &Post) -> String {
    let root = post
        .thread_id
        .as_deref()
        .or(post.reply_to.as_deref())
        .unwrap_or(&post.id);
    format!("{}:{root}", post.network)
}

impl Case {
    /// Opens a case for a post taken by a rule, if the rule opens cases.
    pub fn open(post: &Post, rule: &Rule, now: Timestamp) -> Option<(Case, NewAuditEntry)> {
        if !rule.create_case {
            return None;
        }
        let case = Case {
            id: thread_key(post),
            network: post.network,
            post_id: post.id.clone(),
            rule: rule.name.clone(),
            action: rule.action.describe(),
            state: CaseState::New,
            assignee: None,
            opened_at: now,
            due_at: rule.respond_within.and_then(|d| now.checked_add(d).ok()),
            first_response_at: None,
            updated_at: now,
        };
        let audit = NewAuditEntry::new(
            now,
            "switchboard",
            "case.open",
            case.subject(),
            format!(
                "post {} taken by rule {}: {}",
                post.id, rule.name, case.action
            ),
        );
        Some((case, audit))
    }

    /// The matrix step for an arriving post: the rule that takes it and, when the rule opens
    /// cases, the new case for its thread or the thread's existing case (reopened when it was
    /// answered or closed, updated to the newest post otherwise), with the audit entry.
    /// `None` when no rule opens a case for it.
    pub fn route<'m>(
        matrix: &'m crate::matrix::Matrix,
        subject: &crate::matrix::Subject<'_>,
        post: &Post,
        existing: Option<Case>,
        now: Timestamp,
    ) -> Option<(&'m Rule, Case, NewAuditEntry)> {
        let rule = matrix.evaluate(subject)?;
        match existing {
            None => Case::open(post, rule, now).map(|(c, a)| (rule, c, a)),
            Some(mut case) if rule.create_case => {
                let audit = if matches!(case.state, CaseState::Answered | CaseState::Closed) {
                    case.reopen(&post.id, rule, "switchboard", now).ok()?
                } else {
                    case.post_id.clone_from(&post.id);
                    case.updated_at = now;
                    NewAuditEntry::new(
                        now,
                        "switchboard",
                        "case.post",
                        case.subject(),
                        format!("new post {} in the thread (rule {})", post.id, rule.name),
                    )
                };
                Some((rule, case, audit))
            }
            Some(_) => None,
        }
    }

    /// The case's name in the audit log.
    pub fn subject(&self) -> String {
        format!("case:{}", self.id)
    }

    fn go(&mut self, to: CaseState, now: Timestamp) -> Result<(), CaseError> {
        if !self.state.can_go_to(to) {
            return Err(CaseError::Transition {
                case: self.id.clone(),
                from: self.state.as_str(),
                to: to.as_str(),
            });
        }
        self.state = to;
        self.updated_at = now;
        Ok(())
    }

    fn allow(actor: &Actor, ok: bool, what: &str) -> Result<(), CaseError> {
        if ok {
            Ok(())
        } else {
            Err(CaseError::NotAllowed {
                actor: actor.name.clone(),
                role: actor.role,
                what: what.into(),
            })
        }
    }

    fn entry(&self, actor: &Actor, now: Timestamp, action: &str, detail: String) -> NewAuditEntry {
        NewAuditEntry::new(now, &actor.name, action, self.subject(), detail)
    }

    /// Assigns the case: anyone who works cases may take a case nobody holds (or keep their
    /// own); officers and above may give any case to anyone. A squad member cannot take a case
    /// someone else holds, so "close own case" never reaches another person's case.
    pub fn assign(
        &mut self,
        actor: &Actor,
        assignee: &str,
        now: Timestamp,
    ) -> Result<NewAuditEntry, CaseError> {
        if !actor.role.at_least(Role::Officer) {
            Case::allow(
                actor,
                actor.role.may_work_cases() && actor.name == assignee,
                "assign this case to someone else",
            )?;
            let held_by_another = self
                .assignee
                .as_deref()
                .is_some_and(|holder| holder != actor.name);
            Case::allow(actor, !held_by_another, "take a case someone else holds")?;
        }
        if matches!(
            self.state,
            CaseState::New | CaseState::Assigned | CaseState::Closed
        ) {
            self.go(CaseState::Assigned, now)?;
        }
        self.assignee = Some(assignee.to_owned());
        self.updated_at = now;
        Ok(self.entry(actor, now, "case.assign", format!("assigned to {assignee}")))
    }

    /// Starts (or resumes) drafting a reply; takes the case if nobody owns it.
    pub fn start_drafting(
        &mut self,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<NewAuditEntry, CaseError> {
        Case::allow(actor, actor.role.may_work_cases(), "draft replies")?;
        self.go(CaseState::Drafting, now)?;
        if self.assignee.is_none() {
            self.assignee = Some(actor.name.clone());
        }
        Ok(self.entry(actor, now, "case.drafting", "drafting a reply".into()))
    }

    /// A draft was sent for approval.
    pub fn await_approval(
        &mut self,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<NewAuditEntry, CaseError> {
        self.go(CaseState::AwaitingApproval, now)?;
        Ok(self.entry(
            actor,
            now,
            "case.awaiting_approval",
            "reply sent for approval".into(),
        ))
    }

    /// The draft was rejected: back to drafting.
    pub fn rejected(&mut self, actor: &Actor, now: Timestamp) -> Result<NewAuditEntry, CaseError> {
        self.go(CaseState::Drafting, now)?;
        Ok(self.entry(
            actor,
            now,
            "case.rejected",
            "reply rejected, back to drafting".into(),
        ))
    }

    /// A reply went out; the first one stops the clock.
    pub fn answered(&mut self, actor: &Actor, now: Timestamp) -> Result<NewAuditEntry, CaseError> {
        self.go(CaseState::Answered, now)?;
        let first = self.first_response_at.is_none();
        if first {
            self.first_response_at = Some(now);
        }
        let detail = match (first, self.breached(now)) {
            (true, true) => "first reply sent, after the time limit",
            (true, false) => "first reply sent, within the time limit",
            _ => "reply sent",
        };
        Ok(self.entry(actor, now, "case.answered", detail.into()))
    }

    /// Closes the case.
    pub fn close(
        &mut self,
        actor: &Actor,
        reason: &str,
        now: Timestamp,
    ) -> Result<NewAuditEntry, CaseError> {
        let owner = self.assignee.as_deref() == Some(actor.name.as_str());
        Case::allow(
            actor,
            actor.role.at_least(Role::Officer) || (owner && actor.role.may_work_cases()),
            "close this case",
        )?;
        self.go(CaseState::Closed, now)?;
        Ok(self.entry(actor, now, "case.close", reason.to_owned()))
    }

    /// Reopens the case because a new post arrived in the thread (or someone reopened it).
    pub fn reopen(
        &mut self,
        post_id: &str,
        rule: &Rule,
        actor: &str,
        now: Timestamp,
    ) -> Result<NewAuditEntry, CaseError> {
        self.go(CaseState::New, now)?;
        self.post_id = post_id.to_owned();
        self.rule = rule.name.clone();
        self.action = rule.action.describe();
        self.assignee = None;
        self.opened_at = now;
        self.first_response_at = None;
        self.due_at = rule.respond_within.and_then(|d| now.checked_add(d).ok());
        Ok(NewAuditEntry::new(
            now,
            actor,
            "case.reopen",
            self.subject(),
            format!("post {post_id} taken by rule {}", rule.name),
        ))
    }

    /// Adds an internal note.
    pub fn note(
        &self,
        actor: &Actor,
        text: &str,
        now: Timestamp,
    ) -> Result<(Note, NewAuditEntry), CaseError> {
        Case::allow(actor, actor.role.may_work_cases(), "add notes")?;
        let text = text.trim();
        if text.is_empty() {
            return Err(CaseError::EmptyNote);
        }
        let note = Note {
            case_id: self.id.clone(),
            author: actor.name.clone(),
            at: now,
            text: text.to_owned(),
        };
        Ok((note, self.entry(actor, now, "case.note", text.to_owned())))
    }

    /// Time left to the first response (negative once breached), while it is awaited.
    pub fn time_left(&self, now: Timestamp) -> Option<SignedDuration> {
        if self.first_response_at.is_some() || self.state == CaseState::Closed {
            return None;
        }
        self.due_at.map(|due| now.duration_until(due))
    }

    /// Whether the time limit was (or is being) missed: the first response came after it, or
    /// has not come and the limit has passed.
    pub fn breached(&self, now: Timestamp) -> bool {
        match (self.due_at, self.first_response_at) {
            (Some(due), Some(first)) => first > due,
            (Some(due), None) => self.state != CaseState::Closed && now > due,
            (None, _) => false,
        }
    }
}

/// Filters for the inbox list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// Only these states; empty means every open state (all but closed).
    pub states: Vec<CaseState>,
    /// Only cases owned by this user ("my cases").
    pub assignee: Option<String>,
    /// Only cases opened by this rule.
    pub rule: Option<String>,
    /// Only cases past their time limit at this time.
    pub breached_at: Option<Timestamp>,
    /// At most this many, soonest due first.
    pub limit: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    fn post(id: &str, reply_to: Option<&str>) -> Post {
        let mut p: Post = serde_json::from_value(serde_json::json!({
            "network": "x", "id": id, "url": null,
            "author": {"id": "a", "handle": "pat", "display_name": null, "bio": null, "followers": null, "verified": false, "url": null},
            "text": "hi", "title": null, "lang": null, "created_at": "2026-01-01T00:00:00Z", "edited_at": null,
            "reply_to": null, "thread_id": null, "relation": null, "counts": {"likes": null, "replies": null, "reposts": null, "quotes": null},
            "hashtags": [], "mentions": [], "links": [], "media_count": 0, "deleted": false, "feedback": null, "raw": ""
        }))
        .unwrap();
        p.reply_to = reply_to.map(Into::into);
        p
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + s).unwrap()
    }

    #[test]
    fn state_machine_follows_the_workflow() {
        let m = Matrix::default_matrix().unwrap();
        let rule = m.rule("complaint").unwrap();
        let (mut case, audit) = Case::open(&post("10", None), rule, t(0)).unwrap();
        assert_eq!(case.id, "x:10");
        assert_eq!(audit.action, "case.open");
        assert_eq!(case.due_at, Some(t(3600)));
        let squad = Actor::new("nina", Role::Squad);
        let officer = Actor::new("olu", Role::Officer);
        assert!(matches!(
            case.assign(&squad, "olu", t(1)),
            Err(CaseError::NotAllowed { .. })
        ));
        case.assign(&squad, "nina", t(1)).unwrap();
        assert_eq!(case.state, CaseState::Assigned);
        assert!(matches!(
            case.answered(&squad, t(2)),
            Err(CaseError::Transition { .. })
        ));
        case.start_drafting(&squad, t(2)).unwrap();
        case.await_approval(&squad, t(3)).unwrap();
        case.rejected(&officer, t(4)).unwrap();
        assert_eq!(case.state, CaseState::Drafting);
        case.await_approval(&squad, t(5)).unwrap();
        let e = case.answered(&officer, t(60)).unwrap();
        assert!(e.detail.contains("within"));
        assert!(!case.breached(t(99_999)));
        assert_eq!(case.time_left(t(70)), None);
        case.close(&squad, "done", t(70)).unwrap();
        assert!(matches!(
            case.start_drafting(&squad, t(80)),
            Err(CaseError::Transition { .. })
        ));
        let viewer = Actor::new("v", Role::Viewer);
        assert!(case.note(&viewer, "x", t(81)).is_err());
        assert!(matches!(
            case.note(&squad, "  ", t(81)),
            Err(CaseError::EmptyNote)
        ));
        let (note, _) = case.note(&squad, "Called back", t(81)).unwrap();
        assert_eq!(note.case_id, "x:10");
        case.reopen("11", rule, "switchboard", t(100)).unwrap();
        assert_eq!((case.state, case.post_id.as_str()), (CaseState::New, "11"));
    }

    #[test]
    fn squad_cannot_take_a_case_held_by_an_officer_and_close_it() {
        // Issue 14, finding 7: "take" reassigned a case held by an officer without a check, and
        // "close own case" then applied.
        let m = Matrix::default_matrix().unwrap();
        let rule = m.rule("complaint").unwrap();
        let (mut case, _) = Case::open(&post("10", None), rule, t(0)).unwrap();
        let squad = Actor::new("nina", Role::Squad);
        let other_squad = Actor::new("sam", Role::Squad);
        let officer = Actor::new("olu", Role::Officer);
        case.assign(&officer, "olu", t(1)).unwrap();
        assert!(matches!(
            case.assign(&squad, "nina", t(2)),
            Err(CaseError::NotAllowed { .. })
        ));
        assert_eq!(case.assignee.as_deref(), Some("olu"));
        assert!(matches!(
            case.close(&squad, "done", t(3)),
            Err(CaseError::NotAllowed { .. })
        ));
        assert_ne!(case.state, CaseState::Closed);
        // A case nobody holds, or one's own, may be taken; another squad member's may not.
        let (mut free, _) = Case::open(&post("11", None), rule, t(0)).unwrap();
        free.assign(&squad, "nina", t(4)).unwrap();
        free.assign(&squad, "nina", t(5)).unwrap();
        assert!(free.assign(&other_squad, "sam", t(6)).is_err());
        // An officer may hand any case on, to a squad member too.
        case.assign(&officer, "nina", t(7)).unwrap();
        case.close(&squad, "done", t(8)).unwrap();
        assert_eq!(case.state, CaseState::Closed);
    }

    #[test]
    fn route_opens_then_follows_the_thread() {
        let m = Matrix::default_matrix().unwrap();
        let analyser = analyse::Analyser::new().unwrap();
        let mut first = post("20", None);
        first.text =
            "Waited 9 hours in A&E last night. Absolutely disgraceful, nobody told us anything."
                .into();
        let a = analyser.analyse(&first);
        let subject = crate::matrix::Subject::new(&first, &a, &[]);
        let (rule, case, audit) = Case::route(&m, &subject, &first, None, t(0)).unwrap();
        assert_eq!(
            (rule.name.as_str(), audit.action.as_str()),
            ("complaint", "case.open")
        );
        let mut reply = post("21", Some("20"));
        reply.text = first.text.clone();
        let subject = crate::matrix::Subject::new(&reply, &a, &[]);
        let (_, same, audit) = Case::route(&m, &subject, &reply, Some(case.clone()), t(5)).unwrap();
        assert_eq!((same.id.as_str(), same.post_id.as_str()), ("x:20", "21"));
        assert_eq!(audit.action, "case.post");
        let mut closed = same;
        closed.state = CaseState::Closed;
        let (_, reopened, audit) = Case::route(&m, &subject, &reply, Some(closed), t(9)).unwrap();
        assert_eq!(
            (reopened.state, audit.action.as_str()),
            (CaseState::New, "case.reopen")
        );
    }

    #[test]
    fn breach_and_threads() {
        let m = Matrix::default_matrix().unwrap();
        let rule = m.rule("complaint").unwrap();
        let (mut case, _) = Case::open(&post("12", Some("10")), rule, t(0)).unwrap();
        assert_eq!(case.id, "x:10");
        assert!(!case.breached(t(3599)));
        assert!(case.breached(t(3601)));
        assert_eq!(
            case.time_left(t(3660)),
            Some(SignedDuration::from_secs(-60))
        );
        let officer = Actor::new("olu", Role::Officer);
        case.start_drafting(&officer, t(3700)).unwrap();
        let e = case.answered(&officer, t(3800)).unwrap();
        assert!(e.detail.contains("after the time limit"));
        assert!(case.breached(t(3800)));
        assert!(Case::open(&post("1", None), m.rule("everything-else").unwrap(), t(0)).is_none());
    }
}
