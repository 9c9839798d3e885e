"""Announcements, voice mail and the voice unit that plays messages to callers.

Mixed into Switch (switch.py). Two kinds of device answer calls by themselves: an announcement
plays its message and clears the call; a voice-mail pilot records the caller and keeps the
message per mailbox. The voice-unit services (ECMA-269 PlayMessage and Stop) play a message
over an existing connection, typically to a caller waiting at a queue device, and report Play
and Stop events. A message plays for `message_seconds`; a message whose ID begins with
``music:`` is a music stream that plays until stopped and resumes after each spoken message.
Message IDs are the application's; the switch only reports them back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulators.pbx import events as ev
from simulators.pbx.errors import InvalidState, SwitchError
from simulators.pbx.model import (
    CONNECTED,
    QUEUED,
    Announcement,
    Call,
    Connection,
    Player,
    VoiceMail,
    VoiceMessage,
)

MUSIC_PREFIX = "music:"
PLAYABLE_STATES = (QUEUED, CONNECTED)


class MediaMixin:
    """Announcement and voice-mail devices, and PlayMessage / Stop over a connection."""

    devices: dict[str, Any]
    clock: Any
    message_seconds: float
    _players: dict[Connection, Player]
    _recordings: dict[Connection, tuple[str, float]]
    recorded: list[Callable[[VoiceMessage], None]]
    """Called with each message as it is filed (`cti sim` prints them)."""

    # -- configuration ---------------------------------------------------------------------

    def add_announcement(self, number: str, seconds: float = 10.0,
                         message: str | None = None, returns: bool = False) -> None:
        """`message`: the ID its Play events report (default ``announcement:<number>``);
        `returns`: afterwards the call goes back where it came from instead of ending."""
        if not seconds > 0:
            raise ValueError(f"announcement {number}: length must be > 0 seconds")
        self._add(Announcement(number, seconds=seconds,  # type: ignore[attr-defined]
                               message=message or f"announcement:{number}", returns=returns))

    def add_voicemail(self, number: str, max_seconds: float = 120.0) -> None:
        if not max_seconds > 0:
            raise ValueError(f"voice mail {number}: maximum length must be > 0 seconds")
        self._add(VoiceMail(number, max_seconds=max_seconds))  # type: ignore[attr-defined]

    def voice_messages(self, mailbox: str | None = None) -> list[VoiceMessage]:
        """Every recorded message (of one mailbox), oldest first."""
        found = [message for device in self.devices.values() if isinstance(device, VoiceMail)
                 for box, messages in device.mailboxes.items() if mailbox in (None, box)
                 for message in messages]
        return sorted(found, key=lambda m: (m.time, int(m.call_id)))

    # -- voice-unit services -----------------------------------------------------------------

    def play_message(self, call_id: str, device: str, message: str) -> None:
        """Play `message` over the connection (call_id, device): a queued or connected leg."""
        conn = self.connection(call_id, device)  # type: ignore[attr-defined]
        if conn.state not in PLAYABLE_STATES:
            raise InvalidState(f"{device} is {conn.state} in call {call_id}: messages play "
                               "over queued or connected legs only")
        if not message or not message.strip():
            raise SwitchError("a message ID is needed", value="invalidParameterValue")
        player = self._players.setdefault(conn, Player())
        if message.startswith(MUSIC_PREFIX):
            if player.spoken is None and player.music is not None:
                self._emit_media(ev.STOP, conn, player.music)
            player.music = message
            if player.spoken is None:
                self._emit_media(ev.PLAY, conn, message)
            return
        self._speak(conn, player, message, self.message_seconds)

    def stop_message(self, call_id: str, device: str, message: str | None = None) -> None:
        """Stop what plays over the connection: `message`, or everything when None."""
        conn = self.connection(call_id, device)  # type: ignore[attr-defined]
        player = self._players.get(conn)
        playing = () if player is None else (player.spoken, player.music)
        if player is None or (message is not None and message not in playing):
            what = "nothing" if message is None else f"message {message!r} is not"
            raise InvalidState(f"{what} playing over {device} in call {call_id}")
        if message is None or message == player.spoken:
            if player.spoken is not None:
                self._end_spoken(conn, player, resume=message is not None)
            elif player.music is not None:
                self._emit_media(ev.STOP, conn, player.music)
                player.music = None
            if message is None and player.music is not None:
                player.music = None
        else:
            if player.spoken is None:
                self._emit_media(ev.STOP, conn, message)
            player.music = None
        if player.spoken is None and player.music is None:
            self._players.pop(conn, None)

    # -- devices answering by themselves ------------------------------------------------------

    def _offer_media(self, call: Call, device: Announcement | VoiceMail, cause: str) -> None:
        """An announcement or voice-mail pilot answers at once."""
        conn = self._join(call, device.number, "alerting")  # type: ignore[attr-defined]
        self._emit(ev.DELIVERED, call, device.number, cause=cause)  # type: ignore[attr-defined]
        conn.state = CONNECTED
        self._emit(ev.ESTABLISHED, call, device.number, cause=cause)  # type: ignore[attr-defined]
        if isinstance(device, Announcement):
            self._speak(conn, self._players.setdefault(conn, Player()), device.message,
                        device.seconds)
        else:
            mailbox = call.last_redirection or device.number
            self._recordings[conn] = (mailbox, self.clock.seconds())
            conn.timer = self.clock.callLater(device.max_seconds, self._mailbox_full, conn)

    def _mailbox_full(self, conn: Connection) -> None:
        conn.timer = None
        if conn.call.connections.get(conn.device) is conn:
            self._release(conn, cause="normalClearing")  # type: ignore[attr-defined]

    def _media_gone(self, conn: Connection) -> None:
        """A leg leaves its call: what played over it stops, what it recorded is filed."""
        player = self._players.pop(conn, None)
        if player is not None:
            player.cancel_timer()
        recording = self._recordings.pop(conn, None)
        if recording is not None:
            mailbox, began = recording
            box = self.devices[conn.device]
            length = min(self.clock.seconds() - began, box.max_seconds)
            message = VoiceMessage(mailbox, conn.call.calling, began, length, conn.call.call_id)
            box.mailboxes.setdefault(mailbox, []).append(message)
            for listener in list(self.recorded):
                listener(message)

    def _close_media(self) -> None:
        for player in self._players.values():
            player.cancel_timer()

    # -- playing -------------------------------------------------------------------------------

    def _speak(self, conn: Connection, player: Player, message: str, seconds: float) -> None:
        if player.spoken is not None:
            player.cancel_timer()
            self._emit_media(ev.STOP, conn, player.spoken)
        elif player.music is not None:
            self._emit_media(ev.STOP, conn, player.music)
        player.spoken = message
        self._emit_media(ev.PLAY, conn, message, seconds)
        player.timer = self.clock.callLater(seconds, self._spoken_done, conn)

    def _spoken_done(self, conn: Connection) -> None:
        player = self._players.get(conn)
        if player is None:
            return
        player.timer = None
        self._end_spoken(conn, player, resume=True)
        if player.music is None:
            self._players.pop(conn, None)
        device = self.devices.get(conn.device)
        if isinstance(device, Announcement) and conn.call.connections.get(conn.device) is conn:
            self._announcement_over(conn, device)

    def _announcement_over(self, conn: Connection, device: Announcement) -> None:
        """Clear the call, or hand it back (same call, DivertedEvent from the announcement) to
        the device that sent it there while that one is still a destination."""
        back = conn.call.last_redirection
        if device.returns and back in self.devices and back != device.number \
                and back not in conn.call.connections:
            self._redirect(conn, back, cause="redirected")  # type: ignore[attr-defined]
        else:
            self._release(conn, cause="normalClearing")  # type: ignore[attr-defined]

    def _end_spoken(self, conn: Connection, player: Player, resume: bool) -> None:
        player.cancel_timer()
        spoken, player.spoken = player.spoken, None
        self._emit_media(ev.STOP, conn, spoken)
        if resume and player.music is not None:
            self._emit_media(ev.PLAY, conn, player.music)

    def _emit_media(self, kind: str, conn: Connection, message: str | None,
                    seconds: float | None = None) -> None:
        details: dict[str, Any] = {"message": message}
        if seconds is not None:
            details["length"] = seconds
        self._emit(kind, conn.call, conn.device, details=details)  # type: ignore[attr-defined]
