"""A lifecycle-safe ``ShapeInstancer``: Warp's instanced mesh drawing, released exactly once.

Method-compatible with ``warp.render``'s ``ShapeInstancer`` (same names and argument order), plus
``close()``/``closed``. Works on a CUDA device, sharing the instance buffer with GL, and on the
CPU, including machines without a CUDA driver (kernels on the CPU, upload with ``glBufferSubData``).
"""

from __future__ import annotations

import ctypes
import logging
import operator
import threading
import weakref
from typing import Any, NamedTuple

import numpy as np
import warp as wp

from . import glresources  # first: a clear ImportError when pyglet is missing
from . import shared_buffer
from .kernels import instance_matrices, instance_matrix_rows
from .registry import logger, registry

from pyglet import gl  # noqa: E402, I001
from pyglet.graphics.shader import Shader, ShaderProgram  # noqa: E402

__all__ = ["AUTO_ORDER", "INTEROP_MODES", "MAX_INSTANCES", "ShapeInstancer", "default_shape_shader", "shared_shape_shader"]

#: How a CUDA instancer hands its matrices to GL, best first (``interop=`` of ShapeInstancer):
#: ``shared``: GL draws from CUDA memory (no per-update map; see :mod:`.shared_buffer`);
#: ``map``: a registered GL buffer mapped around each write (Warp's way);
#: ``copy``: through pinned host memory and ``glBufferSubData`` (no interop at all).
#: ``auto`` takes the first of :data:`AUTO_ORDER` that works. A CPU instancer always copies.
INTEROP_MODES = ("auto", "shared", "map", "copy")
#: What ``auto`` tries, in order. ``shared`` is not in it yet: its CUDA tests have not run on a GPU
#: (the prototype they follow has: see docs/gpu-h200.md). Put it first once they pass there.
AUTO_ORDER = ("map", "copy")

_MAT44_BYTES = 64
_VEC3_BYTES = 12
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: What the colour buffers hold while there are no instances (GL needs a non-empty buffer).
_NO_COLORS = np.zeros((1, 3), dtype=np.float32)
#: The most instances one instancer holds: their matrices must fit a GL buffer (2 GiB).
MAX_INSTANCES = (2**31 - 1) // _MAT44_BYTES

# Warp's instanced shape layout: 0 position, 1 normal, 2 uv; 3-6 instance matrix columns;
# 7, 8 per-instance colours. The default shader lights colour 1 from a fixed direction.
_VERTEX_SHADER = """
#version 330 core
layout (location = 0) in vec3 aPos;
layout (location = 1) in vec3 aNormal;
layout (location = 2) in vec2 aTexCoord;
layout (location = 3) in vec4 aInstanceTransform0;
layout (location = 4) in vec4 aInstanceTransform1;
layout (location = 5) in vec4 aInstanceTransform2;
layout (location = 6) in vec4 aInstanceTransform3;
layout (location = 7) in vec3 aObjectColor1;
layout (location = 8) in vec3 aObjectColor2;
uniform mat4 view;
uniform mat4 model;
uniform mat4 projection;
out vec3 Normal;
out vec3 ObjectColor1;
void main()
{
    mat4 transform = model * mat4(aInstanceTransform0, aInstanceTransform1, aInstanceTransform2, aInstanceTransform3);
    gl_Position = projection * view * transform * vec4(aPos, 1.0);
    Normal = mat3(transpose(inverse(transform))) * aNormal;
    ObjectColor1 = aObjectColor1;
}
"""

_FRAGMENT_SHADER = """
#version 330 core
in vec3 Normal;
in vec3 ObjectColor1;
out vec4 FragColor;
void main()
{
    float diffuse = max(dot(normalize(Normal), normalize(vec3(0.3, 0.5, 1.0))), 0.0);
    FragColor = vec4(ObjectColor1 * (0.4 + 0.6 * diffuse), 1.0);
}
"""

_interop_warned = False

_IDENTITY = (1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0)


def default_shape_shader() -> ShaderProgram:
    """A new shader with Warp's instanced vertex layout and ``view``/``model``/``projection`` set
    to identity, compiled in the current context. The caller owns it."""
    program = ShaderProgram(Shader(_VERTEX_SHADER, "vertex"), Shader(_FRAGMENT_SHADER, "fragment"))
    for uniform in ("view", "model", "projection"):
        program[uniform] = _IDENTITY
    return program


