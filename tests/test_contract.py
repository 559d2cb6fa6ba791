"""The registry's contract under hostile interleavings (issue 9), without GL: exactly once, every
path, every order. Each test names the fault it guards against; each failed on the code before
the fix that made it pass."""

import contextlib
import copy
import dataclasses
import gc
import logging
import pickle
import sys
import threading
import time
import warnings

import pytest

from warp_gl_lifecycle.managed_classes import managed
from warp_gl_lifecycle.registry import Reason, Registry


class Owner:
    pass


@pytest.fixture(autouse=True)
def _quiet_resource_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


class Recorder:
    """Release actions that record which owner was released, and why."""

    def __init__(self):
        self.calls = []

    def __call__(self, tag):
        return lambda reason: self.calls.append((tag, reason))

    def tags(self):
        return [tag for tag, _ in self.calls]


class LabelHooks:
    """Context hooks over plain keys that remember which key is current, as pyglet does."""

    def __init__(self):
        self.current_key = None
        self.flushed = []

    def activate(self, context):
        @contextlib.contextmanager
        def active():
            previous, self.current_key = self.current_key, context
            try:
                yield context
            finally:
                self.current_key = previous

        return active()

    def current(self):
        return self.current_key

    def flush(self, context):
        self.flushed.append(context)


class Key:
    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return f"Key({self.label})"


# -- 1. closed from another finalizer of its own garbage cycle -----------------------------------


def test_managed_owner_closed_from_a_finalizer_in_its_own_cycle_is_released_once():
    reg = Registry()
    released = []

    class Renderer:
        def close(self):
            released.append("renderer")

    managed(Renderer, registry=reg)

    class App:
        def __init__(self):
            self.renderer = Renderer()
            self.renderer.app = self  # one garbage cycle

        def __del__(self):
            self.renderer.close()

    App()
    gc.collect()
    reg.run_deferred()
    reg.release_all()
    assert released == ["renderer"]
    assert reg.live() == [] and reg.pending() == 0
    stats = reg.stats()
    assert stats["released_close"] + stats["released_gc"] + stats["released_exit"] == 1


def test_plain_owner_closed_from_a_finalizer_in_its_own_cycle_is_released_once():
    reg = Registry()
    rec = Recorder()

    class Renderer:
        def __init__(self):
            self.tracked = reg.track(self, rec("r"))

        def close(self):
            self.tracked.close()

    class App:
        def __init__(self):
            self.renderer = Renderer()
            self.renderer.app = self

        def __del__(self):
            self.renderer.close()

    App()
    gc.collect()
    reg.run_deferred()
    reg.release_all()
    assert rec.tags() == ["r"]


# -- 2. SystemExit / KeyboardInterrupt inside one release ---------------------------------------


@pytest.mark.parametrize("error", [SystemExit(3), KeyboardInterrupt()])
def test_base_exception_in_one_release_does_not_stop_release_all(error):
    reg = Registry()
    rec = Recorder()
    owners = [Owner() for _ in range(4)]
    for i, owner in enumerate(owners):
        if i == 2:
            def bad(reason):
                rec.calls.append((2, reason))
                raise error
            reg.track(owner, bad, name="bad")
        else:
            reg.track(owner, rec(i))
    with pytest.raises(type(error)):
        reg.release_all()
    assert rec.tags() == [3, 2, 1, 0]  # every owner released, newest first, then it is re-raised
    assert reg.live() == [] and reg.stats()["errors"] == 1


def test_keyboard_interrupt_in_a_deferred_release_does_not_lose_the_others():
    reg = Registry()
    released = []

    class Legacy:
        def __init__(self, tag):
            self.tag = tag
            self.me = self

        def close(self):
            released.append(self.tag)
            if self.tag == 1:
                raise KeyboardInterrupt

    managed(Legacy, registry=reg)
    for tag in range(3):
        Legacy(tag)
    gc.collect()
    assert reg.pending() == 3
    with pytest.raises(KeyboardInterrupt):
        reg.run_deferred()
    assert sorted(released) == [0, 1, 2] and reg.pending() == 0


