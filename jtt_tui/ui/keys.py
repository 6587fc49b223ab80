"""Key presses delivered in order, one at a time.

Textual hands each key to the focused widget's own queue and resolves most
bindings (Tab's "focus next", a letter that opens a dialog) only when the key
has bubbled back up to the app. Keys that arrive in one burst — a paste, a
laggy SSH link, a fast typist — are therefore all handed to the widget that
had the focus when they *arrived*: ``ACME-500`` Tab ``Fix login`` ends up in
one field, and keys typed right after ``n`` reach the list behind the dialog
that is still opening.

Here the next key waits until the previous one has been handled all the way
(by the widget, or by a binding on the way up) and until a screen it opened
has mounted and focused its first field. A burst then behaves exactly like
slow typing. The waits are bounded, so a key is never held for long.

Keys pressed while the store is still opening (the first moments, or longer
while a MongoDB server is being reached) are held and run, in order, once it
is open; only quitting goes through at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

# upper bounds of the waits: a handler that takes longer only delays the next key
HANDLED_WITHIN_S = 1.0
SETTLED_WITHIN_S = 1.0
# keys held while the store opens are mentioned after this long
TELL_AFTER_S = 0.5
QUIT_KEYS = frozenset({"ctrl+q", "ctrl+c", "q"})


class OrderedKeys:
    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._queue: asyncio.Queue[events.Key] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.opened = asyncio.Event()  # set by the app once the store is open
        self._told = False

    def push(self, event: events.Key) -> None:
        """Queue a key press that just arrived (on the app's task)."""
        if not self.opened.is_set() and event.key in QUIT_KEYS:
            # quitting while the store opens: now, and the held keys go with it
            self.stop()
            while not self._queue.empty():
                self._queue.get_nowait()
            self._task = asyncio.create_task(self._deliver(event), name="quit-key")
            return
        self._queue.put_nowait(event)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver_all(), name="ordered-keys")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _deliver_all(self) -> None:
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if not self.opened.is_set():
                await self._until_open()
            try:
                await self._deliver(event)
            except Exception as error:  # as Textual does with a failing handler
                self.app._handle_exception(error)
                return

    async def _until_open(self) -> None:
        """Hold the keys until the store is open (each screen's actions need
        it); say so once when that takes a moment."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.opened.wait(), TELL_AFTER_S)
            return
        if not self._told:
            self._told = True
            self.app.notify(
                "Still opening the store… the keys you press now run once it is open (^q quits).",
                timeout=4,
            )
        await self.opened.wait()

    async def _deliver(self, event: events.Key) -> None:
        await self._settled()
        target: MessagePump = self.app.focused or self.app.screen
        # Textual's own handling: priority bindings, else to the focused widget
        await App.on_event(self.app, event)
        if event.is_forwarded:
            await self._handled(event, target)

    async def _settled(self) -> None:
        """Until the screen on top has mounted (a dialog that just opened has
        put the focus in its first field)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLED_WITHIN_S
        while not self.app.screen.is_mounted and loop.time() < deadline:
            await asyncio.sleep(0.002)

    async def _handled(self, event: events.Key, target: MessagePump) -> None:
        """Follow the key up the DOM to the app: a callback queued on each
        node after the key has reached it runs once that node has handled it
        (when a node passes a key on to its parent, it does so while
        handling it, so the key is in the parent's queue before our callback
        is). Whether a node stopped the key cannot be read reliably here (the
        nodes run concurrently), and a key may end at the app anyway: so the
        walk always goes to the app."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HANDLED_WITHIN_S
        node: MessagePump | None = target
        while node is not None:
            reached = asyncio.Event()
            if not node.call_later(reached.set):
                return  # closed (a dialog the key dismissed): nothing more to wait for
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reached.wait(), max(deadline - loop.time(), 0.0))
            if not reached.is_set() or node is self.app:
                return
            node = node._parent
