"""What every CLI error must look like: exactly one line, ``neurosim: error: ...``, exit 2."""

from __future__ import annotations


def assert_one_line_error(result, *fragments: str) -> str:
    """Assert that a CliRunner ``result`` failed with one ``neurosim: error:`` line (stdout
    and stderr together) holding every fragment; return that line."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, result.output
    assert lines[0].startswith("neurosim: error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
