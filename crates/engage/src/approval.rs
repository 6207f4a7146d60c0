//! Approvals: who may send what, and who may approve it.
//!
//! The tier comes from the matrix rule (its `approval` role, unless the sender is at or above
//! it) and from the checks (a clinical statement by someone not allowed needs the matrix's
//! clinical role). A blocked draft can be neither submitted nor approved. Nobody approves their
//! own draft; a leader's post is approved by that leader; a rejection needs a comment; an
//! approver may edit and approve in one step (the edited text must pass the checks again).

use jiff::Timestamp;
use serde::Serialize;

use crate::{
    audit::NewAuditEntry,
    checks::Verdict,
    draft::{Draft, DraftStatus},
    matrix::{Matrix, Rule},
    role::{Actor, Role},
};

/// Why an approval step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// The checks block the draft.
    #[error("the draft cannot be sent: {0}; change the text and try again")]
    Blocked(String),
    /// The actor may not send under the rule.
    #[error(
        "{actor} ({role}) may not send replies under rule `{rule}`: ask someone it lists as a sender"
    )]
    MayNotSend {
        /// The actor.
        actor: String,
        /// Their role.
        role: Role,
        /// The rule.
        rule: String,
    },
    /// Approving one's own draft.
    #[error("{0} wrote this draft and cannot approve it: ask another approver")]
    SelfApproval(String),
    /// The approver's role is below the tier.
    #[error("{actor} ({role}) cannot approve: this draft needs a {tier} or above")]
    BelowTier {
        /// The actor.
        actor: String,
        /// Their role.
        role: Role,
        /// The tier needed.
        tier: Role,
    },
    /// A leader's post approved by someone else.
    #[error("this post goes out as {leader}; only {leader} can approve it")]
    NotTheLeader {
        /// The leader.
        leader: String,
    },
    /// Not in a state for this step.
    #[error("the draft is {0}; this step needs it to be awaiting approval")]
    NotAwaiting(&'static str),
    /// A rejection without a comment.
    #[error("say why it is rejected: a rejection needs a comment")]
    MissingComment,
}

/// What happens to a submitted draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOutcome {
    /// No approval needed: send now (or schedule).
    SendNow,
    /// Waits for someone of this role or above.
    AwaitingApproval(Role),
}

/// The tier a draft needs from `sender` under `rule` given the checks' verdict (`None`: none).
pub fn required_tier(
    matrix: &Matrix,
    rule: Option<&Rule>,
    sender: Role,
    verdict: &Verdict,
) -> Option<Role> {
    let from_rule = rule.and_then(|r| r.approval.filter(|_| r.needs_approval(sender)));
    let from_checks = verdict.needs_approval().then(|| {
        matrix
            .clinical_roles
            .iter()
            .min()
            .copied()
            .unwrap_or(Role::Approver)
    });
    from_rule.max(from_checks)
}

/// Whether `actor` may approve `draft` (for showing the buttons).
pub fn may_approve(actor: &Actor, draft: &Draft) -> bool {
    check_approver(actor, draft).is_ok()
}

fn check_approver(actor: &Actor, draft: &Draft) -> Result<(), ApprovalError> {
    if draft.status != DraftStatus::AwaitingApproval {
        return Err(ApprovalError::NotAwaiting(draft.status.as_str()));
    }
    if actor.name == draft.author {
        return Err(ApprovalError::SelfApproval(actor.name.clone()));
    }
    if let Some(leader) = &draft.on_behalf_of {
        return if *leader == actor.name {
            Ok(())
        } else {
            Err(ApprovalError::NotTheLeader {
                leader: leader.clone(),
            })
        };
    }
    let tier = draft.approval_tier.unwrap_or(Role::Approver);
    if !actor.role.at_least(tier) {
        return Err(ApprovalError::BelowTier {
            actor: actor.name.clone(),
            role: actor.role,
            tier,
        });
    }
    Ok(())
}

fn blocked(verdict: &Verdict) -> Result<(), ApprovalError> {
    if verdict.blocked() {
        let why: Vec<&str> = verdict
            .findings
            .iter()
            .filter(|f| f.severity == crate::checks::Severity::Block)
            .map(|f| f.message.as_str())
            .collect();
        return Err(ApprovalError::Blocked(why.join("; ")));
    }
    Ok(())
}

