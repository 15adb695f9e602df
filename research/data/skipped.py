"""The one record of inputs a reader left out: written by every reader, read by every report.

`meta['skipped']` is a list of items, each {'item': file or folder (relative to the data
root), 'reason': short code, 'class': class name or None, 'detail': the reader's message}.
`summary(items)` counts them per reason and per class for reports.
"""

from __future__ import annotations

import collections
from typing import Iterable


def item(name: str, reason: str, detail: str = "", class_name: str | None = None) -> dict:
  """One skipped input."""
  return {"item": str(name), "reason": str(reason), "class": None if class_name is None else str(class_name),
          "detail": str(detail)}


def summary(items: Iterable[dict] | None) -> dict:
  """{'total', 'by_reason': {reason: n}, 'by_class': {class: {reason: n}}, 'items': [...]}."""
  items = list(items or [])
  for entry in items:
    if not isinstance(entry, dict) or "item" not in entry or "reason" not in entry:
      raise ValueError(f"meta['skipped'] must be a list of {{'item', 'reason', ...}} records "
                       f"(research.data.skipped.item); found {entry!r}")
  by_reason = collections.Counter(entry["reason"] for entry in items)
  by_class: dict[str, collections.Counter] = {}
  for entry in items:
    if entry.get("class") is not None:
      by_class.setdefault(entry["class"], collections.Counter())[entry["reason"]] += 1
  return {"total": len(items), "by_reason": dict(sorted(by_reason.items())),
          "by_class": {name: dict(sorted(counts.items())) for name, counts in by_class.items()},
          "items": items}