# One default shader per object space: compiling (and, on llvmpipe, JIT-compiling draw variants
# of) a program per instancer costs time and driver memory that is not given back at once.
_shared_shaders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def shared_shape_shader() -> ShaderProgram:
    """The default shader of the current context's object space, compiled once and shared by
    every instancer made there without a shader (as Warp's renderer shares its shape shader);
    so are its uniforms. It is a tracked owner: released at exit, after the instancers that use it.
    """
    context = glresources.current_context()
    _release_orphaned_shaders()
    entry = _shared_shaders.get(context.object_space)
    if entry is None or entry[0].id is None or not entry[1].alive:
        program = default_shape_shader()
        resources = glresources.GLResources(context)
        resources.programs.append(program)
        tracked = registry.track(program, resources.release, context=context, kind="ShaderProgram",
                                 name="shared shape shader", warn=False)
        entry = _shared_shaders[context.object_space] = (program, tracked)
    return entry[0]


def _release_orphaned_shaders() -> None:
    """Release the shared shaders of object spaces whose last context is gone (windows whose
    contexts share nothing each have one): their programs died with the space, and the record
    would keep the dead context alive until exit."""
    for space, (_program, tracked) in list(_shared_shaders.items()):
        if tracked.alive and not glresources.space_is_alive(tracked.context):
            tracked.close()
            _shared_shaders.pop(space, None)


