"""What the live owners are, where the user's code made them, in which context, and what GL memory they hold:
a report a person reads (:func:`report`) and numbers a test or dashboard reads every frame (:func:`owner_counts`).

The registry records, for each owner, where it was made (:mod:`.sites`) and the upstream owner that
made it for itself, if any; this module asks the GL layer what each owner holds: an owner released
through a :class:`~.glresources.GLResources` says so itself, an upstream class given to
``managed(release=...)`` through :data:`~.glowners.HOLDINGS` (filled by the compat modules, looked up
from ``type(owner)`` at call time). Byte sizes come from GL itself (``GL_BUFFER_SIZE``, the texture
level parameters, the renderbuffer sizes), asked through a live context of the names' object space;
vertex arrays and framebuffers are counted, not sized.

Main thread; nothing here changes an owner or deletes a name. Without a GL context made in this
process (pyglet's GL never imported) there is nothing to size and ``bytes`` are 0.
"""

from __future__ import annotations

import sys
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .glowners import HOLDINGS
from .registry import Tracked, registry
from .sites import file_line, parent_of

__all__ = ["KINDS", "OwnerReport", "format_owners", "holdings", "leak_message", "owner_counts", "owners", "report"]

#: The kinds of GL names an owner can hold, in report order.
KINDS = ("buffers", "textures", "renderbuffers", "vaos", "framebuffers", "programs")
_SIZED = ("buffers", "textures", "renderbuffers")
_WORDS = {"buffers": "buffer", "textures": "texture", "renderbuffers": "renderbuffer", "vaos": "vertex array",
          "framebuffers": "framebuffer", "programs": "program"}


@dataclass
class OwnerReport:
    """One live owner as :func:`owners` sees it.

    ``site``: ``file:line`` of the user's code that made it (``unknown``: made before the package
    was installed, or with no user frame below). ``context``: which window's context its names live
    in, and whether it is still alive. ``names``: the GL names it holds, by kind (vertex arrays and
    framebuffers of a context that is gone died with it and are not listed). ``bytes``: by sized
    kind, what GL reports for the names it holds; None where GL cannot tell (no live context of the
    names' object space). ``children``: owners an upstream object made for itself (a Warp renderer's
    instancers, a Newton viewer's renderer and helpers), newest last.
    """

    seq: int
    kind: str
    description: str
    site: str
    context: str
    context_alive: bool | None
    names: dict[str, list[int]]
    bytes: dict[str, int] | None
    made_by: str | None = None
    children: list["OwnerReport"] = field(default_factory=list)

    def walk(self) -> Iterable["OwnerReport"]:
        """This owner, then its children's walks."""
        yield self
        for child in self.children:
            yield from child.walk()


def _kind(t: Tracked) -> str:
    return t.kind if isinstance(t.kind, str) else t.kind.__name__


def _gl() -> Any:
    """``glresources`` once the GL layer is loaded (a context was made), else None: this module
    never imports pyglet's GL itself (that would open a display)."""
    return sys.modules.get("warp_gl_lifecycle.glresources")


def holdings(t: Tracked) -> dict[str, list[int]]:
    """The GL names ``t``'s owner holds now, by kind (empty for an owner the GL layer knows
    nothing of, or one already released)."""
    owner = t()
    if owner is None or not t.alive:
        return {}
    resources = getattr(t.release, "__self__", None)
    glresources = _gl()
    if glresources is not None and isinstance(resources, glresources.GLResources):
        return resources.names()
    manager = getattr(type(owner), "_wgl_managed", None)  # the nearest managed family, decided now
    release = getattr(getattr(manager, "release", None), "__wrapped__", None)  # the release= managed() was given
    function = HOLDINGS.get(release) if release is not None else None
    return function(owner) if function is not None else {}


# -- contexts ---------------------------------------------------------------------------------------


