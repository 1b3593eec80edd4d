"""Training checkpoints: model, optimizer, scheduler, epoch and every random state.

A checkpoint is an ordinary retrograd file (see :func:`retrograd.save`) holding a
dict; :func:`load_checkpoint` puts each part back where it came from, so that a
resumed run continues exactly as the uninterrupted one would have.
"""

from __future__ import annotations

from .. import backend
from .serialization import CheckpointError, load, save

__all__ = ["save_checkpoint", "load_checkpoint"]

CHECKPOINT_FORMAT = "retrograd.checkpoint"
_RESERVED = ("format", "model", "optimizer", "scheduler", "epoch", "rng")


def _generator_of(obj, what):
    """The ``retrograd.Generator`` behind ``obj`` (a Generator or a DataLoader), or None."""
    if obj is None or isinstance(obj, backend.Generator):
        return obj
    if hasattr(obj, "get_state") and hasattr(obj, "set_state"):
        return obj
    # a DataLoader (or anything with a sampler) that draws from its own generator;
    # one drawing from the global generator needs nothing: the global state is saved
    for holder in (obj, getattr(obj, "sampler", None),
                   getattr(getattr(obj, "batch_sampler", None), "sampler", None)):
        gen = getattr(holder, "generator", None)
        if gen is not None:
            return gen
    if hasattr(obj, "__iter__") or hasattr(obj, "sampler"):
        return None
    raise TypeError(f"{what}: generator must be a retrograd.Generator, a DataLoader, or a list "
                    f"or dict of them; got {type(obj).__name__}")


def _generator_states(spec, what):
    """Mirror ``spec`` (one, a list or a dict of generators/loaders) with their states."""
    if isinstance(spec, dict):
        return {str(k): _generator_states(v, what) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_generator_states(v, what) for v in spec]
    gen = _generator_of(spec, what)
    return None if gen is None else gen.get_state()


def _restore_generators(spec, states, path):
    if isinstance(spec, dict):
        if not isinstance(states, dict):
            raise CheckpointError(f"load_checkpoint: {path!r} holds generator states as "
                                  f"{type(states).__name__}, but a dict of generators was given")
        for k, v in spec.items():
            if str(k) not in states:
                raise CheckpointError(f"load_checkpoint: {path!r} has no generator state named "
                                      f"{str(k)!r} (it has {sorted(states)})")
            _restore_generators(v, states[str(k)], path)
        return
    if isinstance(spec, (list, tuple)):
        if not isinstance(states, list) or len(states) != len(spec):
            n = len(states) if isinstance(states, list) else 1
            raise CheckpointError(f"load_checkpoint: {path!r} holds {n} generator state(s), but "
                                  f"{len(spec)} generators were given")
        for g, s in zip(spec, states):
            _restore_generators(g, s, path)
        return
    gen = _generator_of(spec, "load_checkpoint")
    if gen is None:
        return
    if states is None or isinstance(states, (list, dict)):
        raise CheckpointError(f"load_checkpoint: {path!r} holds no state for the generator that "
                              "was given (was it saved with the same `generator=` argument?)")
    gen.set_state(states)


