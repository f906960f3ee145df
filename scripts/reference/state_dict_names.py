"""Finding a model's state_dict in a checkpoint and matching its names to the fusion model's, without torch.

scripts/convert_checkpoint.py uses it on torch tensors; its tests use numpy arrays (anything with a
`.shape` passes `is_tensor`). The rules are the ones fusectl's own loader applies (Sources/Fusion/Loading:
WeightRename, WeightStore.check, WeightNameMismatch), so that the converter and `fusectl fuse --rename`
say the same things:

- rename rules `old=new` apply to the names inside the prefix once it is stripped; of several rules the
  one with the longest matching `old` applies; a rule that matches no name, or two names renamed onto one
  key, is an error;
- one problem is reported as itself; several are reported together, every unexpected key, every missing
  key and every wrong shape, with the missing key that a tensor's shape identifies unambiguously (narrowed
  by block number and last name part where the shape is shared) and the rename rules that would fix those.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

# Names of the per-parameter buffers torch.optim keeps (Adam, AdamW, SGD with momentum, RMSprop,
# Adagrad, Adadelta, ...): a dict of tensors holding only these is optimizer state, not a model.
OPTIMIZER_BUFFERS = {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "square_avg",
                     "acc_delta", "sum", "grad_avg", "mu", "eta", "ax", "prev", "step_size"}


class NameError_(Exception):
    """A problem with the checkpoint's names or the options; the message names the file and the key."""


def parse_rename(rule: str) -> tuple[str, str]:
    """`old=new` (split at the first '=')."""
    if "=" not in rule:
        raise NameError_(f"--rename {rule}: expected OLD_PREFIX=NEW_PREFIX (e.g. img_proj.=vision_proj.proj.)")
    old, new = rule.split("=", 1)
    if not old and not new:
        raise NameError_(f"--rename {rule}: both sides are empty")
    return old, new


def apply_renames(rules: list[tuple[str, str]], name: str) -> str:
    """The longest-matching rule applied to `name`, or `name` itself."""
    matching = [rule for rule in rules if name.startswith(rule[0])]
    if not matching:
        return name
    old, new = max(matching, key=lambda rule: len(rule[0]))
    return new + name[len(old):]


def rename_all(names: list[str], rules: list[tuple[str, str]], source: str, prefix: str = "") -> dict[str, str]:
    """Each name's model key; rules that match nothing and collisions are errors naming the file."""
    for old, new in rules:
        if not any(name.startswith(old) for name in names):
            raise NameError_(f"{source}: rename rule \"{old}={new}\": no tensor name starts with \"{prefix + old}\"")
    keys: dict[str, str] = {}
    owner: dict[str, str] = {}
    for name in sorted(names):
        key = apply_renames(rules, name)
        if key in owner:
            used = " ".join(f"{o}={n}" for o, n in rules if name.startswith(o) or owner[key].startswith(o))
            raise NameError_(f"{source}: rename rule \"{used}\": \"{prefix + owner[key]}\" and \"{prefix + name}\" "
                             f"would both become \"{key}\"")
        keys[name] = key
        owner[key] = name
    return keys


def _number(key: str) -> Optional[int]:
    found = re.search(r"(?:^|\.)(\d+)(?:\.|$)", key)
    return int(found.group(1)) if found else None