def test_system_exit_in_close_propagates_and_the_owner_counts_as_released():
    reg = Registry()

    def bye(reason):
        sys.exit(4)

    owner = Owner()
    tracked = reg.track(owner, bye)
    with pytest.raises(SystemExit):
        tracked.close()
    assert not tracked.alive and tracked.close() is False


# -- 3. tracked from inside an exit release ------------------------------------------------------


def test_owner_tracked_from_inside_an_exit_release_is_released_too():
    reg = Registry()
    rec = Recorder()
    keep = []

    def makes_a_helper(reason):
        rec.calls.append(("parent", reason))
        helper = Owner()
        keep.append(helper)
        reg.track(helper, rec("helper"))

    parent = Owner()
    reg.track(parent, makes_a_helper)
    assert reg.release_all() == 2
    assert rec.tags() == ["parent", "helper"] and reg.live() == []


def test_a_release_that_always_makes_a_new_owner_does_not_loop_forever(caplog):
    reg = Registry()
    keep = []

    def breeds(reason):
        child = Owner()
        keep.append(child)
        reg.track(child, breeds)

    reg.track(Owner(), breeds)
    with caplog.at_level(logging.WARNING, logger="warp_gl_lifecycle"):
        reg.release_all()
    assert any("still being tracked" in r.getMessage() for r in caplog.records)


# -- 4. managed base and subclass ------------------------------------------------------------------


def test_managed_base_and_sub_with_super_close_run_both_bodies_once():
    reg = Registry()
    calls = []

    class Base:
        def close(self):
            calls.append("base")

    class Sub(Base):
        def close(self):
            calls.append("sub")
            super().close()

    managed(Base, registry=reg)
    managed(Sub, registry=reg)
    obj = Sub()
    obj.close()
    obj.close()
    assert calls == ["sub", "base"]
    live_obj = Sub()
    reg.release_all()
    assert calls == ["sub", "base", "sub", "base"]
    del live_obj


def test_only_base_managed_runs_the_subclass_bodies_at_exit_and_on_collection():
    reg = Registry()
    calls = []

    class Base:
        def close(self):
            calls.append("base close")

        def __del__(self):
            calls.append("base del")

    managed(Base, registry=reg)

    class Sub(Base):  # defined after managed(Base): its own bodies must be covered too
        def close(self):
            calls.append("sub close")
            super().close()

        def __del__(self):
            calls.append("sub del")
            super().__del__()

    keep = Sub()
    reg.release_all()
    assert calls == ["sub close", "base close", "sub del", "base del"]
    calls.clear()
    gone = Sub()
    gone.me = gone
    del gone
    gc.collect()
    assert calls == []  # nothing ran inside the finalizer
    reg.run_deferred()
    assert calls == ["sub close", "base close", "sub del", "base del"]
    del keep


def test_subclass_that_forgets_super_close_still_runs_the_base_body():
    reg = Registry()
    calls = []

    class Base:
        def close(self):
            calls.append("base")

    managed(Base, registry=reg)

    class Sub(Base):
        def close(self):
            calls.append("sub")

    obj = Sub()
    obj.close()
    assert calls == ["sub", "base"]


def test_del_body_that_calls_close_runs_close_once():
    reg = Registry()
    calls = []

    @managed(registry=reg)
    class Legacy:
        def close(self):
            calls.append("close")

        def __del__(self):
            self.close()

    obj = Legacy()
    reg.release_all()
    assert calls == ["close"]
    del obj


# -- 5. __init__ that raises after acquiring ---------------------------------------------------


def test_managed_init_that_raises_after_acquiring_still_releases():
    reg = Registry()
    calls = []

    @managed(registry=reg)
    class HalfBuilt:
        def __init__(self):
            self.acquired = True
            raise ValueError("bad argument")

        def close(self):
            calls.append("close" if getattr(self, "acquired", False) else "nothing")

    with pytest.raises(ValueError, match="bad argument"):
        HalfBuilt()
    assert calls == ["close"] and reg.live() == []


# -- 6. a release that switches context -----------------------------------------------------------


