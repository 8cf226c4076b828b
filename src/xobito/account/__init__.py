"""Dashboard accounts: users, workspace memberships and roles, sessions, invitations and
password resets."""