class ShapeInstancer:
    """Draws many instances of one mesh; each instance has a transform, a scale and two colours.

    Contract:

    * Construct with a pyglet GL context current (a window's or a renderer's); every GL object is
      created in that context and deleted only there (or, for shared kinds, in a live context of
      its object space). Methods that draw or upload make that context current.
    * Released exactly once: by :meth:`close` (idempotent), when collected (names are queued and
      deleted on the main thread at the next safe point), or at interpreter exit (with the context
      current, before teardown), whichever comes first. Use after ``close()`` raises
      ``RuntimeError``.
    * ``device``: a Warp device. On CUDA the instance buffer is shared with CUDA as ``interop``
      says (:data:`INTEROP_MODES`; :attr:`interop` tells which one is in use after
      ``allocate_instances``) and the CUDA side is released before the buffer is deleted. On the
      CPU kernels run on the CPU and results are uploaded with ``glBufferSubData``; no CUDA call
      is made for a CPU device.
    * Ordering with GL is kept for you: an update waits for this instancer's own earlier draws
      (``shared``: ``glFinish`` when it has drawn since its last write) and returns once GL can
      read the new matrices.
    * ``shape_shader``: a pyglet ``ShaderProgram`` with Warp's vertex layout (not owned), compiled
      in the instancer's context or one sharing its objects (another object space's is refused:
      ``ValueError`` here, ``RuntimeError`` from ``render`` when assigned later); without one, the
      instancer uses :func:`shared_shape_shader`.
    * Quaternions are normalised: array-likes on the host in float64 (no NumPy warning, whatever
      their norm; a zero quaternion is refused), Warp arrays by the matrix kernels in float32.
    * Main thread: construction and every method that touches GL (``register_shape``,
      ``allocate_instances``, ``update_instances``, ``update_colors``, ``render``, ``launch``,
      ``with inst:``) raise ``RuntimeError`` on another thread, where no pyglet context is
      current. ``close()`` and ``closed`` work on any thread.
    * A call that raises ``ValueError``/``TypeError`` (a bad argument, named in the message) or
      ``RuntimeError`` (wrong state or thread) has changed nothing: every argument is checked
      before anything is replaced. ``allocate_instances`` makes every new buffer before it
      switches to them, so one that fails to allocate (out of memory: Warp's ``RuntimeError``,
      pyglet's ``GLException``) has changed nothing either.
    """

    def __init__(self, shape_shader: Any = None, device: Any = None, *, name: str | None = None,
                 interop: str = "auto") -> None:
        _require_main_thread("ShapeInstancer")
        self.device = _device(device)
        if interop not in INTEROP_MODES:
            raise ValueError(f"interop must be one of {', '.join(INTEROP_MODES)}, got {interop!r}")
        if not self.device.is_cuda and interop not in ("auto", "copy"):
            raise ValueError(f"interop={interop!r} needs a CUDA device; {self.device} copies")
        self._interop_wanted = interop
        #: The way matrices reach GL, set by allocate_instances: shared, map, copy or None.
        self.interop: str | None = None
        if shape_shader is None:
            shape_shader = shared_shape_shader()
        else:
            _check_shader(shape_shader, glresources.current_context())
        self._gl = glresources.GLResources()
        self._tracked = registry.track(self, self._gl.release, context=self._gl.context, kind="ShapeInstancer", name=name)
        self.shape_shader = shape_shader
        self.face_count = 0
        self.num_instances = 0
        self.color1: tuple[float, float, float] = (1.0, 1.0, 1.0)
        self.color2: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.vao: int | None = None
        self.vbo: int | None = None
        self.ebo: int | None = None
        self.instance_transform_gl_buffer: int | None = None
        self.instance_color1_buffer: int | None = None
        self.instance_color2_buffer: int | None = None
        self.instance_transforms: wp.array | None = None
        self.instance_scalings: wp.array | None = None
        self._registration = None  # CUDA-GL registration of the instance buffer (interop "map")
        self._undo_registration = None
        self._shared: shared_buffer.SharedBuffer | None = None  # its CUDA storage (interop "shared")
        self._drawn = False  # drawn since the last write (interop "shared": GL may still read)
        self._staging: wp.array | None = None  # matrices on ``device`` when not shared with GL
        self._host: wp.array | None = None  # pinned host copy of them (CUDA without interop)
        self._mapped = False  # inside ``with inst:``: vbo_transforms is handed out
        self._launch = None  # the matrix kernel's recorded launch, replayed by every update

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once released, by any path."""
        return not self._tracked.alive

    def close(self) -> None:
        """Release every GL object and interop registration. Idempotent; any thread (off the main
        thread the GL names are deleted at the next safe point). Inside ``with inst:`` the CUDA
        writes are waited for and the mapping undone first; leaving the block then uploads nothing."""
        if self._mapped and self._tracked.alive and self.device.is_cuda:
            wp.synchronize_device(self.device)  # a kernel may still write the memory about to go
            if self._registration is not None:
                self._registration.unmap()
        self._tracked.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.num_instances} instances on {self.device}"
        return f"<ShapeInstancer {self._tracked.description} ({state})>"

    # -- Warp's API -------------------------------------------------------------------------------

    def register_shape(self, vertices, indices, color1=(1.0, 1.0, 1.0), color2=None) -> None:
        """Upload the mesh: ``vertices`` (N, 8) = position, normal, uv; ``indices`` whole triangles.

        ``color1``, ``color2``: the shape's colours, (3,) each, the instances' default. ``color2``
        defaults to ``color1`` lightened by 0.25 (as Warp's renderer registers its shapes; Warp's
        own ``ShapeInstancer`` defaults it to black and lightens only for ``color2=None``).
        """
        self._use("register_shape")
        vertices = _float_array(vertices, "vertices", (None, 8))
        if len(vertices) == 0:
            raise ValueError("vertices must hold at least one vertex, got shape (0, 8)")
        indices = _index_array(indices, len(vertices))
        color1 = _float_array(color1, "color1", (3,))
        color2 = np.clip(color1 + 0.25, 0.0, 1.0) if color2 is None else _float_array(color2, "color2", (3,))
        self.color1 = tuple(float(c) for c in color1)
        self.color2 = tuple(float(c) for c in color2)

        if self.vao is None:
            self.vao = self._gl.gen_vao()
            self.vbo = self._gl.gen_buffer()
            self.ebo = self._gl.gen_buffer()
        gl.glBindVertexArray(self.vao)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, self.vbo)
        gl.glBufferData(gl.GL_ARRAY_BUFFER, vertices.nbytes, vertices.ctypes.data, gl.GL_STATIC_DRAW)
        gl.glBindBuffer(gl.GL_ELEMENT_ARRAY_BUFFER, self.ebo)
        gl.glBufferData(gl.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices.ctypes.data, gl.GL_STATIC_DRAW)
        stride = 8 * 4
        for location, (count, offset) in enumerate(((3, 0), (3, 12), (2, 24))):
            gl.glVertexAttribPointer(location, count, gl.GL_FLOAT, gl.GL_FALSE, stride, ctypes.c_void_p(offset))
            gl.glEnableVertexAttribArray(location)
        gl.glBindVertexArray(0)
        self.face_count = len(indices)

    def allocate_instances(self, positions, rotations=None, colors1=None, colors2=None, scalings=None) -> None:
        """Create ``len(positions)`` instances: positions (N, 3), rotations (N, 4) quaternions
        (x, y, z, w; default identity), colours (N, 3) or (3,) (default the shape's colours),
        scalings (N, 3) (default ones). Zero positions are allowed: nothing is drawn.
        Every argument is checked, then every new buffer made, before anything is replaced: a
        failure leaves the old instances drawing and updatable."""
        self._use("allocate_instances")
        if self.vao is None:
            raise RuntimeError("register_shape() must be called before allocate_instances()")
        self._refuse_while_mapped("allocate_instances")
        positions = _float_array(positions, "positions", (None, 3), max_rows=MAX_INSTANCES)
        count = len(positions)
        if rotations is None:
            rotations = np.tile(np.array([0.0, 0.0, 0.0, 1.0], dtype=np.float32), (count, 1))
        else:
            rotations = _quaternions(_float_array(rotations, "rotations", (count, 4)), "rotations")
        if scalings is None:
            scalings = np.ones((count, 3), dtype=np.float32)
        else:
            scalings = _float_array(scalings, "scalings", (count, 3))
        colors = self._instance_colors(colors1, colors2, count)

        # Everything is valid. Every new buffer is made first and the instancer switches to them
        # only once all exist: a failed allocation (out of memory) gives back what it made and
        # leaves the old instances drawing and updatable.
        made: list = []  # new colour buffer names and the new matrix buffer, given back on failure
        try:
            transforms = wp.array(np.hstack([positions, rotations]), dtype=wp.transform, device=self.device)
            scalings = wp.array(scalings, dtype=wp.vec3, device=self.device)
            for data in colors:
                made.append(self._gl.gen_buffer())
                _buffer_data(made[-1], data)
            matrices = self._make_instance_buffer(count)
            made.append(matrices)
            staging = host = None
            if matrices.mode == "copy":  # stage on the device and upload
                staging = wp.empty(count, dtype=wp.mat44, device=self.device)
                if self.device.is_cuda:
                    host = wp.empty(count, dtype=wp.mat44, device="cpu", pinned=True)
        except BaseException:
            for thing in made:
                self._discard(thing)
            raise

        # The switch: no buffer is made from here on.
        for old in (self._matrix_buffer(), self.instance_color1_buffer, self.instance_color2_buffer):
            if old is not None:
                self._discard(old)
        self.instance_color1_buffer, self.instance_color2_buffer = made[0], made[1]
        self.instance_transform_gl_buffer, self.interop = matrices.name, matrices.mode
        self._registration, self._undo_registration, self._shared = matrices.registration, matrices.undo, matrices.shared
        self.instance_transforms, self.instance_scalings = transforms, scalings
        self._staging, self._host, self._launch = staging, host, None
        self.num_instances = count
        self._point_instance_attributes()
        self._write_matrices()

    def update_instances(self, transforms=None, scalings=None, colors1=None, colors2=None) -> None:
        """Replace instance transforms ((N,) ``wp.transform`` array or (N, 7) array-like),
        scalings ((N,) ``wp.vec3`` or (N, 3)) and/or colours, then refresh the GPU buffers.

        Array-likes are checked for shape, finiteness and zero quaternions, and their quaternions
        normalised (in a copy); Warp arrays for dtype and shape only (scanning them would cost as
        much as the update: a NaN there draws nothing, harmlessly; the kernel normalises their
        quaternions). Every argument is checked before anything is replaced.
        """
        self._use("update_instances")
        if self.instance_transform_gl_buffer is None:
            raise RuntimeError("allocate_instances() must be called before update_instances()")
        matrices = transforms is not None or scalings is not None
        if matrices:
            self._refuse_while_mapped("update_instances")
        if transforms is not None:
            transforms = self._instance_array(transforms, "transforms", wp.transform, 7)
        if scalings is not None:
            scalings = self._instance_array(scalings, "scalings", wp.vec3, 3)
        colors = None
        if colors1 is not None or colors2 is not None:
            colors = self._instance_colors(colors1, colors2, self.num_instances)

        if transforms is not None:
            self.instance_transforms = transforms
        if scalings is not None:
            self.instance_scalings = scalings
        if matrices:
            self._write_matrices()
        if colors is not None:
            self._upload_colors(colors)

    def update_colors(self, colors1, colors2) -> None:
        """Per-instance colours: (N, 3), or one (3,) colour for all; None gives the shape's colour."""
        self._use("update_colors")
        if self.instance_color1_buffer is None:
            raise RuntimeError("allocate_instances() must be called before update_colors()")
        self._upload_colors(self._instance_colors(colors1, colors2, self.num_instances))

    def render(self) -> None:
        """Draw every instance with ``shape_shader`` in the instancer's context. A safe point."""
        self._use("render", safe_point=True)
        if self.vao is None or self.num_instances == 0:
            return
        if self.shape_shader.id is None:
            raise RuntimeError(f"shape_shader of {self._tracked.description} was deleted: give the instancer "
                               "a live ShaderProgram (instancer.shape_shader = ...) before render()")
        if _foreign(self.shape_shader, self._gl.context):
            raise RuntimeError(f"shape_shader of {self._tracked.description} {_FOREIGN}")
        gl.glUseProgram(self.shape_shader.id)
        gl.glBindVertexArray(self.vao)
        gl.glDrawElementsInstanced(gl.GL_TRIANGLES, self.face_count, gl.GL_UNSIGNED_INT, None, self.num_instances)
        gl.glBindVertexArray(0)
        self._drawn = True

    def __enter__(self) -> "ShapeInstancer":
        """Expose ``vbo_transforms``, an (N,) ``wp.mat44`` array on ``device`` that a kernel may write
        in the layout of :mod:`warp_gl_lifecycle.kernels`; it reaches GL on ``__exit__``, in this
        instancer's context whatever context is current then.

        Warp does not bounds-check kernels in release mode: a launch with ``dim`` larger than
        ``len(vbo_transforms)`` writes past memory this instancer owns (a crash, or another
        object's data). :meth:`launch` checks ``dim`` before launching. Inside the block,
        ``allocate_instances`` and ``update_instances`` of transforms or scalings are refused;
        ``close()`` is allowed and makes ``__exit__`` upload nothing.
        """
        self._use("__enter__")
        if self.instance_transform_gl_buffer is None:
            raise RuntimeError("allocate_instances() must be called before mapping vbo_transforms")
        if self._mapped:
            raise RuntimeError("vbo_transforms is already mapped")
        self.vbo_transforms = self._map()
        self._mapped = True
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if not self._mapped:
            return
        self._mapped = False
        del self.vbo_transforms
        if not self._tracked.alive:
            return  # closed inside the block: its buffer is gone, there is nothing to upload to
        self._use("__exit__")
        self._unmap()

    def launch(self, kernel, inputs=(), dim: int | None = None) -> None:
        """Run Warp ``kernel`` to write the instance matrices, checked before it starts.

        ``kernel``'s parameters are ``inputs`` (a list or tuple, as ``wp.launch`` takes) followed
        by one ``wp.array(dtype=wp.mat44)``, which
        receives :attr:`vbo_transforms`; thread ``i`` of ``dim`` (default, and at most,
        ``num_instances``) may write element ``i``. Launched on ``device``; outside ``with inst:``
        the matrices then reach GL, inside it they do on leaving the block. Raises ``TypeError``
        or ``ValueError`` naming ``kernel``, ``inputs`` or ``dim`` before anything is launched.
        Main thread.
        """
        self._use("launch")
        inputs = _check_matrix_kernel(kernel, inputs)
        dim = self._launch_dim(dim)
        if self._mapped:
            wp.launch(kernel, dim=dim, inputs=inputs, outputs=[self.vbo_transforms], device=self.device)
            return
        with self:
            wp.launch(kernel, dim=dim, inputs=inputs, outputs=[self.vbo_transforms], device=self.device)

    # -- internals --------------------------------------------------------------------------------

    def _use(self, method: str, safe_point: bool = False) -> None:
        """Before GL work: on the main thread, this instancer's context current (and a safe point
        run if asked), *then* open. A close on another thread only queues names, and only a safe
        point (or making a context current) deletes them, so once this check passes the names
        stay valid for the rest of the call."""
        if not self._tracked.alive:  # closed before the call: say so first, from any thread
            raise RuntimeError(f"{self._tracked.description} is closed")
        _require_main_thread(method)
        context = self._gl.context
        if gl.current_context is not context and glresources.is_alive(context):
            context.set_current()  # drains names queued for this context: before the check
        if safe_point:
            glresources.flush()
        if not self._tracked.alive:
            raise RuntimeError(f"{self._tracked.description} is closed")
        if not glresources.is_alive(context):
            raise RuntimeError(f"the GL context of {self._tracked.description} was destroyed")

    def _refuse_while_mapped(self, method: str) -> None:
        if self._mapped:
            raise RuntimeError(f"{method}() cannot replace the instance matrices inside `with instancer:` "
                               "(vbo_transforms is handed out); call it after the block")

    def _launch_dim(self, dim) -> int:
        """``dim`` for :meth:`launch`: an int in [0, num_instances], default num_instances."""
        if dim is None:
            return self.num_instances
        expected = f"dim must be an int in [0, {self.num_instances}] (num_instances), got {dim!r}"
        try:
            value = operator.index(dim)
        except TypeError:
            raise TypeError(expected) from None
        if isinstance(dim, bool) or not 0 <= value <= self.num_instances:
            raise ValueError(expected)
        return value

    def _instance_colors(self, colors1, colors2, count: int) -> list[np.ndarray]:
        """Both colours as (count, 3) float32: given per instance, one (3,) for all, or None for
        the shape's colour. Checks only; changes nothing."""
        colors = []
        for value, default, name in ((colors1, self.color1, "colors1"), (colors2, self.color2, "colors2")):
            array = _float_array(default if value is None else value, name, (count, 3), alternatives=((3,),))
            colors.append(np.ascontiguousarray(np.broadcast_to(array, (count, 3))))
        return colors

    def _upload_colors(self, colors: list[np.ndarray]) -> None:
        """Upload checked (N, 3) colours into the colour buffers (context current)."""
        for buffer, data in zip((self.instance_color1_buffer, self.instance_color2_buffer), colors):
            _buffer_data(buffer, data)

    def _point_instance_attributes(self) -> None:
        """Point the VAO's per-instance attributes at the current buffers: matrix columns at
        locations 3-6, colours at 7 and 8 (context current)."""
        gl.glBindVertexArray(self.vao)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, self.instance_transform_gl_buffer)
        for column in range(4):
            location = 3 + column
            gl.glVertexAttribPointer(location, 4, gl.GL_FLOAT, gl.GL_FALSE, _MAT44_BYTES, ctypes.c_void_p(column * 16))
            gl.glEnableVertexAttribArray(location)
            gl.glVertexAttribDivisor(location, 1)
        for location, buffer in zip((7, 8), (self.instance_color1_buffer, self.instance_color2_buffer)):
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
            gl.glVertexAttribPointer(location, 3, gl.GL_FLOAT, gl.GL_FALSE, _VEC3_BYTES, ctypes.c_void_p(0))
            gl.glEnableVertexAttribArray(location)
            gl.glVertexAttribDivisor(location, 1)
        gl.glBindVertexArray(0)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)

    def _instance_array(self, value, name: str, dtype, width: int) -> wp.array:
        """``value`` as an (N,) Warp array of ``dtype`` on ``device``. Checks only; changes nothing."""
        if isinstance(value, wp.array):
            if value.dtype != dtype:
                raise TypeError(f"{name} must have dtype {dtype.__name__}, got {value.dtype.__name__}")
            if value.shape != (self.num_instances,):
                raise ValueError(f"{name} must have shape ({self.num_instances},), got {value.shape}")
            if value.device != self.device or not value.is_contiguous:
                value = wp.clone(value, device=self.device)
            return value  # not scanned for NaN: that would cost as much as the update itself
        host = _float_array(value, name, (self.num_instances, width))
        if dtype is wp.transform:  # a new array: the caller's is not changed
            host = np.hstack([host[:, :3], _quaternions(host[:, 3:], name)])
        return wp.array(host, dtype=dtype, device=self.device)

    def _make_instance_buffer(self, count: int) -> "_MatrixBuffer":
        """A new GL buffer for ``count`` matrices, shared with CUDA as ``interop`` asks (the
        instancer still uses its old one). ``auto`` tries :data:`AUTO_ORDER` in turn, logging
        why once per process."""
        nbytes = max(count, 1) * _MAT44_BYTES
        wanted = self._interop_wanted if self.device.is_cuda else "copy"
        reasons: list[str] = []
        for mode in AUTO_ORDER if wanted == "auto" else (wanted,):
            try:
                made = self._attach(mode, nbytes)
            except RuntimeError as exc:  # SharedBufferUnavailable, or a refused registration
                if wanted != "auto":
                    raise
                reasons.append(f"{mode}: {exc}")
            else:
                self._log_fallback(mode, reasons)
                return made
        raise AssertionError("unreachable: 'copy' always attaches")  # pragma: no cover

    def _attach(self, mode: str, nbytes: int) -> "_MatrixBuffer":
        """A new GL buffer of ``nbytes`` for the matrices, joined to CUDA as ``mode`` says; owned
        by this instancer's GLResources (and its CUDA side released before the name is deleted).
        Raises RuntimeError, having made nothing, when ``mode`` is not available."""
        if mode == "shared":
            shared = shared_buffer.SharedBuffer(nbytes, self.device)
            self._gl.buffers.append(shared.gl_buffer)
            self._gl.interop.append(shared.release)
            return _MatrixBuffer(shared.gl_buffer, mode, shared=shared)
        name = self._gl.gen_buffer()
        try:
            _buffer_data(name, None, nbytes, gl.GL_DYNAMIC_DRAW)
            if mode != "map":
                return _MatrixBuffer(name, mode)
            from .warp_compat import register_gl_buffer  # noqa: PLC0415

            registration, undo = register_gl_buffer(name, self.device, wp.RegisteredGLBuffer.WRITE_DISCARD)
        except BaseException:
            self._gl.delete_buffer(name)
            raise
        self._gl.interop.append(undo)
        return _MatrixBuffer(name, mode, registration=registration, undo=undo)

    def _log_fallback(self, mode: str, reasons: list[str]) -> None:
        global _interop_warned  # noqa: PLW0603
        if reasons and not _interop_warned:
            _interop_warned = True
            level = logging.INFO if mode == "map" else logging.WARNING
            logger.log(level, "instance matrices on %s go through %s (%s)", self.device,
                       "a mapped GL buffer" if mode == "map" else "host memory", "; ".join(reasons))

    def _matrix_buffer(self) -> "_MatrixBuffer | None":
        """The matrix buffer in use, or None before the first allocation."""
        if self.instance_transform_gl_buffer is None:
            return None
        return _MatrixBuffer(self.instance_transform_gl_buffer, self.interop, self._registration,
                             self._undo_registration, self._shared)

    def _discard(self, made: "_MatrixBuffer | int") -> None:
        """Give back a buffer name or a matrix buffer (its CUDA side first): one replaced, or one
        made by an allocation that failed."""
        if isinstance(made, int):
            self._gl.delete_buffer(made)
            return
        if made.undo is not None:
            self._gl.forget_interop(made.undo)
        if made.shared is not None:
            self._gl.forget_interop(made.shared.release)
        self._gl.delete_buffer(made.name)

    def _map(self, dtype=wp.mat44, length: int | None = None) -> wp.array:
        """The instance matrices as ``length`` elements of ``dtype`` (default one mat44 each),
        writable by a kernel on ``device``: the shared memory, the mapped GL buffer or the
        staging array. With shared memory, first waits for this instancer's earlier draws."""
        length = self.num_instances if length is None else length
        if self._shared is not None:
            if self._drawn:
                gl.glFinish()  # GL may still be reading the matrices it drew with
                self._drawn = False
            return self._shared.array(dtype, length)
        if self._registration is not None:
            return self._registration.map(dtype=dtype, shape=(length,))
        if dtype is wp.mat44:
            return self._staging
        return wp.array(ptr=self._staging.ptr, dtype=dtype, shape=(length,), device=self.device)

    def _unmap(self) -> None:
        """Make what the kernel wrote visible to GL (returns once GL may draw with it)."""
        if self._shared is not None:
            self._shared.written()
            return
        if self._registration is not None:
            self._registration.unmap()
            return
        source = self._staging
        if self._host is not None:
            wp.copy(self._host, self._staging)
            wp.synchronize_device(self.device)
            source = self._host
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, self.instance_transform_gl_buffer)
        gl.glBufferSubData(gl.GL_ARRAY_BUFFER, 0, self.num_instances * _MAT44_BYTES, ctypes.c_void_p(source.ptr))
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)

    def _write_matrices(self) -> None:
        """Compute every instance matrix into the GL buffer: one thread per instance on the CPU,
        one per 16-byte row on CUDA (coalesced stores; see :mod:`warp_gl_lifecycle.kernels`).
        The launch is recorded once per allocation and replayed with this update's arrays, which
        skips the rest of ``wp.launch``'s work."""
        if self.num_instances == 0:
            return
        if self.device.is_cuda:
            kernel, dim, out = instance_matrix_rows, 4 * self.num_instances, self._map(wp.float32, 16 * self.num_instances)
        else:
            kernel, dim, out = instance_matrices, self.num_instances, self._map()
        try:
            args = (self.instance_transforms, self.instance_scalings, out)
            if self._launch is None:
                self._launch = wp.launch(kernel, dim=dim, inputs=args[:2], outputs=args[2:], device=self.device, record_cmd=True)
            else:
                self._launch.set_params(args)
            self._launch.launch()
        finally:
            self._unmap()