def _context_text(context: Any) -> tuple[str, bool | None]:
    """``window 'caption' (open)``, ``a closed window's context (gone)``, or the key as a label."""
    if context is None:
        return "no context", None
    glresources = _gl()
    if glresources is None or not isinstance(context, glresources.Context):
        return f"context {context!r}", None
    if not glresources.is_alive(context):
        sibling = glresources.stand_in(context)
        shared = ", its shared names live on in a sibling context" if sibling is not None else ""
        return f"a closed window's context (gone{shared})", False
    import pyglet  # noqa: PLC0415

    canvas = context.canvas
    window = next((w for w in list(pyglet.app.windows) if getattr(w, "_context", None) is context), None)
    shadow = getattr(glresources.gl, "_shadow_window", None)
    if window is None and shadow is not None and shadow.context is context:
        return "pyglet's shadow window (open)", True
    caption = getattr(window, "caption", None) if window is not None else None
    if caption is None:
        return f"context of {type(canvas).__name__} (open)", True
    return f"window {caption!r} (open)", True


# -- sizes ------------------------------------------------------------------------------------------


class _Sizer:
    """Asks GL for the size of names, with a live context of their object space current (switched
    to only when needed, and the previous one made current again by :meth:`done`).

    With direct state access (GL 4.5 or ``GL_ARB_direct_state_access``) nothing is bound; without
    it (a GL 3.3 context) the name is bound to ``GL_COPY_READ_BUFFER``, ``GL_TEXTURE_2D`` or
    ``GL_RENDERBUFFER`` and what was bound there is bound again (a texture of another target
    is then not sized: it counts 0 bytes).
    """

    #: None: decide from the context; False: bind (a test forces the GL 3.3 path with it).
    direct: bool | None = None

    def __init__(self, glresources: Any) -> None:
        self.glr = glresources
        self.gl = glresources.gl
        self.previous = self.gl.current_context
        self.ready: dict[int, Any] = {}  # id(object space) -> the context made current for it, or None

    def use(self, context: Any) -> bool:
        """Make a live context of ``context``'s object space current; False when there is none."""
        space = context.object_space
        if id(space) not in self.ready:
            current = self.gl.current_context
            if current is not None and current.object_space is space and current.canvas is not None:
                target = current
            else:
                target = self.glr.stand_in(context)
            self.ready[id(space)] = target
        target = self.ready[id(space)]
        if target is None:
            return False
        if self.gl.current_context is not target:
            target.set_current()
        direct = _DIRECT.get(target)
        if direct is None:
            info = target.get_info()
            direct = _DIRECT[target] = info.have_version(4, 5) or info.have_extension("GL_ARB_direct_state_access")
        self.direct_now = direct and self.direct is not False
        return True

    def done(self) -> None:
        previous = self.previous
        if previous is not None and self.gl.current_context is not previous and self.glr.is_alive(previous):
            previous.set_current()

    def sizes(self, names: dict[str, list[int]]) -> dict[str, int]:
        """Bytes by sized kind; names GL does not know as that kind count 0."""
        gl, value = self.gl, self.gl.GLint()
        result = {}
        if self.direct_now:  # no glIs* first: a name that is not of the kind raises (or leaves 0), counted 0
            result["buffers"] = sum(self._direct(self._buffer_size, name, value) for name in names.get("buffers", ()))
            result["textures"] = sum(self._direct(self._texture_bytes, name, value, gl.glGetTextureLevelParameteriv)
                                     for name in names.get("textures", ()))
            result["renderbuffers"] = sum(
                self._direct(self._renderbuffer_bytes, name, value, gl.glGetNamedRenderbufferParameteriv)
                for name in names.get("renderbuffers", ()))
            return result
        buffers = [name for name in names.get("buffers", ()) if gl.glIsBuffer(name)]
        textures = [name for name in names.get("textures", ()) if gl.glIsTexture(name)]
        renderbuffers = [name for name in names.get("renderbuffers", ()) if gl.glIsRenderbuffer(name)]
        result["buffers"] = self._bound(gl.GL_COPY_READ_BUFFER, gl.GL_COPY_READ_BUFFER_BINDING, gl.glBindBuffer,
                                        buffers, lambda name: self._buffer_bytes(value))
        result["textures"] = self._bound(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_BINDING_2D, gl.glBindTexture, textures,
                                         lambda name: self._texture_bytes(self._texture_2d, 0, value))
        result["renderbuffers"] = self._bound(
            gl.GL_RENDERBUFFER, gl.GL_RENDERBUFFER_BINDING, gl.glBindRenderbuffer, renderbuffers,
            lambda name: self._renderbuffer_bytes(self._renderbuffer, 0, value))
        return result

    def _direct(self, size: Any, name: int, value: Any, *get: Any) -> int:
        """``size`` of one name, or 0 when GL does not know it as that kind (an error raised by
        pyglet's error checking, or the value left at 0 without it)."""
        value.value = 0
        try:
            return size(*get, name, value) if get else size(name, value)
        except Exception:  # noqa: BLE001 - pyglet's GLException for a name of another kind
            while self.gl.glGetError():
                pass
            return 0

    def _buffer_size(self, name: int, value: Any) -> int:
        self.gl.glGetNamedBufferParameteriv(name, self.gl.GL_BUFFER_SIZE, value)
        return value.value

    def _bound(self, target: int, binding: int, bind: Any, names: list[int], size: Any) -> int:
        """Sum of ``size(name)`` with each name bound to ``target``; the previous binding is restored."""
        if not names:
            return 0
        gl = self.gl
        previous = gl.GLint()
        gl.glGetIntegerv(binding, previous)
        total = 0
        try:
            for name in names:
                try:
                    bind(target, name)
                    total += size(name)
                except Exception:  # noqa: BLE001 - e.g. a texture of another target: not sized
                    while gl.glGetError():
                        pass
        finally:
            bind(target, previous.value)
        return total

    def _buffer_bytes(self, value: Any) -> int:
        self.gl.glGetBufferParameteriv(self.gl.GL_COPY_READ_BUFFER, self.gl.GL_BUFFER_SIZE, value)
        return value.value

    def _texture_2d(self, _name: int, level: int, parameter: int, value: Any) -> None:
        self.gl.glGetTexLevelParameteriv(self.gl.GL_TEXTURE_2D, level, parameter, value)

    def _renderbuffer(self, _name: int, parameter: int, value: Any) -> None:
        self.gl.glGetRenderbufferParameteriv(self.gl.GL_RENDERBUFFER, parameter, value)

    def _texture_bytes(self, get: Any, name: int, value: Any) -> int:
        """Bytes of every level of a texture: ``get(name, level, parameter, value)`` reads one
        level parameter (``glGetTextureLevelParameteriv``, or the bound GL_TEXTURE_2D's)."""
        gl = self.gl
        total = 0
        for level in range(16):
            value.value = 0
            get(name, level, gl.GL_TEXTURE_WIDTH, value)
            width = value.value
            if width <= 0:
                break
            get(name, level, gl.GL_TEXTURE_INTERNAL_FORMAT, value)
            texel = _TEXEL_BYTES.get(value.value)
            if texel is None:  # a format not in the table: compressed size, or the component sizes
                get(name, level, gl.GL_TEXTURE_COMPRESSED, value)
                if value.value:
                    get(name, level, gl.GL_TEXTURE_COMPRESSED_IMAGE_SIZE, value)
                    total += value.value
                    continue
                bits = 0
                for component in _TEXTURE_BITS:
                    get(name, level, getattr(gl, component), value)
                    bits += value.value
                texel = bits / 8
            get(name, level, gl.GL_TEXTURE_HEIGHT, value)
            height = max(value.value, 1)
            get(name, level, gl.GL_TEXTURE_DEPTH, value)
            depth = max(value.value, 1)
            get(name, level, gl.GL_TEXTURE_SAMPLES, value)
            total += int(width * height * depth * max(value.value, 1) * texel)
        return total

    def _renderbuffer_bytes(self, get: Any, name: int, value: Any) -> int:
        gl = self.gl
        get(name, gl.GL_RENDERBUFFER_WIDTH, value)
        width = value.value
        get(name, gl.GL_RENDERBUFFER_HEIGHT, value)
        height = value.value
        get(name, gl.GL_RENDERBUFFER_SAMPLES, value)
        samples = max(value.value, 1)
        bits = 0
        for component in _RENDERBUFFER_BITS:
            get(name, getattr(gl, component), value)
            bits += value.value
        return width * height * samples * bits // 8


