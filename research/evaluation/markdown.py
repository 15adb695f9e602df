"""User-supplied text (class, file, recording and condition names) in Markdown reports, shown as written.

A class named `<b>|x`, `[a](b)` or `$y$` must not add HTML, split a table row, make a link or
start math in report.md. Plain text such as `p < 0.05` or `a -> b` stays as it is.
"""

from __future__ import annotations

import re
import urllib.parse

_PUNCTUATION = re.compile(r"([\\`*_\[\]|~$#])")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # the start of an HTML tag, comment or declaration
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")  # an HTML entity such as &amp; or &#60;


def escape(value) -> str:
  """`value` as literal Markdown text: Markdown punctuation backslash-escaped, HTML tags and
  entities neutralised, line breaks as spaces (a table cell stays one cell)."""
  text = _ENTITY.sub("&amp;", str(value))
  text = _TAG.sub("&lt;", text)
  text = _PUNCTUATION.sub(r"\\\1", text)
  return re.sub(r"[\r\n]+", " ", text)


def image(path) -> str:
  """An image link to a relative `path`, its alt text and target escaped."""
  path = str(path)
  stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
  return f"![{escape(stem)}]({urllib.parse.quote(path)})"