class _MatrixBuffer(NamedTuple):
    """A GL buffer of instance matrices and how CUDA reaches it (``mode``, one of the interop modes)."""

    name: int
    mode: str
    registration: Any = None  # "map": the CUDA-GL registration, and the function undoing it
    undo: Any = None
    shared: Any = None  # "shared": the SharedBuffer


def _buffer_data(name: int, data: np.ndarray | None, nbytes: int = 0, usage: int = gl.GL_STATIC_DRAW) -> None:
    """New storage for GL buffer ``name`` (context current): ``data`` (colours; none gives one
    black colour, as GL needs a non-empty buffer), or ``nbytes`` undefined bytes when ``data`` is None."""
    if data is not None:
        data = data if len(data) else _NO_COLORS
        nbytes = data.nbytes
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, name)
    try:
        gl.glBufferData(gl.GL_ARRAY_BUFFER, nbytes, None if data is None else data.ctypes.data, usage)
    finally:
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)


def _device(device) -> Any:
    try:
        return wp.get_device(device)
    except Exception as exc:  # noqa: BLE001 - Warp raises several kinds for unknown devices
        raise ValueError(f"device must be a Warp device such as 'cpu' or 'cuda:0', got {device!r}: {exc}") from None


def _require_main_thread(method: str) -> None:
    """RuntimeError unless on the main thread: pyglet makes its GL contexts current there only
    (its ``gl.current_context`` is one for the whole process)."""
    if threading.get_ident() != threading.main_thread().ident:
        raise RuntimeError(
            f"{method}() must be called on the main thread, where pyglet's GL contexts are current "
            f"(called from thread {threading.current_thread().name!r}); close() works on any thread"
        )