/// Submits a draft to be sent: refused when blocked or when the sender may not send under the
/// rule; otherwise ready to send, or waiting for the tier it needs.
pub fn submit(
    draft: &mut Draft,
    sender: &Actor,
    matrix: &Matrix,
    rule: Option<&Rule>,
    verdict: &Verdict,
    now: Timestamp,
) -> Result<(ApprovalOutcome, NewAuditEntry), ApprovalError> {
    blocked(verdict)?;
    if let Some(rule) = rule
        && !rule.may_send(sender.role)
        && rule.approval.is_none()
    {
        return Err(ApprovalError::MayNotSend {
            actor: sender.name.clone(),
            role: sender.role,
            rule: rule.name.clone(),
        });
    }
    let mut tier = required_tier(matrix, rule, sender.role, verdict);
    if let Some(rule) = rule
        && !rule.may_send(sender.role)
    {
        tier = tier.max(rule.approval);
    }
    let leader = draft.on_behalf_of.as_ref().filter(|l| **l != sender.name);
    draft.updated_at = now;
    draft.rejection = None;
    let (outcome, detail) = match (tier, leader) {
        (None, None) => {
            draft.status = DraftStatus::Approved;
            (
                ApprovalOutcome::SendNow,
                "submitted; no approval needed".to_owned(),
            )
        }
        (_, Some(leader)) => {
            draft.status = DraftStatus::AwaitingApproval;
            draft.approval_tier = Some(tier.unwrap_or(Role::Squad));
            (
                ApprovalOutcome::AwaitingApproval(tier.unwrap_or(Role::Squad)),
                format!("submitted; awaiting approval by {leader}"),
            )
        }
        (Some(t), None) => {
            draft.status = DraftStatus::AwaitingApproval;
            draft.approval_tier = Some(t);
            (
                ApprovalOutcome::AwaitingApproval(t),
                format!("submitted; awaiting approval by a {t}"),
            )
        }
    };
    Ok((
        outcome,
        NewAuditEntry::new(now, &sender.name, "draft.submit", draft.subject(), detail),
    ))
}

/// Approves a draft, optionally with an edited text (whose checks are `verdict`).
pub fn approve(
    draft: &mut Draft,
    approver: &Actor,
    edited: Option<&str>,
    verdict: &Verdict,
    now: Timestamp,
) -> Result<NewAuditEntry, ApprovalError> {
    check_approver(approver, draft)?;
    blocked(verdict)?;
    let detail = match edited {
        Some(text) if text != draft.text => {
            let d = format!("edited and approved; was: {}", draft.text);
            draft.text = text.to_owned();
            d
        }
        _ => "approved".to_owned(),
    };
    draft.status = DraftStatus::Approved;
    draft.approved_by = Some(approver.name.clone());
    draft.updated_at = now;
    Ok(NewAuditEntry::new(
        now,
        &approver.name,
        "draft.approve",
        draft.subject(),
        detail,
    ))
}

