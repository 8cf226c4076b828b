"""Processing one stored webhook body: messages, statuses, template status updates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign import hooks as campaign_hooks
from xobito.campaign import results as campaign_results
from xobito.contact.repository import ContactRepository
from xobito.inbound.ops import BodyReader, ForwardOp, MessageOp, Op, StatusOp, TemplateOp
from xobito.inbound.parsing import timestamp
from xobito.inbound.scope import Scope
from xobito.jobs.repository import JobRepository
from xobito.kit.time import utcnow
from xobito.live.publish import publish
from xobito.message.recipient import RecipientResolver
from xobito.message.repository import (
    ChatRepository,
    MessageRepository,
    MessageState,
    MessageStates,
    stored_wamids,
)
from xobito.message.statemachine import applies
from xobito.models import Chat, Contact, Message, MessageStatus, OptOutSetting, Workspace
from xobito.template.repository import set_status_by_meta_id
from xobito.webhook.events import emit_many, emit_message, emit_received, message_body
from xobito.webhook.forwarding import emit_forwards
from xobito.workspace.schemas import WorkspaceInfo

UNKNOWN_STATUS_JOB = "inbound.status_retry"
MAX_NOTES = 2000
TIMESTAMP_FIELD = {
    "sent": "sent_at",
    "delivered": "delivered_at",
    "read": "read_at",
    "failed": "failed_at",
}


def move(message: Message | MessageState, status: dict[str, Any]) -> bool:
    """Apply one status to a message in memory (docs/api/messages.md); whether it moved."""
    new = status.get("status")
    if not isinstance(new, str) or not applies(message.status, new):
        return False
    when = timestamp(status.get("timestamp"))
    message.status = new
    setattr(message, TIMESTAMP_FIELD[new], when)
    if new == "read" and message.delivered_at is None:
        message.delivered_at = when
    if new == "failed":
        errors = status.get("errors") or [{}]
        ok = isinstance(errors, list) and errors and isinstance(errors[0], dict)
        first = errors[0] if ok else {}
        message.error_code = first.get("code") if isinstance(first.get("code"), int) else None
        message.error_message = f"{first.get('code')}: {first.get('title') or 'failed'}"
    return True


class StatusBatch:
    """The statuses of a batch of bodies, applied in memory to messages locked up front.

    Events are queued in order and written before anything else the batch does (so the
    outbox holds them in the same order as one body at a time would); the moved messages
    are written back once, at the end.
    """

    def __init__(self, session: AsyncSession, states: dict[str, MessageState]) -> None:
        self.session = session
        self.states = states
        self.moved: dict[int, MessageState] = {}
        self.events: list[tuple[int, str, Callable[[], dict[str, Any]]]] = []
        self.about: list[int] = []  # the message of each of ``events``
        self.received: list[dict[str, Any]] = []  # every status of a known message (timeline)
        self.created: dict[str, int] = {}  # inbound messages stored by this batch: wamid -> ws

    def apply(self, workspace_id: int, status: dict[str, Any]) -> None:
        wamid, new = status.get("id"), status.get("status")
        if not isinstance(wamid, str) or not isinstance(new, str):
            return
        message = self.states.get(wamid)
        if message is None or message.workspace_id != workspace_id:
            if self.created.get(wamid) == workspace_id:
                return  # an inbound message this batch stored: statuses never move it
            unknown_status(self.session, workspace_id, status)
            return
        moved = move(message, status)
        self.received.append(status_row(message.id, new, moved, status))
        if moved:
            self.moved[message.id] = message
            # The body is only built if an endpoint listens: keep the state it must show.
            body = partial(message_body, replace(message))
            self.events.append((workspace_id, f"message.{message.status}", body))
            self.about.append(message.id)
            publish(
                self.session, workspace_id, "status", chat_id=message.chat_id, message_id=message.id
            )

    async def emit(self) -> None:
        if self.events:
            await emit_many(self.session, self.events, self.about)
            self.events, self.about = [], []

    async def finish(self) -> None:
        await self.emit()
        await MessageStates(self.session).save(list(self.moved.values()), utcnow())
        await record_statuses(self.session, self.received)
        await campaign_hooks.follow_statuses(
            self.session,
            [(m.id, m.status, m.error_code, m.error_message) for m in self.moved.values()],
        )


def status_row(message_id: int, status: str, applied: bool, raw: dict[str, Any]) -> dict[str, Any]:
    """A ``message_statuses`` row: the status webhook as received, and whether it applied."""
    return {
        "message_id": message_id,
        "status": status[:16],
        "applied": applied,
        "payload": raw,
        "received_at": utcnow(),
    }


async def record_statuses(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(MessageStatus), rows)


def unknown_status(session: AsyncSession, workspace_id: int, status: dict[str, Any]) -> None:
    """The send that produced this wamid may not have committed yet: look again later."""
    JobRepository(session).enqueue(
        UNKNOWN_STATUS_JOB,
        {"workspace_id": workspace_id, "status": status},
        delay=2,
        max_attempts=5,
    )


@dataclass
class Senders:
    """A batch's look-ups for its inbound messages (``InboundProcessor._senders``), and what
    they did to the conversations."""

    stored: set[str]  # wamids stored already, or by this batch
    contacts: dict[tuple[int, str], Contact] = field(default_factory=dict)  # (ws, phone)
    created: set[tuple[int, str]] = field(default_factory=set)  # created by this batch
    announced: set[tuple[int, str]] = field(default_factory=set)  # their contacts.created
    campaigned: set[int] = field(default_factory=set)  # contact ids a campaign has sent to
    checked: set[int] = field(default_factory=set)  # contact ids ``campaigned`` is sure of
    optout: dict[int, OptOutSetting | None] = field(default_factory=dict)  # by workspace
    chats: dict[tuple[int, int], Chat] = field(default_factory=dict)  # (ws, contact id)
    unread: dict[int, tuple[Chat, int]] = field(default_factory=dict)  # chat id -> new messages

    def finish(self, session: AsyncSession) -> None:
        """Count the customer's new messages as unread, in one UPDATE per conversation
        (added in SQL: an agent may open the conversation meanwhile)."""
        for chat, count in self.unread.values():
            chat.unread_count = Chat.unread_count + count


class InboundProcessor:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def process_many(self, bodies: Sequence[tuple[bytes, Scope | None]]) -> list[str | None]:
        """Stored webhook bodies with their scopes, in order, in the caller's transaction;
        returns each body's notes (what was left out of it and why), if any.

        A change is applied only to workspaces in its body's scope (``inbound.ops``). The
        statuses' messages are locked and loaded in one query, moved in memory and saved in
        bulk (``StatusBatch``); inbound messages and template updates run one by one in
        between, after the events of the statuses before them were written.
        """
        reader = BodyReader(self.session)
        ops: list[Op] = []
        notes: list[str | None] = []
        for body, scope in bodies:
            found, noted = await reader.read(body, scope)
            ops += found
            notes.append("\n".join(noted)[:MAX_NOTES] if noted else None)
        senders = await self._senders([op for op in ops if isinstance(op, MessageOp)])
        wamids = {op.status.get("id") for op in ops if isinstance(op, StatusOp)}
        states = await MessageStates(self.session).lock({w for w in wamids if isinstance(w, str)})
        batch = StatusBatch(self.session, states)
        for op in ops:
            if isinstance(op, StatusOp):
                batch.apply(op.workspace_id, op.status)
                continue
            await batch.emit()
            if isinstance(op, ForwardOp):
                await emit_forwards(self.session, op.forwards)
                continue
            if isinstance(op, TemplateOp):
                await set_status_by_meta_id(
                    self.session, op.workspace_ids, op.template_id, op.event
                )
                continue
            message = await self.message(op, senders)
            if message is not None and message.wamid is not None:
                batch.created[message.wamid] = op.workspace_id
        senders.finish(self.session)
        await batch.finish()
        return notes

    async def _resolver(self, workspace_id: int) -> RecipientResolver:
        """One per workspace and processor (a batch): its look-ups are made once."""
        resolvers: dict[int, RecipientResolver] = self.__dict__.setdefault("_resolvers", {})
        if workspace_id not in resolvers:
            ws = await self.session.get(Workspace, workspace_id)
            assert ws is not None
            resolvers[workspace_id] = RecipientResolver(self.session, WorkspaceInfo.of(ws))
        return resolvers[workspace_id]

    async def _senders(self, inbound: list[MessageOp]) -> Senders:
        """What the batch's inbound messages need, in one query each: which wamids are
        stored already, and the senders' contacts and chats (per workspace)."""
        senders = Senders(await stored_wamids(self.session, {op.inbound.wamid for op in inbound}))
        phones: dict[int, set[str]] = {}
        for op in inbound:
            phones.setdefault(op.workspace_id, set()).add(op.inbound.phone)
        for workspace_id, numbers in phones.items():
            found = await ContactRepository(self.session, workspace_id).by_phones(numbers)
            ids = [c.id for c in found.values()]
            chats = await ChatRepository(self.session, workspace_id).for_contacts(ids)
            senders.contacts.update(((workspace_id, p), c) for p, c in found.items())
            senders.chats.update(((workspace_id, c), chat) for c, chat in chats.items())
            senders.campaigned |= await campaign_results.sent_to(self.session, workspace_id, ids)
            senders.checked.update(ids)
        await self._create_senders(inbound, senders)
        return senders

    async def _create_senders(self, inbound: list[MessageOp], senders: Senders) -> None:
        """The senders not found, created as guests with their chats in a few statements
        for the whole batch (one at a time, a batch of new customers cost several round
        trips each). Each one's ``contacts.created`` is emitted with its first message
        (``message``), where one at a time would have; a number committed concurrently
        meanwhile is looked up again."""
        missing: dict[int, dict[str, str | None]] = {}
        for op in inbound:
            key = (op.workspace_id, op.inbound.phone)
            if op.inbound.wamid not in senders.stored and key not in senders.contacts:
                missing.setdefault(op.workspace_id, {}).setdefault(key[1], op.profile_name)
        for workspace_id, names in missing.items():
            created = await (await self._resolver(workspace_id)).create_guests(names)
            late = set(names) - set(created)
            if late:
                contacts = ContactRepository(self.session, workspace_id)
                found = await contacts.by_phones(late)
                senders.contacts.update(((workspace_id, p), c) for p, c in found.items())
            senders.contacts.update(((workspace_id, p), c) for p, c in created.items())
            senders.created.update((workspace_id, p) for p in created)
            senders.checked.update(c.id for c in created.values())  # no campaign sent to them
            chats = await ChatRepository(self.session, workspace_id).create_for_new(
                [c.id for c in created.values()]
            )
            senders.chats.update(((workspace_id, c), chat) for c, chat in chats.items())

    async def message(self, op: MessageOp, senders: Senders) -> Message | None:
        """Store one inbound message (written with the session's next flush)."""
        workspace_id, number, m, profile_name = op
        if m.wamid in senders.stored:
            return None  # Meta redelivered it
        phone = m.phone
        contact = senders.contacts.get((workspace_id, phone))
        new_contact = (workspace_id, phone) in senders.created
        created = new_contact and (workspace_id, phone) not in senders.announced
        if created:
            senders.announced.add((workspace_id, phone))
            assert contact is not None
            await (await self._resolver(workspace_id)).announce(contact)
        if contact is None:  # not there when the batch looked (nor created then)
            resolver = await self._resolver(workspace_id)
            contact, created = await resolver.for_inbound(phone, profile_name, looked_up=True)
            senders.contacts[(workspace_id, phone)] = contact
        chat = senders.chats.get((workspace_id, contact.id))
        if chat is None:
            chats = ChatRepository(self.session, workspace_id)
            # A contact created by this transaction has no chat yet: nobody else can see it.
            chat = await (chats.create(contact.id) if created else chats.ensure(contact.id))
            senders.chats[(workspace_id, contact.id)] = chat
        new_conversation = chat.last_message_at is None
        if chat.last_inbound_at is None or chat.last_inbound_at < m.received_at:
            chat.last_inbound_at = m.received_at
        if chat.last_message_at is None or chat.last_message_at < m.received_at:
            chat.last_message_at = m.received_at
        message = Message(
            workspace_id=workspace_id,
            chat_id=chat.id,
            contact_id=contact.id,
            wamid=m.wamid,
            direction="inbound",
            type=m.type,
            phone=contact.phone,
            phone_number_id=number,
            text=m.text,
            payload={"button_reply": m.button_reply, "media": m.media, "webhook": m.raw},
            status="received",
            context_message_id=m.context_message_id,
            received_at=m.received_at,
        )
        self.session.add(message)
        senders.stored.add(m.wamid)
        await emit_received(self.session, message)
        await campaign_hooks.on_inbound(
            self.session,
            contact,
            message,
            # One found only after the batch looked (created concurrently): not checked.
            campaigned=contact.id in senders.campaigned or contact.id not in senders.checked,
            optout_settings=senders.optout,
        )
        self._conversation_moved(senders, chat, message, new_conversation)
        return message

    def _conversation_moved(
        self, senders: Senders, chat: Chat, message: Message, new: bool
    ) -> None:
        """A customer's message: one more unread, a resolved conversation reopens, and the
        open pages hear of it."""
        ws = chat.workspace_id
        _, count = senders.unread.get(chat.id, (chat, 0))
        senders.unread[chat.id] = (chat, count + 1)
        reopened = chat.resolved_at is not None
        if reopened:
            chat.resolved_at = None
        publish(self.session, ws, "message", chat_id=chat.id, message_id=message)
        if new or reopened:
            data = {"change": "new" if new else "reopened"}
            publish(self.session, ws, "conversation", chat_id=chat.id, data=data)

    async def status(
        self, workspace_id: int, status: dict[str, Any], *, retry_unknown: bool = True
    ) -> bool:
        """Apply one status (docs/api/messages.md). Returns whether the message moved."""
        wamid, new = status.get("id"), status.get("status")
        if not isinstance(wamid, str) or not isinstance(new, str):
            return False
        message = await MessageRepository(self.session, workspace_id).by_wamid(wamid, lock=True)
        if message is None:
            if retry_unknown:
                unknown_status(self.session, workspace_id, status)
            return False
        moved = move(message, status)
        await record_statuses(self.session, [status_row(message.id, new, moved, status)])
        if not moved:
            return False
        await emit_message(self.session, message)
        await campaign_hooks.follow_statuses(
            self.session, [(message.id, message.status, message.error_code, message.error_message)]
        )
        chat_id = message.chat_id
        publish(self.session, workspace_id, "status", chat_id=chat_id, message_id=message.id)
        return True

    async def known(self, workspace_id: int, status: dict[str, Any]) -> bool:
        wamid = status.get("id")
        return (
            isinstance(wamid, str)
            and await MessageRepository(self.session, workspace_id).by_wamid(wamid) is not None
        )