#: Whether a context has direct state access (asked once per context).
_DIRECT: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()

#: Bytes per texel of the common sized internal formats (GL enum values, so that no GL import is
#: needed here); other formats are asked for their component sizes.
_TEXEL_BYTES = {
    0x8229: 1, 0x822B: 2, 0x8051: 3, 0x8058: 4,  # R8, RG8, RGB8, RGBA8
    0x8C41: 3, 0x8C43: 4,  # SRGB8, SRGB8_ALPHA8
    0x822D: 2, 0x822F: 4, 0x881B: 6, 0x881A: 8,  # R16F, RG16F, RGB16F, RGBA16F
    0x822E: 4, 0x8230: 8, 0x8815: 12, 0x8814: 16,  # R32F, RG32F, RGB32F, RGBA32F
    0x8236: 4, 0x8235: 4, 0x8D82: 16, 0x8D70: 16,  # R32UI, R32I, RGBA32I, RGBA32UI
    0x81A5: 2, 0x81A6: 4, 0x8CAC: 4, 0x88F0: 4, 0x8CAD: 8,  # DEPTH16, DEPTH24, DEPTH32F, DEPTH24_STENCIL8, 32F_S8
}

_TEXTURE_BITS = ("GL_TEXTURE_RED_SIZE", "GL_TEXTURE_GREEN_SIZE", "GL_TEXTURE_BLUE_SIZE", "GL_TEXTURE_ALPHA_SIZE",
                 "GL_TEXTURE_DEPTH_SIZE", "GL_TEXTURE_STENCIL_SIZE")