/// Rejects a draft with a comment.
pub fn reject(
    draft: &mut Draft,
    approver: &Actor,
    comment: &str,
    now: Timestamp,
) -> Result<NewAuditEntry, ApprovalError> {
    check_approver(approver, draft)?;
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(ApprovalError::MissingComment);
    }
    draft.status = DraftStatus::Rejected;
    draft.rejection = Some(comment.to_owned());
    draft.updated_at = now;
    Ok(NewAuditEntry::new(
        now,
        &approver.name,
        "draft.reject",
        draft.subject(),
        comment.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use model::Network;

    use super::*;
    use crate::checks::{CheckKind, Checker, DraftContext, Finding, Severity};

    fn t() -> Timestamp {
        Timestamp::from_second(1_767_225_600).unwrap()
    }

    #[test]
    fn squad_apology_goes_straight_out() {
        let m = Matrix::default_matrix().unwrap();
        let mut d = Draft::new(
            Some("x:1"),
            Network::X,
            Some("1"),
            "nina",
            "Hi Pat, so sorry. ^Nina",
            t(),
        );
        let nina = Actor::new("nina", Role::Squad);
        let (o, e) = submit(
            &mut d,
            &nina,
            &m,
            m.rule("complaint"),
            &Verdict::default(),
            t(),
        )
        .unwrap();
        assert_eq!(o, ApprovalOutcome::SendNow);
        assert_eq!(d.status, DraftStatus::Approved);
        assert_eq!(e.action, "draft.submit");
    }

    #[test]
    fn clinical_question_needs_approval_and_nobody_approves_their_own() {
        let m = Matrix::default_matrix().unwrap();
        let rule = m.rule("clinical-question");
        let olu = Actor::new("olu", Role::Officer);
        let mut d = Draft::new(
            Some("x:2"),
            Network::X,
            Some("2"),
            "olu",
            "Hi Pat, call us. ^Olu",
            t(),
        );
        let (o, _) = submit(&mut d, &olu, &m, rule, &Verdict::default(), t()).unwrap();
        assert_eq!(o, ApprovalOutcome::AwaitingApproval(Role::Approver));
        assert!(matches!(
            approve(&mut d, &olu, None, &Verdict::default(), t()),
            Err(ApprovalError::SelfApproval(_))
        ));
        let other = Actor::new("oona", Role::Officer);
        assert!(matches!(
            approve(&mut d, &other, None, &Verdict::default(), t()),
            Err(ApprovalError::BelowTier { .. })
        ));
        let dir = Actor::new("dee", Role::Approver);
        assert!(matches!(
            reject(&mut d, &dir, " ", t()),
            Err(ApprovalError::MissingComment)
        ));
        reject(&mut d, &dir, "Too specific, keep it general", t()).unwrap();
        assert_eq!(d.status, DraftStatus::Rejected);
        assert!(!may_approve(&dir, &d));
        submit(&mut d, &olu, &m, rule, &Verdict::default(), t()).unwrap();
        assert!(may_approve(&dir, &d));
        let e = approve(
            &mut d,
            &dir,
            Some("Hi Pat, please call us. ^Dee"),
            &Verdict::default(),
            t(),
        )
        .unwrap();
        assert!(e.detail.contains("edited"));
        assert_eq!(d.approved_by.as_deref(), Some("dee"));
        assert_eq!(d.text, "Hi Pat, please call us. ^Dee");
        // Even an approver cannot approve a draft they wrote.
        let mut own = Draft::new(None, Network::X, None, "dee", "x", t());
        own.status = DraftStatus::AwaitingApproval;
        assert!(matches!(
            approve(&mut own, &dir, None, &Verdict::default(), t()),
            Err(ApprovalError::SelfApproval(_))
        ));
    }

    #[test]
    fn clinical_check_raises_tier_and_block_refuses() {
        let m = Matrix::default_matrix().unwrap();
        let c = Checker::new().unwrap();
        let nina = Actor::new("nina", Role::Squad);
        let text = "Hi Pat, we've reviewed your notes and your treatment was right. ^Nina";
        let v = c.check(
            text,
            &DraftContext {
                network: Network::X,
                replying_to: None,
                recipient: Some("Pat"),
                clinical_allowed: m.may_make_clinical_statements(Role::Squad),
                phone_lines: &m.phone_lines,
            },
        );
        assert!(v.has(CheckKind::Clinical));
        let mut d = Draft::new(Some("x:3"), Network::X, Some("3"), "nina", text, t());
        let (o, _) = submit(&mut d, &nina, &m, m.rule("complaint"), &v, t()).unwrap();
        assert_eq!(o, ApprovalOutcome::AwaitingApproval(Role::Approver));
        let blocked = Verdict {
            findings: vec![Finding {
                check: CheckKind::PersonalData,
                severity: Severity::Block,
                message: "an NHS number".into(),
                suggestion: None,
            }],
        };
        let mut d = Draft::new(Some("x:3"), Network::X, Some("3"), "nina", text, t());
        assert!(matches!(
            submit(&mut d, &nina, &m, m.rule("complaint"), &blocked, t()),
            Err(ApprovalError::Blocked(_))
        ));
    }

    #[test]
    fn leader_approves_their_own_voice() {
        let m = Matrix::default_matrix().unwrap();
        let writer = Actor::new("olu", Role::Officer);
        let mut d = Draft::new(
            None,
            Network::Mastodon,
            None,
            "olu",
            "Proud of our nurses today. ^Chris",
            t(),
        );
        d.on_behalf_of = Some("chris".into());
        let (o, _) = submit(&mut d, &writer, &m, None, &Verdict::default(), t()).unwrap();
        assert!(matches!(o, ApprovalOutcome::AwaitingApproval(_)));
        let dir = Actor::new("dee", Role::Approver);
        assert!(matches!(
            approve(&mut d, &dir, None, &Verdict::default(), t()),
            Err(ApprovalError::NotTheLeader { .. })
        ));
        approve(
            &mut d,
            &Actor::new("chris", Role::Viewer),
            None,
            &Verdict::default(),
            t(),
        )
        .unwrap();
        assert_eq!(d.status, DraftStatus::Approved);
    }
}