def _scheduler_states(scheduler):
    if isinstance(scheduler, (list, tuple)):
        return [s.state_dict() for s in scheduler]
    return scheduler.state_dict()


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=None, *, generator=None,
                    **extra):
    """Save a training checkpoint atomically: everything needed to resume exactly.

    The file holds ``{'format': 'retrograd.checkpoint', 'model': ..., 'optimizer': ...,
    'scheduler': ..., 'epoch': ..., 'rng': {'global': ..., 'generators': ...}, **extra}``
    (optimizer and scheduler only when given). The global random state
    (:func:`retrograd.get_rng_state`) is always saved; pass the training
    ``DataLoader`` (or its ``Generator``) as ``generator`` when it shuffles with its
    own generator, so the resumed run sees the same batch order.

    Args:
        path (str or os.PathLike or binary file object): where to write.
        model (Module): its ``state_dict()`` is saved.
        optimizer (Optimizer, optional): its ``state_dict()`` is saved.
        scheduler (LRScheduler or list of them, optional): its ``state_dict()``.
        epoch (int, optional): the number of epochs completed, i.e. the
            ``initial_epoch`` to resume with.
        generator (Generator, DataLoader, or a list or dict of them, optional):
            random generators whose state must be restored on resume.
        **extra: any other savable values (see :func:`retrograd.save`), e.g.
            ``history=history.to_dict()``.

    Example::

        >>> save_checkpoint("ckpt.safetensors", model, opt, sched, epoch=5,
        ...                 generator=train_loader)             # doctest: +SKIP
    """
    clash = [k for k in extra if k in _RESERVED]
    if clash:
        raise ValueError(f"save_checkpoint: {clash} are reserved checkpoint entries; pass them "
                         "through the named arguments (model, optimizer, scheduler, epoch)")
    if not hasattr(model, "state_dict"):
        raise TypeError(f"save_checkpoint: model must have a state_dict() (an nn.Module), got "
                        f"{type(model).__name__}")
    ckpt = {"format": CHECKPOINT_FORMAT, "model": model.state_dict()}
    if optimizer is not None:
        ckpt["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        ckpt["scheduler"] = _scheduler_states(scheduler)
    if epoch is not None:
        ckpt["epoch"] = int(epoch)
    ckpt["rng"] = {"global": backend.get_rng_state(),
                   "generators": _generator_states(generator, "save_checkpoint")}
    ckpt.update(extra)
    save(ckpt, path)


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, *, generator=None,
                    map_location=None, strict=True, restore_rng=True):
    """Load a checkpoint written by :func:`save_checkpoint` and restore every part given.

    Restores the model's parameters and buffers, the optimizer's and scheduler's
    state, the global random state and the given generators' states, then returns
    the whole checkpoint dict (``ckpt['epoch']`` and any extra entries included).

    Args:
        path (str or os.PathLike or binary file object): the checkpoint file.
        model (Module, optional): receives ``ckpt['model']``; a different
            architecture raises the Module's error naming the mismatched keys.
        optimizer (Optimizer, optional): receives ``ckpt['optimizer']``.
        scheduler (LRScheduler or list of them, optional): receives ``ckpt['scheduler']``.
        generator: the same structure of generators/DataLoaders that was given to
            :func:`save_checkpoint`; their states are restored.
        map_location: see :func:`retrograd.load`.
        strict (bool): passed to ``model.load_state_dict``.
        restore_rng (bool): restore the global random state (default True).

    Returns:
        dict: the checkpoint.

    Example::

        >>> ckpt = load_checkpoint("ckpt.safetensors", model, opt, sched,
        ...                        generator=train_loader)      # doctest: +SKIP
        >>> fit(model, train_loader, ..., initial_epoch=ckpt["epoch"])  # doctest: +SKIP
    """
    name = str(path) if not hasattr(path, "read") else getattr(path, "name", "<file object>")
    ckpt = load(path, map_location=map_location)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"load_checkpoint: {name!r} is not a checkpoint written by save_checkpoint (it holds "
            f"a {type(ckpt).__name__}); for a plain state dict use "
            "model.load_state_dict(retrograd.load(path))"
        )

    def part(key, target):
        if key not in ckpt:
            raise CheckpointError(f"load_checkpoint: {name!r} holds no {key!r} state, but "
                                  f"{key}= was given")
        return ckpt[key]

    if model is not None:
        model.load_state_dict(part("model", model), strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(part("optimizer", optimizer))
    if scheduler is not None:
        states = part("scheduler", scheduler)
        if isinstance(scheduler, (list, tuple)):
            if not isinstance(states, list) or len(states) != len(scheduler):
                raise CheckpointError(f"load_checkpoint: {name!r} does not hold "
                                      f"{len(scheduler)} scheduler states")
            for s, st in zip(scheduler, states):
                s.load_state_dict(st)
        else:
            if isinstance(states, list):
                raise CheckpointError(f"load_checkpoint: {name!r} holds {len(states)} scheduler "
                                      "states; pass the schedulers as a list")
            scheduler.load_state_dict(states)
    rng = ckpt.get("rng") or {}
    if restore_rng and rng.get("global") is not None:
        backend.set_rng_state(rng["global"])
    if generator is not None:
        _restore_generators(generator, rng.get("generators"), name)
    return ckpt