def _check_shader(shader, context) -> None:
    """``shader`` is a live pyglet ShaderProgram of ``context``'s object space."""
    if not isinstance(shader, ShaderProgram):
        raise TypeError(f"shape_shader must be a pyglet ShaderProgram, got {type(shader).__name__}")
    if shader.id is None:
        raise ValueError("shape_shader was deleted (its id is None): give a live ShaderProgram")
    if _foreign(shader, context):
        raise ValueError(f"shape_shader {_FOREIGN}")


#: Why a shader of another object space is refused (its number names another program, or none, here).
_FOREIGN = ("was compiled in a GL context of another object space, which shares no objects with the "
            "instancer's context: compile it with the instancer's context (or one sharing its objects) current")


def _foreign(shader, context) -> bool:
    """True when ``shader`` was compiled in a context whose object space is not ``context``'s."""
    made_in = getattr(shader, "_context", None)  # pyglet's ShaderProgram records its context
    return made_in is not None and made_in.object_space is not context.object_space


def _check_matrix_kernel(kernel, inputs) -> list:
    """``kernel`` must be a Warp kernel taking ``inputs`` (a list or tuple, as ``wp.launch``
    takes), then ``wp.array(dtype=wp.mat44)``; returns ``inputs`` as a list."""
    if not isinstance(kernel, wp.Kernel):
        raise TypeError(f"kernel must be a Warp kernel (@wp.kernel), got {type(kernel).__name__}")
    params = kernel.adj.args
    last = params[-1].type if params else None
    if not (wp.types.is_array(last) and last.ndim == 1 and last.dtype == wp.mat44):
        raise TypeError(f"kernel's last parameter must be wp.array(dtype=wp.mat44) for vbo_transforms; "
                        f"{kernel.key} ends with {last!r}")
    wanted = len(params) - 1
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"inputs must be a list or tuple of {kernel.key}'s arguments before vbo_transforms "
                        f"({wanted} here), got {type(inputs).__name__}")
    if len(inputs) != wanted:
        raise TypeError(f"inputs must hold {wanted} argument(s) for {kernel.key}, got {len(inputs)}")
    return list(inputs)