def _leaf(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def leftover_prefix(key: str, expected: dict[str, tuple[int, ...]]) -> Optional[str]:
    """The prefix before a model key that `key` ends with after a dot, e.g. 'policy.fusion.'."""
    for known in sorted(expected):
        if key.endswith("." + known):
            return key[: -len(known)]
    return None


def rename_rule(name: str, key: str) -> str:
    """The rule mapping `name` onto `key` by their differing starts (common trailing name parts kept)."""
    a, b = name.split("."), key.split(".")
    tail = 0
    while len(a) > 1 and len(b) > 1 and a[-1] == b[-1]:
        a.pop()
        b.pop()
        tail += 1
    return f"{name}={key}" if tail == 0 else ".".join(a) + ".=" + ".".join(b) + "."


def check_names(shapes: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]], source: str,
                prefix: str = "", file_name: Optional[dict[str, str]] = None) -> None:
    """Raises NameError_ unless `shapes` (model key → shape) are exactly `expected` (state_dict order).

    `file_name` maps a model key to the tensor's name in the checkpoint, prefix included (default:
    prefix + key); every message names tensors that way.
    """
    file_name = file_name or {}

    def shown(key: str) -> str:
        return file_name.get(key, prefix + key)

    unexpected = sorted(k for k in shapes if k not in expected)
    missing = [k for k in expected if k not in shapes]
    wrong = [k for k in expected if k in shapes and tuple(shapes[k]) != expected[k]]

    def hint(key: str) -> str:
        whole = leftover_prefix(shown(key), expected)
        if whole is None:
            return ""
        known = shown(key)[len(whole):]
        return f"; it looks like {known!r} under the prefix {whole!r}: pass --prefix {whole}"

    def single_unexpected(key: str) -> NameError_:
        return NameError_(f"{source}: unexpected tensor {shown(key)!r}: not a tensor of the model{hint(key)}")

    if len(unexpected) + len(missing) + len(wrong) == 1 or (not unexpected and not missing and wrong):
        if unexpected:
            raise single_unexpected(unexpected[0])
        if missing:
            raise NameError_(f"{source}: missing tensor {prefix + missing[0]!r}: expected shape {expected[missing[0]]}")
        if wrong:
            k = wrong[0]
            raise NameError_(f"{source}: tensor {shown(k)!r}: expected shape {expected[k]} from the configuration, "
                             f"found {tuple(shapes[k])}")
        return
    if not (unexpected or missing or wrong):
        return
    hinted = [k for k in unexpected if leftover_prefix(shown(k), expected) is not None]
    if hinted and len({leftover_prefix(shown(k), expected) for k in hinted}) == 1:
        raise single_unexpected(hinted[0])

    def suggestion(key: str) -> Optional[str]:
        shape = tuple(shapes[key])
        candidates = [m for m in missing if expected[m] == shape]
        rivals = [u for u in unexpected if tuple(shapes[u]) == shape]
        if len(candidates) > 1 or len(rivals) > 1:
            candidates = [m for m in candidates if _number(m) == _number(key) and _leaf(m) == _leaf(key)]
            rivals = [u for u in rivals if _number(u) == _number(key) and _leaf(u) == _leaf(key)]
        return candidates[0] if len(candidates) == 1 and len(rivals) == 1 else None

    counts = [f"{n} {what}" for n, what in ((len(unexpected), "unexpected"), (len(missing), "missing"),
                                            (len(wrong), "of another shape")) if n]
    lines = [f"{source}: the tensors do not match the model's weights ({', '.join(counts)}):"]
    rules: list[str] = []
    for key in unexpected:
        renamed = f" (renamed to {key!r})" if shown(key) != prefix + key else ""
        target = suggestion(key)
        shape = tuple(shapes[key])
        if target:
            lines.append(f"  unexpected {shown(key)!r}{renamed} {shape} looks like {target!r}")
            rules.append(rename_rule(shown(key)[len(prefix):], target))
        else:
            lines.append(f"  unexpected {shown(key)!r}{renamed} {shape}: not a tensor of the model")
    for key in missing:
        lines.append(f"  missing {prefix + key!r}: expected shape {expected[key]}")
    for key in wrong:
        lines.append(f"  tensor {shown(key)!r}: expected shape {expected[key]} from the configuration, found {tuple(shapes[key])}")
    olds: dict[str, set[str]] = {}
    for rule in rules:
        old, new = rule.split("=", 1)
        olds.setdefault(old, set()).add(new)
    kept = list(dict.fromkeys(r for r in rules if len(olds[r.split("=", 1)[0]]) == 1))
    if kept:
        lines.append("  the suggested names follow from: " + " ".join(f"--rename {r}" for r in kept))
    raise NameError_("\n".join(lines))


def tensor_dicts(value: Any, is_tensor: Callable[[Any], bool], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict]]:
    """Every dict (at any depth) whose values are all tensors, with its path of keys."""
    found = []
    if isinstance(value, dict):
        if value and all(isinstance(k, str) for k in value) and all(is_tensor(v) for v in value.values()):
            found.append((path, value))
        else:
            for key, item in value.items():
                found += tensor_dicts(item, is_tensor, path + (str(key),))
    return found


def looks_like_optimizer_state(checkpoint: Any, path: tuple[str, ...], tensors: dict) -> bool:
    """A dict of tensors holding only optimizer buffers, or one inside an optimizer's state_dict
    (a dict with 'state' and 'param_groups')."""
    if set(tensors) <= OPTIMIZER_BUFFERS:
        return True
    value = checkpoint
    for part in path:
        if isinstance(value, dict) and "param_groups" in value and "state" in value:
            return True
        if not isinstance(value, dict):
            return False
        value = value.get(part, value.get(int(part)) if part.isdigit() else None)
    return False


def find_state_dict(checkpoint: Any, source: str, key: Optional[str], prefix: str,
                    is_tensor: Callable[[Any], bool]) -> dict:
    """The state_dict inside `checkpoint`: the one at `key` (a path through nested dicts, 'a/b'), else the
    only dict of tensors in it that looks like a model (optimizer state is never a candidate), else the
    only one of those holding the model's text projector under `prefix`."""
    if key is not None:
        value = checkpoint
        for part in key.split("/"):
            if not isinstance(value, dict) or part not in value:
                raise NameError_(f"{source}: no entry {key!r} (stopped at {part!r})")
            value = value[part]
        candidates = tensor_dicts(value, is_tensor)
        if len(candidates) != 1 or candidates[0][0] != ():
            raise NameError_(f"{source}: the entry {key!r} is not a dict of tensors")
        return candidates[0][1]
    every = tensor_dicts(checkpoint, is_tensor)
    if not every:
        raise NameError_(f"{source}: no dict of tensors (a state_dict) found in the checkpoint")
    candidates = [c for c in every if not looks_like_optimizer_state(checkpoint, *c)]
    if len(candidates) == 1:
        return candidates[0][1]
    if len(candidates) > 1:
        marker = "text_proj.proj.weight"
        for under in (prefix, ""):  # under the prefix first; else anywhere, so that a wrong prefix is named later
            holding = [c for c in candidates if any(k.startswith(under) and k.endswith(marker) for k in c[1])]
            if len(holding) == 1:
                return holding[0][1]
    left_out = len(every) - len(candidates)
    note = f"; {left_out} optimizer-state dict{'s' if left_out != 1 else ''} left out" if left_out else ""
    if not candidates:
        raise NameError_(f"{source}: no dict of tensors that looks like a model ({left_out} optimizer-state "
                         f"dict{'s' if left_out != 1 else ''} left out); name the state_dict with --key")
    names = ", ".join("/".join(path) or "(the checkpoint itself)" for path, _ in candidates)
    raise NameError_(f"{source}: several dicts of tensors that look like a model ({names}{note}); "
                     "name the state_dict with --key")