_RENDERBUFFER_BITS = ("GL_RENDERBUFFER_RED_SIZE", "GL_RENDERBUFFER_GREEN_SIZE", "GL_RENDERBUFFER_BLUE_SIZE",
                      "GL_RENDERBUFFER_ALPHA_SIZE", "GL_RENDERBUFFER_DEPTH_SIZE", "GL_RENDERBUFFER_STENCIL_SIZE")


def _measure(records: list[Tracked], sized: bool) -> list[tuple[Tracked, dict[str, list[int]], dict[str, int] | None]]:
    """Each record with the names its owner holds (per-context kinds dropped when their context
    is gone) and, if ``sized``, their bytes (None where no live context of their space exists)."""
    glresources = _gl()
    sizer = _Sizer(glresources) if sized and glresources is not None else None
    measured = []
    try:
        for t in records:
            try:
                names = holdings(t)
            except Exception:  # noqa: BLE001 - e.g. a partly built upstream object: report it holding nothing known
                names = {}
            context = t.context
            is_context = glresources is not None and isinstance(context, glresources.Context)
            if is_context and not glresources.is_alive(context):
                names = {kind: held for kind, held in names.items() if kind not in ("vaos", "framebuffers")}
            size = None
            if sizer is not None and is_context and any(names.get(kind) for kind in _SIZED):
                try:
                    size = sizer.sizes(names) if sizer.use(context) else None
                except Exception:  # noqa: BLE001 - a report never fails because GL would not say
                    size = None
            elif sized:
                size = {kind: 0 for kind in _SIZED} if not any(names.get(kind) for kind in _SIZED) else None
            measured.append((t, names, size))
    finally:
        if sizer is not None:
            sizer.done()
    return measured


# -- the report -------------------------------------------------------------------------------------


