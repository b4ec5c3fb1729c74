"""Group commit: the writes that arrive while one is being validated are validated together.

A write applies its change and lets the levels follow under the writer lock, one writer at a
time as before; what it then waits for — the incremental validation of what it touched — is
shared. A writer that has applied joins the open *group* and waits; the group is validated
once no other writer is on its way to the lock (every writer that arrived has applied or
given up), by whichever member sees that first, still holding the lock, so the validation
reads a store no one is changing. One validation over the union of the members' focus nodes
stands for one per write: each node's stored result is computed from the state after the
last write that could change it, which is what validating after each write would leave.
Each member gets the results of its own focus nodes (and whether the whole stored report
conforms); a member whose part was refused before it applied anything never joins a group.

Writers are counted from the moment they ask for the lock, so that a group waits for a write
that is queued behind it instead of being validated one write at a time. A group is judged
by one clock (R15 compares review dates with "today"): a writer with another ``--as-of``
waits for the open group and starts its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from rdflib import URIRef

from kg.validation import Report

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Group:
    clock: Hashable
    validate: Callable[[set[URIRef], bool], Report]
    focus: set[URIRef] = field(default_factory=set)
    derivations: bool = False
    members: int = 0
    report: Report | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    """One writer at a time (a re-entrant lock: a use case may call another), and the
    validation of the writes that queue up while one runs, done once for all of them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._turn = threading.Condition(self.lock)
        self._arrived = 0  # writers that asked for the lock and have not yet applied or left
        self._count = threading.Lock()
        self._local = threading.local()
        self._open: _Group | None = None
        self.groups = 0  # validations run for groups (for tests and figures)
        self.grouped = 0  # writes validated in them

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the writer lock for a use case; the outermost use case of a thread counts as a
        writer on its way until it has applied its change (:meth:`commit`) or finished."""
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            with self._count:
                self._arrived += 1
            self._local.counted = True
        self._local.depth = depth + 1
        try:
            with self.lock:
                try:
                    yield
                except BaseException:
                    if depth == 0:  # what it applied before failing is validated all the same
                        for pending in list(self._waiting()):
                            with contextlib.suppress(Exception):
                                pending.report()
                    raise
                if depth == 0:  # the writes this use case left in groups are validated before it returns
                    for pending in list(self._waiting()):
                        pending.report()
        finally:
            self._local.depth = depth
            if depth == 0 and self._local.counted:
                self._local.counted = False
                with self._turn:  # a group may be waiting for this writer
                    self._leave()

    def _leave(self) -> None:
        with self._count:
            self._arrived -= 1
        self._turn.notify_all()

    def join(
        self,
        focus: set[URIRef],
        derivations: bool,
        clock: Hashable,
        validate: Callable[[set[URIRef], bool], Report],
    ) -> Pending:
        """Called under the lock once a write has applied its change: join the open group with
        the write's focus nodes. The write's answer can be read now, as its own change left the
        store; :meth:`Pending.report` then waits for the group's validation (and the writer's
        outermost use case waits for it on leaving, if no one asked)."""
        if getattr(self._local, "counted", False):
            self._local.counted = False
            self._leave()
        while self._open is not None and self._open.clock != clock:
            self._turn.wait()  # another clock's group: let it finish first
        group = self._open
        if group is None:
            group = self._open = _Group(clock, validate)
        group.focus |= focus
        group.derivations |= derivations
        group.members += 1
        pending = Pending(self, group, focus)
        self._waiting().append(pending)
        return pending

    def commit(
        self, focus: set[URIRef], derivations: bool, clock: Hashable, validate: Callable[[set[URIRef], bool], Report]
    ) -> Report:
        """:meth:`join` and wait for the report (``validate(focus, derivations)`` runs once per
        group: the first member's)."""
        return self.join(focus, derivations, clock, validate).report()

    def _waiting(self) -> list[Pending]:
        if not hasattr(self._local, "pending"):
            self._local.pending = []
        return self._local.pending  # type: ignore[no-any-return]

    def _settle(self, group: _Group) -> None:
        """Wait, holding the lock between turns, until ``group`` is validated (by this thread
        when no writer is on its way)."""
        with self._turn:
            while not group.done:
                if self._arrived == 0:  # no writer on its way: validate the group now, holding the lock
                    if self._open is group:
                        self._open = None
                    try:
                        group.report = group.validate(group.focus, group.derivations)
                    except BaseException as exc:  # every member hears of it
                        group.error = exc
                    group.done = True
                    self.groups += 1
                    self.grouped += group.members
                    self._turn.notify_all()
                else:
                    self._turn.wait()


class Pending:
    """A write's place in a group: its report once the group is validated."""

    def __init__(self, commits: GroupCommit, group: _Group, focus: set[URIRef]) -> None:
        self._commits, self._group, self.focus = commits, group, focus

    def report(self) -> Report:
        """The validation of the write's focus nodes (raises what the group's validation raised)."""
        self._commits._settle(self._group)
        waiting = self._commits._waiting()
        if self in waiting:
            waiting.remove(self)
        if self._group.error is not None:
            raise self._group.error
        assert self._group.report is not None
        return _restricted(self._group.report, self.focus)


def _restricted(report: Report, focus: set[URIRef]) -> Report:
    mine = {str(n) for n in focus}
    return Report(
        [r for r in report.results if r.focus in mine], checked=len(focus), whole_conforms=report.whole_conforms
    )


@dataclass
class _Slot(Generic[T, R]):
    item: T
    result: R | None = None
    error: BaseException | None = None
    done: bool = False


class Batches(Generic[T, R]):
    """Items submitted while a batch is being applied are applied together, in one call of
    ``apply``, by one of their submitters (the *leader*; the others wait for their answers):
    one transaction, one propagation and one validation for many small writes of one kind
    (OpenLineage run events), where :class:`GroupCommit` shares only the validation.

    ``apply`` takes the items in the order they arrived and returns one answer per item: a
    value, or the exception that item's submitter raises (its part was refused; the others
    stand). An exception ``apply`` raises reaches every submitter of the batch."""

    def __init__(self, apply: Callable[[list[T]], Sequence[R | BaseException]]) -> None:
        self._apply = apply
        self._turn = threading.Condition()
        self._queue: list[_Slot[T, R]] = []
        self._leading = False
        self.batches = 0  # calls of apply (for tests and figures)
        self.items = 0  # items applied in them

    def submit(self, item: T) -> R:
        """Apply ``item`` with whatever else is queued; its answer (or its exception)."""
        slot: _Slot[T, R] = _Slot(item)
        with self._turn:
            self._queue.append(slot)
            while not slot.done:
                if self._leading:
                    self._turn.wait()
                    continue
                self._leading, batch, self._queue = True, self._queue, []
                self._turn.release()
                try:
                    self._lead(batch)
                finally:
                    self._turn.acquire()
                    self._leading = False
                    self._turn.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _lead(self, batch: list[_Slot[T, R]]) -> None:
        try:
            answers = list(self._apply([s.item for s in batch]))
            if len(answers) != len(batch):
                raise RuntimeError(f"{len(answers)} answers for {len(batch)} items")
        except BaseException as exc:  # every submitter of the batch hears of it
            answers = [exc] * len(batch)
        for s, answer in zip(batch, answers, strict=True):
            if isinstance(answer, BaseException):
                s.error = answer
            else:
                s.result = answer
            s.done = True
        self.batches += 1
        self.items += len(batch)
