"""The in-process API: Model, Session, Sessions and FusectlError over the C interface."""

import ctypes
import json
import os

import numpy as np

from . import _native

_lib = _native.load()

# Status codes of fusectl.h.
_STATUS_NAMES = {1: "input", 2: "model", 3: "handle", 4: "buffer"}


class FusectlError(Exception):
    """An error of the fusectl engine, with the message the CLI prints after ``error:``.

    ``kind`` says which class of error it is: ``"input"`` (arrays that contradict the model or each
    other, NaN/Inf, a bad plan name), ``"model"`` (the weights file or configuration), ``"handle"``
    (a closed model or session) or ``"buffer"``.
    """

    def __init__(self, message, kind="input"):
        super().__init__(message)
        self.message = message
        self.kind = kind


def _check(status):
    if status != 0:
        message = _lib.fusectl_last_error().decode("utf-8", "replace")
        raise FusectlError(message, _STATUS_NAMES.get(status, "input"))


def _shape(array):
    return (ctypes.c_int64 * max(1, array.ndim))(*array.shape), array.ndim


def _floats(array):
    return array.ctypes.data_as(_native.c_float_p)


def _kind_name(array):
    return "bool" if array.dtype.kind == "b" else str(array.dtype)


def _shape_text(shape):
    return "(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(str(n) for n in shape) + ")"


def _latents(value, name):
    """float32 C-contiguous latents: passed as they are when they already are, else converted once
    (float16 and float64 round to nearest, as the CLI converts files); integers, bool and other
    kinds are refused as the CLI refuses them."""
    array = np.asarray(value)
    if array.dtype.kind != "f" or array.dtype.itemsize > 8:
        raise FusectlError("%s: expected floating-point latents (float16, float32 or float64), found %s %s"
                           % (name, _kind_name(array), _shape_text(array.shape)))
    return _float32(array)


def _float32(array):
    """`array` itself when it is native, aligned, C-contiguous float32; else one aligned float32 copy."""
    if array.dtype == np.float32 and array.flags.c_contiguous and array.flags.aligned \
            and array.dtype.byteorder in "=|<":
        return array
    return array.astype(np.float32, order="C", copy=True)


def _mask(value, name):
    """A mask as float32 (nonzero = real token): bool, integers and floats, as the CLI reads them."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.dtype.itemsize > 8:
        raise FusectlError("%s: expected a numeric mask (nonzero marks a real token), found %s %s"
                           % (name, _kind_name(array), _shape_text(array.shape)))
    return _float32(array)


def _lengths(value, name):
    """Lengths as int64 (B,): integers only (not bool: True would read as length 1), as the CLI."""
    array = np.asarray(value)
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise FusectlError("%s: expected integers of shape (B,), found %s %s"
                           % (name, _kind_name(array), _shape_text(array.shape)))
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise FusectlError("%s: length %d does not fit in int64" % (name, int(array.max())))
    return np.ascontiguousarray(array, dtype=np.int64)


def _ints(array):
    return array.ctypes.data_as(_native.c_int64_p)


class _OwnedHandle:
    """A handle of the C library owned by the process that opened it (`_pid`): freed once, by
    ``close()``, at the end of a ``with`` block, or when collected; a child after ``fork`` never frees
    its parent's. Subclasses name their C close function in ``_close_function``."""

    _close_function = None

    def _close_handle(self):
        if self._handle is not None:
            handle, self._handle = self._handle, None
            if self._pid == os.getpid():
                _check(getattr(_lib, self._close_function)(handle))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            if getattr(self, "_handle", None) is not None and _lib is not None and self._pid == os.getpid():
                getattr(_lib, self._close_function)(self._handle)
        except Exception:
            pass


