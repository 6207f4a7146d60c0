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
    /// Change one's own password (with the current one).
    ChangeOwnPassword,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::MarkHandled,
        Action::SaveSearch,
        Action::ManageMonitors,
        Action::ManageUsers,
        Action::ChangeOwnPassword,
    ];

    /// The least trusted role that may do this: the one table of permissions.
    pub const fn min_role(self) -> Role {
        match self {
            Action::Read | Action::ChangeOwnPassword => Role::Viewer,
            Action::MarkHandled => Role::Squad,
            Action::SaveSearch | Action::ManageMonitors => Role::Officer,
            Action::ManageUsers => Role::Admin,
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