def owners(records: Iterable[Tracked] | None = None, *, sized: bool = True) -> list[OwnerReport]:
    """The live owners (``records``: these, default every live one), as trees: each owner an
    upstream object made for itself under that object, the rest at the top, oldest first.
    ``sized``: ask GL for byte sizes (a context switch per object space, at most)."""
    records = sorted(registry.live() if records is None else list(records), key=lambda t: t.seq)
    reports: dict[int, OwnerReport] = {}
    for t, names, size in _measure(records, sized):
        context, alive = _context_text(t.context)
        parent = parent_of(t.site)
        reports[t.seq] = OwnerReport(
            seq=t.seq, kind=_kind(t), description=t.description, site=file_line(t.site), context=context,
            context_alive=alive, names={kind: names[kind] for kind in KINDS if names.get(kind)}, bytes=size,
            made_by=parent.description if parent is not None else None)
    roots = []
    for t in records:
        report_ = reports[t.seq]
        parent = _shown_parent(t, reports)
        if parent is not None:
            parent.children.append(report_)
        else:
            roots.append(report_)
    return roots


def _shown_parent(t: Tracked, reports: dict[int, OwnerReport]) -> OwnerReport | None:
    """The nearest ancestor of ``t`` being reported (a released parent's parent may be)."""
    parent = parent_of(t.site)
    while parent is not None:
        if parent.seq in reports:
            return reports[parent.seq]
        parent = parent_of(parent.site)
    return None


def _mib(count: int) -> str:
    if count >= 1 << 20:
        return f"{count / (1 << 20):.1f} MiB"
    if count >= 1 << 10:
        return f"{count / (1 << 10):.1f} KiB"
    return f"{count} B"


def _holds_text(owner: OwnerReport) -> str:
    parts = []
    for kind in KINDS:
        held = owner.names.get(kind)
        if not held:
            continue
        word = _WORDS[kind] + ("s" if len(held) != 1 else "")
        text = f"{len(held)} {word}"
        if kind in _SIZED and owner.bytes is not None and owner.bytes.get(kind):
            text += f" ({_mib(owner.bytes[kind])})"
        parts.append(text)
    return ", ".join(parts) if parts else "no GL names"


def _lines(owner: OwnerReport, indent: str) -> list[str]:
    lines = [f"{indent}{owner.description}  made at {owner.site}  in {owner.context}",
             f"{indent}    holds {_holds_text(owner)}"]
    if owner.children:
        lines.append(f"{indent}    made for itself:")
        for child in owner.children:
            lines += _lines(child, indent + "      ")
    return lines


def format_owners(roots: list[OwnerReport], title: str) -> str:
    """The text :func:`report` prints: ``title``, then the owners grouped by kind (with counts)."""
    every = [owner for root in roots for owner in root.walk()]
    if not every:
        return f"{title}: none"
    totals = _totals(every)
    lines = [f"{title}: {len(every)} owner{'s' if len(every) != 1 else ''} "
             f"({len(roots)} made by the user's code), holding {_totals_text(totals)}"]
    by_kind: dict[str, list[OwnerReport]] = {}
    for root in roots:
        by_kind.setdefault(root.kind, []).append(root)
    for kind, group in by_kind.items():
        made = sum(len(list(root.walk())) - 1 for root in group)
        extra = f" (+{made} they made for themselves)" if made else ""
        lines.append(f"{kind} x{len(group)}{extra}:")
        for root in group:
            lines += _lines(root, "  ")
    return "\n".join(lines)


def _totals(every: list[OwnerReport]) -> dict[str, Any]:
    names = {kind: sum(len(o.names.get(kind, ())) for o in every) for kind in KINDS}
    known = [o.bytes for o in every if o.bytes is not None]
    sizes = {kind: sum(b.get(kind, 0) for b in known) for kind in _SIZED}
    return {"names": names, "bytes": sizes, "unsized": sum(1 for o in every if o.bytes is None
                                                           and any(o.names.get(k) for k in _SIZED))}


def _totals_text(totals: dict[str, Any]) -> str:
    parts = [f"{count} {_WORDS[kind]}{'s' if count != 1 else ''}" for kind, count in totals["names"].items() if count]
    text = ", ".join(parts) if parts else "no GL names"
    total = sum(totals["bytes"].values())
    if total:
        text += f"; {_mib(total)} of buffers, textures and renderbuffers"
    if totals["unsized"]:
        text += f" ({totals['unsized']} owner(s) could not be sized: no live context of their names)"
    return text