def _quaternions(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` (N, 4) of finite float32 quaternions, normalised into a new float32 array (in
    float64, so no norm overflows or underflows: no NumPy warning); ValueError when a row is zero."""
    wide = array.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
    zero = np.flatnonzero(norms == 0.0)
    if len(zero):
        raise ValueError(f"{name} must hold non-zero quaternions (x, y, z, w), got a zero quaternion at row {zero[0]}")
    return (wide / norms[:, None]).astype(np.float32)


def _float_array(value, name: str, shape: tuple, *, alternatives: tuple = (), max_rows: int | None = None) -> np.ndarray:
    """``value`` as a C-contiguous float32 array of ``shape`` or one of ``alternatives`` (None = any
    length), finite and within float32's range; at most ``max_rows`` rows. Checked before copying."""
    shapes = (shape, *alternatives)
    expected = " or ".join(_shape_text(s) for s in shapes)
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # e.g. ragged nested lists
        raise TypeError(f"{name} must be an array of numbers with shape {expected}: {exc}") from None
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers with shape {expected}, got dtype {raw.dtype}")
    if not any(_has_shape(raw.shape, s) for s in shapes):
        raise ValueError(f"{name} must have shape {expected}, got {raw.shape}")
    if max_rows is not None and len(raw) > max_rows:
        raise ValueError(f"{name} holds {len(raw)} instances; at most {max_rows} fit one GL buffer of matrices")
    if raw.dtype.kind == "f" and raw.size:
        if not np.isfinite(raw).all():
            raise ValueError(f"{name} must be finite, got NaN or infinity")
        largest = float(np.abs(raw).max())
        if largest > _FLOAT32_MAX:
            raise ValueError(f"{name} must fit float32 (magnitude at most {_FLOAT32_MAX:.2g}), got {largest:.3g}")
    return np.ascontiguousarray(raw, dtype=np.float32)


def _has_shape(got: tuple, want: tuple) -> bool:
    return len(got) == len(want) and all(w is None or g == w for g, w in zip(got, want))


def _index_array(indices, vertex_count: int) -> np.ndarray:
    try:
        array = np.asarray(indices)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"indices must be integers, in one flat or (N, 3) array: {exc}") from None
    if array.size == 0:
        raise ValueError("indices must form whole triangles (a multiple of 3, at least 3), got 0")
    if array.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers, got dtype {array.dtype}")
    array = array.reshape(-1)
    if len(array) % 3:
        raise ValueError(f"indices must form whole triangles (a multiple of 3, at least 3), got {len(array)}")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= vertex_count:
        raise ValueError(f"indices must lie in [0, {vertex_count - 1}] for {vertex_count} vertices, got [{low}, {high}]")
    return np.ascontiguousarray(array, dtype=np.uint32)


def _shape_text(shape: tuple) -> str:
    parts = ["N" if dim is None else str(dim) for dim in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
