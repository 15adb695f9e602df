"""The project's error for a run, workdir or export that cannot go on as asked.

Its message says what was expected, what was found and what to do; the launch
scripts print it as one line and exit non-zero. Bad input data raise
`research.data.DataError` (a ValueError) instead.
"""


class ResearchError(RuntimeError):
  """Base of the errors a user can act on."""