def test_next_owner_gets_its_context_again_after_a_release_that_switched_context():
    reg = Registry()
    hooks = LabelHooks()
    reg.use_hooks(hooks)
    k1, k2 = Key("k1"), Key("k2")
    seen = []

    def switches(reason):
        seen.append(("switcher", hooks.current_key))
        hooks.current_key = k2  # e.g. reads a last frame back from another window

    def records(tag):
        return lambda reason: seen.append((tag, hooks.current_key))

    owners = [Owner(), Owner()]
    reg.track(owners[0], records("older"), context=k1)
    reg.track(owners[1], switches, context=k1)
    reg.release_all()
    assert seen == [("switcher", k1), ("older", k1)]


# -- 10. context keys that cannot be weakly referenced --------------------------------------------


def test_unweakrefable_context_keys_are_forgotten_with_their_owners():
    reg = Registry()
    owner = Owner()
    for key in (7, "cpu-pool", ("a", 1)):
        reg.track(owner, lambda reason: None, context=key).close()
    assert reg.contexts() == []


def test_track_cost_does_not_grow_with_the_number_of_contexts_seen():
    reg = Registry()

    owner = Owner()

    def cost(first_key, count=2000):
        gc.collect()
        gc.disable()  # the collector's own cost grows with live objects; ours must not
        start = time.perf_counter()
        for key in range(first_key, first_key + count):
            reg.track(owner, lambda reason: None, context=key).close()
        elapsed = time.perf_counter() - start
        gc.enable()
        return elapsed

    early = min(cost(0), cost(10**6))
    keep = [reg.track(owner, lambda reason: None, context=-key) for key in range(1, 20001)]  # noqa: F841
    late = min(cost(2 * 10**6), cost(3 * 10**6))
    assert late < 3 * early, f"{late:.4f}s for 2000 new keys after 20000, {early:.4f}s before"


# -- registry arguments (issue 10, item 7) ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [({"kind": 5}, "kind"), ({"name": 3.5}, "name"), ({"warn": "yes"}, "warn"), ({"kind": ""}, "kind")],
)
def test_track_rejects_bad_arguments_naming_them(kwargs, match):
    reg = Registry()
    with pytest.raises(TypeError if "kind" not in kwargs or kwargs["kind"] != "" else ValueError, match=match):
        reg.track(Owner(), lambda reason: None, **kwargs)
    assert reg.live() == []


# -- managed() on classes it cannot serve (issue 10, item 9) ---------------------------------------


def test_managed_refuses_a_class_without_instance_dict():
    class Slotted:
        __slots__ = ("x", "__weakref__")

    with pytest.raises(TypeError, match="__dict__"):
        managed(Slotted, registry=Registry())

    @dataclasses.dataclass(slots=True)
    class Point:
        x: int

    with pytest.raises(TypeError, match="__dict__|weak"):
        managed(Point, registry=Registry())


def test_managed_frozen_dataclass_is_tracked_and_released_once():
    reg = Registry()
    calls = []

    @managed(registry=reg)
    @dataclasses.dataclass(frozen=True)
    class Frozen:
        tag: int

        def close(self):
            calls.append(self.tag)

    obj = Frozen(1)
    assert len(reg.live()) == 1
    obj.close()
    obj.close()
    assert calls == [1] and reg.live() == []


_copy_calls = []


class Copyable:
    def __init__(self, tag):
        self.tag = tag

    def close(self):
        _copy_calls.append(self.tag)


def test_copy_of_a_managed_instance_is_its_own_owner():
    reg = Registry()
    calls = _copy_calls
    Legacy = managed(Copyable, registry=reg)

    original = Legacy("a")
    clone = copy.copy(original)
    clone.tag = "clone"
    deep = copy.deepcopy(original)
    deep.tag = "deep"
    pickled = pickle.loads(pickle.dumps(original))
    pickled.tag = "pickled"
    assert len(reg.live()) == 4
    clone.close()
    assert calls == ["clone"]
    original.close()
    deep.close()
    pickled.close()
    assert calls == ["clone", "a", "deep", "pickled"]


# -- uninstalling a managed class (issue 11, item 4) -----------------------------------------------