def report(records: Iterable[Tracked] | None = None, *, title: str = "warp_gl_lifecycle live owners",
           sized: bool = True) -> str:
    """A readable report of the live owners (or of ``records``): grouped by kind with counts, each
    with where the user's code made it, its context (window, open or gone), the GL names it holds
    by kind and their bytes where GL can tell; owners an upstream object made for itself are listed
    under it. Main thread. Returns the text (print it, log it)."""
    return format_owners(owners(records, sized=sized), title)


def leak_message(records: list[Tracked], what: str = "left alive by this test") -> str:
    """The ``no_leaked_owners`` failure message: how many owners, then the report of them, each with
    what an upstream object made for itself under it (live owners whose parent is among them, which
    are tracked without a warning and so are not in ``records``)."""
    records = list(records)
    chosen = {id(t) for t in records}
    for t in registry.live():  # oldest first: a parent comes before what it made
        if id(t) not in chosen and id(parent_of(t.site)) in chosen:
            chosen.add(id(t))
            records.append(t)
    roots = owners(records)
    count = sum(len(list(root.walk())) for root in roots)
    return format_owners(roots, f"{count} warp_gl_lifecycle owner(s) {what}")


def owner_counts(*, sized: bool = True) -> dict[str, Any]:
    """Numbers about the live owners, for a test or a dashboard, cheap enough for every frame:

    ``{"owners": total, "by_kind": {kind: count}, "names": {gl kind: count}, "bytes": {"buffers",
    "textures", "renderbuffers", "total"}, "unsized": owners whose names could not be sized}``.
    ``sized=False`` skips asking GL for sizes (``bytes`` is then None).
    """
    records = registry.live()
    by_kind: dict[str, int] = {}
    for t in records:
        kind = _kind(t)
        by_kind[kind] = by_kind.get(kind, 0) + 1
    names = dict.fromkeys(KINDS, 0)
    sizes = dict.fromkeys(_SIZED, 0)
    unsized = 0
    for _t, held, size in _measure(records, sized):
        for kind, values in held.items():
            if kind in names:
                names[kind] += len(values)
        if size is None:
            unsized += any(held.get(kind) for kind in _SIZED)
        else:
            for kind in _SIZED:
                sizes[kind] += size.get(kind, 0)
    result: dict[str, Any] = {"owners": len(records), "by_kind": by_kind, "names": names}
    if sized:
        result["bytes"] = {**sizes, "total": sum(sizes.values())}
        result["unsized"] = unsized
    else:
        result["bytes"] = None
    return result


def report_at_exit(stream: Any = None) -> Callable[[], None]:
    """For ``run --report``: print, at exit, the owners the exit release released, newest first
    (the order it releases them in), to ``stream`` (default ``sys.stderr``).

    Returns the function to call when the program's own code is done (it returned or raised):
    it records, while every context is still alive, the owners live then, with their sites,
    contexts, names and bytes; the report is printed by an :mod:`atexit` hook registered now,
    before the program runs, so that it runs after the package's exit release (which
    re-registers itself when the program makes its first context). Owners the program's own
    exit hooks close are listed too. Main thread.
    """
    import atexit  # noqa: PLC0415

    taken: list[list[OwnerReport]] = []

    def snapshot() -> None:
        try:
            taken[:] = [_newest_first(owners())]
        except Exception as exc:  # noqa: BLE001 - the report must not change how the program ends
            from .registry import logger  # noqa: PLC0415

            logger.warning("run --report: the owners could not be listed: %s: %s", type(exc).__name__, exc)

    def print_report() -> None:
        if taken:
            print(format_owners(taken[0], "warp_gl_lifecycle released at exit (newest first)"),
                  file=stream if stream is not None else sys.stderr, flush=True)

    atexit.register(print_report)
    return snapshot


def _newest_first(roots: list[OwnerReport]) -> list[OwnerReport]:
    for root in roots:
        root.children = _newest_first(root.children)
    return sorted(roots, key=lambda owner: -owner.seq)
