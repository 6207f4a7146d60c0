//! What each role may do: one table, [`Action::min_role`], checked on the server for every
//! request. Roles are ordered ([`Role`]): a role may do everything the roles below it may.

use serde::Serialize;
pub use store::Role;

/// Something a person asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read the stream, needs attention, posts, dashboard, search and saved searches.
    Read,
    /// Mark a post as handled.
    MarkHandled,
    /// Save and remove saved searches.
    SaveSearch,
    /// Add, change and remove monitors.
    ManageMonitors,
    /// Add people, change their roles, reset their passwords, remove them.
    ManageUsers,
    /// Hide an alert from one's own banner.
    DismissAlert,
    /// Draft a holding statement for an alert.
    DraftStatement,
    /// Approve or reject a holding statement (never one's own).
    ApproveStatement,
    /// Work cases: take one, add notes, write and submit replies, close one's own.
    WorkCases,
    /// Give a case to someone else.
    AssignCases,
    /// Decide on drafts. Who may decide on a given draft is then up to the approval rules
    /// (`engage::approval`): the draft's tier, or the leader it goes out for, and never its writer.
    ApproveDrafts,
    /// Publish an approved draft, or retry a failed publication.
    PublishDrafts,
    /// Plan stories: new posts for the organisation's and leaders' accounts, and their schedule.
    PlanStories,
    /// Read the audit log and check its chain.
    ReadAudit,
    /// Download the whole audit log as CSV.
    ExportAudit,
    /// Change one's own password (with the current one), and one's own second factor.
    ChangeOwnPassword,
    /// Erase everything stored about one author, on their request.
    EraseData,
}

/// The least role that sees the count of drafts waiting for approval in the navigation.
pub const APPROVAL_COUNT_ROLE: Role = Role::Approver;

impl Action {
    /// Every action.
    pub const ALL: [Action; 17] = [
        Action::Read,
        Action::MarkHandled,
        Action::SaveSearch,
        Action::ManageMonitors,
        Action::ManageUsers,
        Action::DismissAlert,
        Action::DraftStatement,
        Action::ApproveStatement,
        Action::WorkCases,
        Action::AssignCases,
        Action::ApproveDrafts,
        Action::PublishDrafts,
        Action::PlanStories,
        Action::ReadAudit,
        Action::ExportAudit,
        Action::ChangeOwnPassword,
        Action::EraseData,
    ];

    /// The least trusted role that may do this: the one table of permissions.
    pub const fn min_role(self) -> Role {
        match self {
            Action::Read
            | Action::ChangeOwnPassword
            | Action::DismissAlert
            | Action::ApproveDrafts => Role::Viewer,
            Action::MarkHandled | Action::WorkCases | Action::PublishDrafts => Role::Squad,
            Action::SaveSearch
            | Action::ManageMonitors
            | Action::AssignCases
            | Action::PlanStories
            | Action::ReadAudit
            | Action::DraftStatement => Role::Officer,
            Action::ExportAudit | Action::ApproveStatement => Role::Approver,
            Action::ManageUsers | Action::EraseData => Role::Admin,
        }
    }

    /// Whether `role` may do this.
    pub fn allowed(self, role: Role) -> bool {
        role >= self.min_role()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_admin_may_do_everything() {
        assert!(Role::Viewer < Role::Squad && Role::Approver < Role::Admin);
        for action in Action::ALL {
            assert!(action.allowed(Role::Admin));
        }
        assert!(!Action::MarkHandled.allowed(Role::Viewer));
        assert!(Action::MarkHandled.allowed(Role::Squad));
        assert!(!Action::ManageUsers.allowed(Role::Approver));
    }
}