def test_restore_keeps_tracked_instances_released_exactly_once_on_every_path():
    reg = Registry()
    calls = []

    class Legacy:
        def __init__(self, tag):
            self.tag = tag

        def close(self):
            calls.append(("close", self.tag))

        def __del__(self):
            calls.append(("del", self.tag))

    managed(Legacy, registry=reg)
    at_exit, collected, closed = Legacy("exit"), Legacy("gc"), Legacy("close")
    Legacy._wgl_managed.restore()
    after = Legacy("after")  # made after restore: the class's own behaviour, untracked
    assert [t.name for t in reg.live()] == [None, None, None] and len(reg.live()) == 3
    closed.close()
    collected.me = collected
    del collected
    gc.collect()
    reg.run_deferred()
    reg.release_all()
    del at_exit
    gc.collect()
    for tag in ("exit", "gc", "close"):
        assert calls.count(("close", tag)) == 1 and calls.count(("del", tag)) == 1, calls
    assert reg.live() == []
    after.close()
    del after
    gc.collect()
    assert calls.count(("close", "after")) == 1 and calls.count(("del", "after")) == 1


# -- ResourceWarning as Python reports unclosed files (issue 11, item 7) ----------------------------


def test_resource_warning_as_error_reaches_the_unraisable_hook():
    reg = Registry()
    seen = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: seen.append(unraisable.exc_value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            reg.track(Owner(), lambda reason: None, kind="Thing", name="x")
            gc.collect()
    finally:
        sys.unraisablehook = previous
    assert [type(e) for e in seen] == [ResourceWarning]
    assert "unclosed Thing 'x'" in str(seen[0])


def test_resource_warning_points_at_the_users_code_not_the_registry():
    reg = Registry()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        reg.track(Owner(), lambda reason: None, kind="Thing")
        gc.collect()
    assert len(caught) == 1
    assert not caught[0].filename.endswith("registry.py"), caught[0].filename


# -- threads: close on a worker while the main thread releases ------------------------------------


def test_worker_closes_while_main_releases_everything_exactly_once():
    reg = Registry()
    counts = {}
    lock = threading.Lock()

    def release(tag):
        def run(reason):
            with lock:
                counts[tag] = counts.get(tag, 0) + 1
        return run

    owners = [Owner() for _ in range(4000)]
    tracked = [reg.track(o, release(i)) for i, o in enumerate(owners)]
    worker = threading.Thread(target=lambda: [t.close() for t in tracked[::2]])
    worker.start()
    reg.release_all()
    worker.join()
    reg.run_deferred()
    assert len(counts) == 4000 and set(counts.values()) == {1}


# -- closers: the methods by which users already free an instance (issue 12, item 5) ---------------


def test_a_class_freed_with_destroy_is_released_once_whichever_path_comes_first():
    reg = Registry()
    calls = []

    class Mesh:
        def __init__(self, tag):
            self.tag = tag

        def destroy(self):
            calls.append(("destroy", self.tag))

        def __del__(self):
            self.destroy()

    managed(Mesh, registry=reg, closers=("destroy",))
    by_hand, at_exit, collected = Mesh("hand"), Mesh("exit"), Mesh("gc")
    by_hand.destroy()
    by_hand.destroy()
    collected.me = collected
    del collected
    gc.collect()
    assert ("destroy", "gc") not in calls  # nothing inside the finalizer
    reg.run_deferred()
    reg.release_all()
    del by_hand, at_exit
    gc.collect()
    assert sorted(calls) == [("destroy", "exit"), ("destroy", "gc"), ("destroy", "hand")]


def test_two_closers_that_call_each_other_run_each_body_once():
    reg = Registry()
    calls = []

    @managed(registry=reg, closers=("close", "destroy"))
    class Viewer:
        def close(self):
            calls.append("close")
            self.destroy()

        def destroy(self):
            calls.append("destroy")

    viewer = Viewer()
    viewer.destroy()
    viewer.close()
    # The user's call first (issue 16: an explicit closer call is the user's call), then the rest.
    assert calls == ["destroy", "close"]


@pytest.mark.parametrize("closers", ["destroy", (), ("__del__",), ("not a name",)])
def test_closers_are_checked(closers):
    class Thing:
        pass

    with pytest.raises((TypeError, ValueError), match="closers"):
        managed(Thing, registry=Registry(), closers=closers)