class Model(_OwnedHandle):
    """A fusion model loaded once, for many calls: ``fusectl.Model("w.npz")``.

    Parameters
    ----------
    path : str or os.PathLike
        The weights: a ``.npz`` state_dict with a ``config`` member, or a ``.safetensors`` file
        (decided by content), as ``fusectl fuse --weights``.
    prefix : str, optional
        The model's key prefix in a larger checkpoint (``"policy.fusion."``), as ``--prefix``.
    config : dict or str or os.PathLike, optional
        The configuration, replacing the file's own, as ``--config``: a dict, or a JSON file's path.
    threads : int
        Worker threads; 0 uses every CPU this process may run on. Results never depend on it.

    The model may be used from several Python threads at once: calls on one model run one at a
    time (a lock inside the library), each on the model's own threads, with the GIL released.
    ``close()`` (or leaving a ``with`` block) frees it; a closed model, and sessions of a closed
    model, raise :class:`FusectlError`.
    """

    _close_function = "fusectl_model_close"

    def __init__(self, path, prefix=None, config=None, threads=0):
        self._handle = None
        self._arguments = (os.fspath(path), prefix, dict(config) if isinstance(config, dict) else config, int(threads))
        config_json = None
        config_origin = None
        if isinstance(config, dict):
            config_json = json.dumps(config)
            config_origin = "config"
        elif config is not None:
            config_origin = os.fspath(config)  # the library reads it, as --config
        self._open_arguments = (
            os.fsencode(path), None if prefix is None else prefix.encode("utf-8"),
            None if config_json is None else config_json.encode("utf-8"),
            None if config_origin is None else config_origin.encode("utf-8"), int(threads))
        self._handle = self._open()
        self._pid = os.getpid()
        self._path = os.fspath(path)
        length = ctypes.c_int64()
        _check(_lib.fusectl_model_config(self._handle, None, 0, ctypes.byref(length)))
        buffer = ctypes.create_string_buffer(length.value + 1)
        _check(_lib.fusectl_model_config(self._handle, buffer, length.value + 1, ctypes.byref(length)))
        self._config = json.loads(buffer.value.decode("utf-8"))
        count = ctypes.c_int64()
        _check(_lib.fusectl_model_threads(self._handle, ctypes.byref(count)))
        self._threads = count.value

    def __reduce__(self):
        """Pickled as its arguments: unpickling (in another process: spawn, Ray, joblib) opens the model
        anew from the same file, prefix, configuration and threads."""
        if self._handle is None:
            raise FusectlError("model: closed; a closed model cannot be pickled", "handle")
        return (Model, self._arguments)

    def __repr__(self):
        state = "closed" if self._handle is None else "%d threads" % self._threads
        return "<fusectl.Model %r: d=%d, %d blocks, %s>" % (self._path, self._config["proj_dim"],
                                                           self._config["n_blocks"], state)

    @property
    def config(self):
        """The configuration as a dict (every key, as ``fusectl inspect`` shows it)."""
        return dict(self._config)

    @property
    def threads(self):
        """The worker threads the model runs on."""
        return self._threads

    def fuse(self, text, images, image_lengths=None, text_mask=None, text_lengths=None, per_step=False, plan=None,
             attention=False):
        """Fuses a batch, as ``fusectl fuse`` does, bit for bit.

        Parameters
        ----------
        text : array (B, L, txt_latent_dim), or (B, txt_latent_dim) already pooled; float16/32/64.
        images : array (B, T, img_latent_dim) or (B, T, P, img_latent_dim); float16/32/64.
        image_lengths : integer array (B,), optional — valid frames per sample, 1..T.
        text_mask : array (B, L), optional — nonzero marks a real token (the last one is pooled).
        text_lengths : integer array (B,), optional — real tokens per sample, 1..L (right padding).
        per_step : bool — also every step: output row t is the plain fusion of frames 0..t.
        plan : str, optional — "automatic" (default), "x-formed", "kv-formed", "projector-absorbed"
            or "reference", as ``--plan``.
        attention : bool — also return the attention maps.

        Returns
        -------
        float32 ndarray (B, 1, d), or (B, T, d) with ``per_step``; with ``attention`` a pair
        ``(output, maps)``, maps float32 (B, N, H, T·P), or (B, T, N, H, T·P) per step.

        C-contiguous float32 arrays are read in place; other float dtypes and layouts are converted
        once. Integer or bool latents, wrong shapes, NaN or Inf raise :class:`FusectlError`.
        """
        text = _latents(text, "text")
        images = _latents(images, "images")
        mask = None if text_mask is None else _mask(text_mask, "text_mask")
        image_lengths = None if image_lengths is None else _lengths(image_lengths, "image_lengths")
        text_lengths = None if text_lengths is None else _lengths(text_lengths, "text_lengths")
        text_shape, text_rank = _shape(text)
        images_shape, images_rank = _shape(images)
        output_count = ctypes.c_int64()
        attention_count = ctypes.c_int64()
        _check(_lib.fusectl_fuse_sizes(self._live_handle(), text_shape, text_rank, images_shape, images_rank,
                                       1 if per_step else 0, 1 if attention else 0,
                                       ctypes.byref(output_count), ctypes.byref(attention_count)))
        d = self._config["proj_dim"]
        batch = text.shape[0]
        frames = images.shape[1]
        tokens = frames * (images.shape[2] if images.ndim == 4 else 1)
        steps = frames if per_step else 1
        output = np.empty((batch, steps, d), dtype=np.float32)
        maps = None
        if attention:
            heads_shape = (self._config["n_blocks"], self._config["n_heads"], tokens)
            maps = np.empty(((batch, frames) if per_step else (batch,)) + heads_shape, dtype=np.float32)
        if mask is not None:
            mask_shape, mask_rank = _shape(mask)
        else:
            mask_shape, mask_rank = None, 0
        _check(_lib.fusectl_fuse(
            self._live_handle(),
            _floats(text), text_shape, text_rank,
            _floats(images), images_shape, images_rank,
            None if image_lengths is None else _ints(image_lengths), 0 if image_lengths is None else image_lengths.size,
            None if mask is None else _floats(mask), mask_shape, mask_rank,
            None if text_lengths is None else _ints(text_lengths), 0 if text_lengths is None else text_lengths.size,
            1 if per_step else 0, None if plan is None else str(plan).encode("utf-8"),
            _floats(output), output.size,
            None if maps is None else _floats(maps), 0 if maps is None else maps.size))
        return (output, maps) if attention else output

    def session(self, text, text_mask=None, window=None):
        """A streaming session for one acting agent (as ``fusectl stream``): one instruction, a
        history that grows by one frame per :meth:`Session.step`.

        text : (L, txt_latent_dim) token latents, or (txt_latent_dim,) pooled; text_mask : (L,).
        window : keep only the most recent ``window`` frames (None: the whole episode).
        """
        return Session(self, text, text_mask, window)

    def sessions(self, texts, text_mask=None, window=None):
        """E agents stepping together (one read of the weights per step for all of them); agent i's
        vectors are bit-identical to ``model.session(texts[i], ...)``'s.

        texts : (E, L, txt_latent_dim) or (E, txt_latent_dim) array, or a list of E instructions of
            their own lengths ((L_i, txt_latent_dim) or (txt_latent_dim,)).
        text_mask : (E, L) array, or a list of E (L_i,) masks (None entries for none), optional.
        window : as for :meth:`session`.
        """
        return Sessions(self, texts, text_mask, window)

    def close(self):
        """Frees the model; its sessions end too. Closing twice does nothing."""
        self._close_handle()

    def _open(self):
        handle = ctypes.c_void_p()
        _check(_lib.fusectl_model_open(*self._open_arguments, ctypes.byref(handle)))
        return handle.value

    def _live_handle(self):
        # A closed model keeps no handle; 1 is never a live handle, so the library refuses it by name.
        if self._handle is None:
            return 1
        if self._pid != os.getpid():
            # A forked process (a DataLoader worker): the parent's engine has no worker threads here
            # (it would run on this thread alone), and a lock another thread held at the fork stays
            # held forever; open the model anew, once, with threads and locks of its own.
            self._handle = self._open()
            self._pid = os.getpid()
        return self._handle


