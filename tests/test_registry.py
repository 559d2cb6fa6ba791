"""The registry on its own (no GL): exactly once, order, deferral, warnings, failures, managed."""

import gc
import logging
import threading
import warnings

import pytest

from warp_gl_lifecycle.managed_classes import managed
from warp_gl_lifecycle.registry import Reason, Registry


class Owner:
    pass


def recorder():
    calls = []
    return calls, lambda tag: (lambda reason: calls.append((tag, reason)))


def test_close_releases_once_then_gc_and_exit_do_nothing():
    reg = Registry()
    calls, release = recorder()
    owner = Owner()
    tracked = reg.track(owner, release("a"), name="a")
    assert tracked.alive and reg.live() == [tracked]
    assert tracked.close() is True
    assert tracked.close() is False
    del owner
    gc.collect()
    reg.release_all()
    assert calls == [("a", Reason.CLOSE)]
    assert reg.stats()["released_close"] == 1 and reg.stats()["tracked"] == 0


def test_gc_releases_once_with_gc_reason_and_warns():
    reg = Registry()
    calls, release = recorder()
    owner = Owner()
    reg.track(owner, release("a"), kind="Thing", name="x")
    with pytest.warns(ResourceWarning, match="unclosed Thing 'x', released by garbage collection"):
        del owner
        gc.collect()
    reg.release_all()
    assert calls == [("a", Reason.GC)]
    assert reg.live() == [] and reg.stats()["released_gc"] == 1


def test_tracking_never_keeps_the_owner_alive_even_in_a_cycle():
    reg = Registry()
    calls, release = recorder()
    owner = Owner()
    owner.me = owner
    reg.track(owner, release("cycle"), warn=False)
    del owner
    gc.collect()
    assert calls == [("cycle", Reason.GC)]


def test_release_all_is_newest_first_and_skips_released():
    reg = Registry()
    calls, release = recorder()
    owners = [Owner() for _ in range(5)]
    tracked = [reg.track(o, release(i), warn=False) for i, o in enumerate(owners)]
    tracked[1].close()
    assert reg.release_all() == 4
    assert [tag for tag, _ in calls] == [1, 4, 3, 2, 0]
    assert all(reason is Reason.EXIT for tag, reason in calls if tag != 1)
    assert reg.release_all() == 0


def test_failing_release_is_logged_once_and_does_not_stop_others(caplog):
    reg = Registry()
    calls, release = recorder()
    owners = [Owner() for _ in range(3)]

    def boom(reason):
        raise RuntimeError("driver gone")

    reg.track(owners[0], release(0), warn=False)
    reg.track(owners[1], boom, name="bad", warn=False)
    reg.track(owners[2], release(2), warn=False)
    with caplog.at_level(logging.WARNING, logger="warp_gl_lifecycle"):
        reg.release_all()
    assert [tag for tag, _ in calls] == [2, 0]
    failures = [r for r in caplog.records if "driver gone" in r.getMessage()]
    assert len(failures) == 1 and "'bad'" in failures[0].getMessage()
    assert reg.stats()["errors"] == 1


def test_close_from_another_thread_is_deferred_semantics():
    reg = Registry()
    calls, release = recorder()
    owner = Owner()
    tracked = reg.track(owner, release("t"))
    worker = threading.Thread(target=tracked.close)
    worker.start()
    worker.join()
    assert calls == [("t", Reason.GC)]  # may only queue work off the main thread
    assert reg.stats()["released_close"] == 1


def test_context_hooks_activate_for_close_and_flush_at_exit():
    reg = Registry()
    events = []

    class Hooks:
        def activate(self, context):
            import contextlib

            @contextlib.contextmanager
            def active():
                events.append(("enter", context.label))
                yield
                events.append(("leave", context.label))

            return active()

        def flush(self, context):
            events.append(("flush", context.label))

    class Key:
        def __init__(self, label):
            self.label = label

    reg.use_hooks(Hooks())
    k1, k2 = Key("k1"), Key("k2")
    a, b = Owner(), Owner()
    reg.track(a, lambda reason: events.append(("release", "a")), context=k1, warn=False)
    reg.track(b, lambda reason: events.append(("release", "b")), context=k2, warn=False)
    assert reg.contexts() == [k1, k2]
    reg.release_all()
    assert events == [
        ("enter", "k2"), ("release", "b"), ("leave", "k2"),
        ("enter", "k1"), ("release", "a"), ("leave", "k1"),
        ("flush", "k2"), ("flush", "k1"),
    ]


def test_track_rejects_a_release_that_is_not_callable():
    with pytest.raises(TypeError, match="release must be callable"):
        Registry().track(Owner(), "nope")


class TestManaged:
    def make(self, reg):
        calls = []

        class Legacy:
            def __init__(self, tag):
                self.tag = tag

            def close(self):
                calls.append(("close", self.tag))

            def __del__(self):
                calls.append(("del", self.tag))

        managed(Legacy, registry=reg)
        return Legacy, calls

    def test_close_runs_bodies_once_and_del_is_a_noop_after(self):
        reg = Registry()
        Legacy, calls = self.make(reg)
        obj = Legacy(1)
        obj.close()
        obj.close()
        del obj
        gc.collect()
        reg.release_all()
        assert calls == [("close", 1), ("del", 1)]

    def test_collected_instance_is_kept_until_a_safe_point(self):
        reg = Registry()
        Legacy, calls = self.make(reg)
        obj = Legacy(2)
        obj.me = obj
        del obj
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
            assert calls == []  # nothing ran inside the finalizer
            assert reg.pending() == 1
            assert reg.run_deferred() == 1
        assert calls == [("close", 2), ("del", 2)]
        gc.collect()
        assert calls == [("close", 2), ("del", 2)]

    def test_exit_runs_bodies_of_live_instances_newest_first(self):
        reg = Registry()
        Legacy, calls = self.make(reg)
        keep = [Legacy(i) for i in range(3)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            reg.release_all()
        assert calls == [("close", 2), ("del", 2), ("close", 1), ("del", 1), ("close", 0), ("del", 0)]
        del keep
        gc.collect()
        assert len(calls) == 6

    def test_decorator_form_and_applying_twice(self):
        reg = Registry()

        @managed(registry=reg)
        class Thing:
            def __init__(self):
                self.released = 0

            def close(self):
                self.released += 1

        assert managed(Thing, registry=reg) is Thing
        thing = Thing()
        assert len(reg.live()) == 1
        thing.close()
        thing.close()
        assert thing.released == 1

    def test_rejects_non_class(self):
        with pytest.raises(TypeError, match="expects a class"):
            managed(42)


def test_after_a_managed_cleanup_the_next_owner_gets_its_context_made_current_again():
    """A legacy class's cleanup may switch contexts (Warp's close() does): the registry must not
    assume the context it made current is still current for the next owner of that context."""
    import contextlib

    reg = Registry()
    current = {"context": None}
    seen = []

    class Hooks:
        def activate(self, context):
            @contextlib.contextmanager
            def active():
                previous, current["context"] = current["context"], context
                yield
                current["context"] = previous

            return active()

        def flush(self, context):
            pass

    class Key:
        pass

    k1, other = Key(), Key()
    reg.use_hooks(Hooks())

    class Legacy:
        def close(self):
            current["context"] = other  # its own cleanup switches away

    managed(Legacy, registry=reg, context=lambda self: k1)

    class Owner:
        pass

    plain = Owner()
    reg.track(plain, lambda reason: seen.append(current["context"]), context=k1, warn=False)
    legacy = Legacy()  # newer: released first at exit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        reg.release_all()
    assert seen == [k1]
    del legacy
