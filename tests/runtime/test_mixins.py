"""What the shared mixins give each primitive (``fearless._mixins``): copying,
pickling and ``with``, with the exact messages the primitives raised before
the mixins existed."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest

from fearless import Arc, Mutex, Rc, RecvError, RwLock, Scope, channel, scope

COPY_IS_CLONE: list[tuple[Callable[[], object], str]] = [
    (lambda: Arc(1), "an Arc cannot be pickled"),
    (lambda: Rc(1), "an Rc cannot be pickled"),
    (lambda: channel[int]()[0], "a Sender cannot be pickled"),
]

NO_COPY: list[tuple[Callable[[], object], str]] = [
    (lambda: channel[int]()[1], "a Receiver cannot be copied: a channel has one receiver"),
    (lambda: Mutex(1), "Mutex cannot be copied"),
    (lambda: Mutex(1).lock(), "MutexGuard cannot be copied"),
    (lambda: RwLock(1), "RwLock cannot be copied"),
    (lambda: RwLock(1).read(), "RwLockReadGuard cannot be copied"),
    (lambda: RwLock(1).write(), "RwLockWriteGuard cannot be copied"),
]


@pytest.mark.parametrize(("make", "pickle_message"), COPY_IS_CLONE)
def test_copy_is_clone(make: Callable[[], object], pickle_message: str) -> None:
    handle = make()
    for duplicate in (copy.copy(handle), copy.deepcopy(handle)):
        assert type(duplicate) is type(handle) and duplicate is not handle
    with pytest.raises(TypeError) as info:
        pickle.dumps(handle)
    assert str(info.value) == pickle_message


@pytest.mark.parametrize(("make", "copy_message"), NO_COPY)
def test_no_copy(make: Callable[[], object], copy_message: str) -> None:
    unique = make()
    for duplicate in (copy.copy, copy.deepcopy):
        with pytest.raises(TypeError) as info:
            duplicate(unique)
        assert str(info.value) == copy_message
    with pytest.raises(TypeError) as info:
        pickle.dumps(unique)
    assert str(info.value) == copy_message.split(" cannot ")[0] + " cannot be pickled"


def test_arc_copies_are_counted() -> None:
    a = Arc("x")
    b, c = copy.copy(a), copy.deepcopy(a)
    assert a.strong_count() == 3
    b.drop()
    c.drop()
    assert a.strong_count() == 1


def test_with_binds_the_handle_and_closes_it() -> None:
    tx, rx = channel[int]()
    with tx as bound:
        assert bound is tx and not tx.closed
    assert tx.closed
    with rx as bound_rx:
        assert bound_rx is rx
    assert rx.closed


def test_garbage_collection_closes_a_sender() -> None:
    tx, rx = channel[int]()
    del tx  # the last reference: CPython finalizes it at once
    with pytest.raises(RecvError):  # disconnected, not Empty
        rx.try_recv()


def test_scope_binds_itself() -> None:
    with scope() as s:
        assert isinstance(s, Scope)
        assert s.spawn(lambda: 2).join() == 2


def test_guard_exit_outside_a_block_does_nothing() -> None:
    m = Mutex(0)
    m.try_lock().__exit__(None, None, None)  # never entered: releases nothing
    with m.try_lock() as held:
        assert held.value == 0