def _window(window):
    if window is None:
        return 0
    window = int(window)
    if window < 1:
        raise FusectlError("window: must be at least 1 frame, found %d" % window)
    return window


class Sessions(_OwnedHandle):
    """E acting agents that step together; see :meth:`Model.sessions`."""

    _close_function = "fusectl_sessions_close"

    def __init__(self, model, texts, text_mask=None, window=None):
        self._handle = None
        self._model = model
        self._d = model._config["proj_dim"]
        if isinstance(texts, (list, tuple)):
            instructions = [_latents(t, "text") for t in texts]
            if text_mask is None:
                masks = [None] * len(instructions)
            else:
                if len(text_mask) != len(instructions):
                    raise FusectlError("text_mask: %d masks for %d instructions" % (len(text_mask), len(instructions)))
                masks = [None if m is None else _mask(m, "text_mask") for m in text_mask]
        else:
            array = _latents(texts, "text")
            if array.ndim not in (2, 3):
                raise FusectlError("text: expected shape (E, L, %d) or (E, %d) (one instruction per agent), found %s"
                                   % (model._config["txt_latent_dim"], model._config["txt_latent_dim"],
                                      _shape_text(array.shape)))
            instructions = [array[i] for i in range(array.shape[0])]
            if text_mask is None:
                masks = [None] * len(instructions)
            else:
                mask = _mask(text_mask, "text_mask")
                if mask.ndim != 2 or mask.shape[0] != len(instructions):
                    raise FusectlError("text_mask: expected shape (%d, L) (one row per agent), found %s"
                                       % (len(instructions), _shape_text(mask.shape)))
                masks = [mask[i] for i in range(mask.shape[0])]
        if not instructions:
            raise FusectlError("text: needs at least one agent's instruction")
        handle = ctypes.c_void_p()
        _check(_lib.fusectl_sessions_open(model._live_handle(), len(instructions), _window(window),
                                          ctypes.byref(handle)))
        self._handle = handle.value
        self._pid = os.getpid()
        self._count = len(instructions)
        try:
            for i, (text, mask) in enumerate(zip(instructions, masks)):
                self._reset(i, text, mask)
        except BaseException:
            self.close()
            raise

    def __len__(self):
        return self._count

    def __reduce__(self):
        raise TypeError("fusectl sessions cannot be pickled: their histories live in this process; "
                        "pickle the Model and open sessions where it is unpickled")

    def _reset(self, agent, text, mask):
        if text is None:
            if mask is not None:
                raise FusectlError("text_mask: a mask needs its instruction (text)")
            _check(_lib.fusectl_sessions_reset(self._live(), agent, None, None, 0, None, None, 0))
            return
        text_shape, text_rank = _shape(text)
        if mask is not None:
            mask_shape, mask_rank = _shape(mask)
        else:
            mask_shape, mask_rank = None, 0
        try:
            _check(_lib.fusectl_sessions_reset(
                self._live(), agent, _floats(text), text_shape, text_rank,
                None if mask is None else _floats(mask), mask_shape, mask_rank))
        except FusectlError as error:
            if type(self) is Sessions and error.kind == "input":
                raise FusectlError("agent %d: %s" % (agent, error.message), error.kind) from None
            raise

    def _live(self):
        if self._handle is None:
            return 1
        if self._pid != os.getpid():
            raise FusectlError("sessions: opened in process %d before a fork; a forked process cannot step them "
                               "(open them in this process: model.sessions(...) reopens the model here)" % self._pid,
                               "handle")
        return self._handle

    def step(self, frames):
        """One frame per agent: (E, img_latent_dim) or (E, P, img_latent_dim), float16/32/64.
        Returns float32 (E, d): each agent's fused vector for its history so far. A refused step
        (shape, NaN/Inf, P changing within an episode) raises and changes no agent."""
        frames = _latents(frames, "frames")
        shape, rank = _shape(frames)
        output = np.empty((self._count, self._d), dtype=np.float32)
        _check(_lib.fusectl_sessions_step(self._live(), _floats(frames), shape, rank, _floats(output), output.size))
        return output

    def reset(self, i, text=None, text_mask=None):
        """Agent ``i`` starts a new episode, with a new instruction when ``text`` is given
        ((L, txt_latent_dim) or (txt_latent_dim,), with an optional (L,) mask)."""
        i = int(i)
        if not 0 <= i < self._count:
            raise FusectlError("agent: %d outside 0…%d" % (i, self._count - 1))
        self._reset(i, None if text is None else _latents(text, "text"),
                    None if text_mask is None else _mask(text_mask, "text_mask"))

    def steps(self, i):
        """Frames agent ``i`` has stepped since its episode began."""
        count = ctypes.c_int64()
        _check(_lib.fusectl_sessions_steps(self._live(), int(i), ctypes.byref(count)))
        return count.value

    def close(self):
        """Frees the sessions (also after their model was closed). Closing twice does nothing."""
        self._close_handle()


class Session(Sessions):
    """One acting agent's streaming session; see :meth:`Model.session`."""

    def __init__(self, model, text, text_mask=None, window=None):
        super().__init__(model, [text], None if text_mask is None else [text_mask], window)

    def step(self, frame):
        """One frame, (img_latent_dim,) or (P, img_latent_dim), float16/32/64 → float32 (d,): the
        fused vector for the history so far (bit-identical to ``fusectl stream``)."""
        frame = _latents(frame, "frame")
        if frame.ndim not in (1, 2):
            raise FusectlError("frame: expected shape (%d,) or (P, %d), found %s"
                               % (self._model._config["img_latent_dim"], self._model._config["img_latent_dim"],
                                  _shape_text(frame.shape)))
        return super().step(frame[np.newaxis])[0]

    def reset(self, text=None, text_mask=None):
        """A new episode, with a new instruction when ``text`` is given."""
        super().reset(0, text, text_mask)
