"""One browser tab's models and their clock: steps, play and reset, one at a time and never queued.

A click on Step or Play does not step the models itself: it moves the month the clock is heading for
(:attr:`Clock.target`) and wakes the clock's thread, which steps the models up to it and then asks
the page to draw once. Clicks that arrive while the page is drawing only move the target, so twenty
quick Steps end at month 20 after one or two drawings, not after twenty. Play heads for the month
the speed says (``speed`` months a second since Play was pressed, or since the speed last changed),
up to the "play to" month. Reset and any change of the settings rebuild the models at month 0 under
the clock's lock, and stop Play: a step already running finishes on the old models, and nothing
after it touches the new ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel

R = TypeVar("R")

MAX_MONTH = 120
"""No model runs past this month in the app."""


class Clock:
    """The models of one tab and the thread that steps them.

    Args:
        notify: Called (in the clock's thread, outside its lock) after the models moved, to draw the page.
        now: Seconds on a monotonic clock (replaceable in tests).
    """

    def __init__(self, notify: Callable[[], None] = lambda: None, now: Callable[[], float] = time.monotonic) -> None:
        self.notify = notify
        self.now = now
        self.models: list[KubeModel] = []
        self.key: object = None
        self.target = 0
        self.playing = False
        self.speed = 3.0
        self.stop_at = MAX_MONTH
        self._play_from: tuple[float, int] = (0.0, 0)
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._dirty = False

    @property
    def month(self) -> int:
        """The models' month (0 before any step)."""
        return self.models[0].month if self.models else 0

    def models_for(self, key: object, build: Callable[[], list[KubeModel]]) -> list[KubeModel]:
        """The models for a set of inputs: the current ones, or new ones at month 0 when the inputs changed.

        Args:
            key: The inputs (settings, arms, the reset count); equal keys mean the same models.
            build: Builds the models at month 0.

        Returns:
            The models.
        """
        with self._lock:
            if key != self.key or not self.models:
                self.models, self.key = build(), key
                self.target, self.playing = 0, False
            return self.models

    def read(self, reader: Callable[[list[KubeModel]], R]) -> R:
        """Read the models while no step runs (the page draws from what this returns).

        Args:
            reader: Called with the models, under the clock's lock.

        Returns:
            What ``reader`` returned.
        """
        with self._lock:
            return reader(self.models)

    def step(self) -> None:
        """Head one month further than the month the clock is heading for (a click on Step)."""
        with self._lock:
            if self.playing:
                return
            self.target = min(max(self.target, self.month) + 1, MAX_MONTH)
            self._kick()

    def play(self, speed: float, stop_at: int) -> None:
        """Start playing at ``speed`` months a second up to ``stop_at`` (to the end when already there).

        Args:
            speed: Months a second.
            stop_at: The month to stop at.
        """
        with self._lock:
            self.stop_at = min(stop_at, MAX_MONTH) if stop_at > self.month else MAX_MONTH
            self.speed = max(float(speed), 0.1)
            self._play_from = (self.now(), self.month)
            self.playing = True
            self._dirty = True
            self._kick()

    def set_stop_at(self, stop_at: int) -> None:
        """Change the month Play stops at; while playing, a month already passed stops Play at once.

        Args:
            stop_at: The month to stop at.
        """
        with self._lock:
            if self.playing:
                self.stop_at = max(min(stop_at, MAX_MONTH), self.month)
                self._dirty = True
                self._kick()

    def set_speed(self, speed: float) -> None:
        """Change the speed; while playing, the new speed counts from now."""
        with self._lock:
            self.speed = max(float(speed), 0.1)
            if self.playing:
                self._play_from = (self.now(), self.month)

    def pause(self) -> None:
        """Stop playing: once this returns, no further month is stepped (a step under way ends first)."""
        with self._lock:
            if self.playing:
                self._dirty = True
                self._kick()
            self.playing = False
            self.target = self.month

    def due(self) -> int:
        """The month the clock should be at now: the Steps' target, or where Play has got to."""
        with self._lock:
            if not self.playing:
                return self.target
            since, start = self._play_from
            return min(start + int((self.now() - since) * self.speed + 1e-9), self.stop_at)

    def advance(self) -> bool:
        """Step the models up to :meth:`due` (at most to :data:`MAX_MONTH`); stop playing at the end.

        Returns:
            Whether any month was stepped, or Play started or ended (the page needs drawing).
        """
        with self._lock:
            goal = min(self.due(), MAX_MONTH)
            moved, self._dirty = self._dirty, False
            while self.models and self.month < goal:
                for model in self.models:
                    model.step()
                moved = True
            if self.playing and self.month >= min(self.stop_at, MAX_MONTH):
                self.playing = False
                self.target = self.month
                moved = True
            return moved

    def close(self) -> None:
        """Stop the clock's thread (the tab closed)."""
        with self._lock:
            self._closed = True
            self.playing = False
            self._wake.notify_all()

    def _kick(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="kube-sim-clock", daemon=True)
            self._thread.start()
        self._wake.notify_all()

    def _run(self) -> None:
        while True:
            if self.advance():
                self.notify()
                continue
            with self._lock:
                if self._closed:
                    self._thread = None
                    return
                if self.playing:
                    since, start = self._play_from
                    next_at = since + (self.month - start + 1) / self.speed
                    self._wake.wait(timeout=max(0.0, next_at - self.now()))
                elif self.month >= self.target:
                    woken = self._wake.wait(timeout=5.0)
                    if not woken and not self.playing and self.month >= self.target and not self._dirty:
                        self._thread = None  # idle: the next click starts a new thread
                        return
