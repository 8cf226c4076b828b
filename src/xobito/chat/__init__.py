"""Conversations (chats) of a workspace: the team inbox's list and threads, assignment and
resolution, and each message's timeline."""
