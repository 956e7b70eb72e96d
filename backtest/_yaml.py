"""The one YAML reader of configs, catalogs and event files: safe and bounded.

PyYAML's ``safe_load`` builds only plain data, but it still expands aliases (a
"billion laughs" file of a few hundred bytes grows without bound in memory and time)
and lets a repeated key silently replace the earlier one. :func:`load` refuses both,
before anything is built from them, with the file and line:

* an alias (``*name``), and so a merge key ``<<: *name``, is an error: the loaded data
  is then never larger than the text (a config shares settings with ``extends:``);
* a key that appears twice in one mapping is an error naming both lines;
* nesting deeper than :data:`MAX_DEPTH` is an error (instead of a ``RecursionError``).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node

__all__ = ["MAX_DEPTH", "SafeLoader", "load"]

#: Deepest nesting of lists and mappings accepted (configs need fewer than 10).
MAX_DEPTH = 100


class YamlRefused(yaml.YAMLError):
    """A construct :func:`load` refuses (alias, duplicate key, depth), with its line."""

    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        line = f"line {mark.line + 1}: " if mark is not None else ""
        super().__init__(f"{line}{message}")


class SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without aliases, duplicate keys or unbounded nesting.

    Subclass it to change the implicit resolvers (as :mod:`backtest.events` does);
    use it through :func:`load`.
    """

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise YamlRefused(
                f"YAML aliases are not accepted (*{event.anchor}); write the value out "
                "(configs can share settings with 'extends:')",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlRefused(
                    f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark
                )
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if first is not None:
                    mark = key_node.start_mark
                    at = f"line {first.line + 1}"
                    if first.line == mark.line:
                        at += f", column {first.column + 1}; again at column {mark.column + 1}"
                    raise YamlRefused(
                        f"key {key!r} appears twice in one mapping (first at {at}); YAML "
                        "keeps only the last, so remove one",
                        mark,
                    )
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def load(
    text: str, where: str, error: type[Exception], loader: type[SafeLoader] = SafeLoader
) -> Any:
    """Parse YAML `text` safely; any problem raises `error` naming `where` and the line.

    Parameters
    ----------
    text : str
        The YAML document.
    where : str
        The file (or object) named in error messages.
    error : type
        Exception class raised (``ConfigError``, ``DataValidationError``).
    loader : type, optional
        A :class:`SafeLoader` subclass.

    Returns
    -------
    object
        The parsed document (``None`` when empty).

    Raises
    ------
    error
        Not valid YAML, an alias, a duplicate key or too deep nesting:
        ``"configs/x.yaml: line 7: key 'fast' appears twice ..."``.

    Examples
    --------
    >>> load("a: 1\\nb: [2, 3]\\n", "x.yaml", ValueError)
    {'a': 1, 'b': [2, 3]}
    >>> load("a: 1\\na: 2\\n", "x.yaml", ValueError)
    Traceback (most recent call last):
    ...
    ValueError: x.yaml: line 2: key 'a' appears twice in one mapping (first at line 1); YAML keeps only the last, so remove one
    """  # noqa: E501
    try:
        return yaml.load(text, Loader=loader)  # a SafeLoader subclass
    except YamlRefused as exc:
        raise error(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid YAML ({exc})") from None
    except RecursionError:
        raise error(f"{where}: nested too deeply to read") from None
