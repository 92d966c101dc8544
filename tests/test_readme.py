"""Every ``>>>`` example in README.md runs and prints what the README says."""

import doctest
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = [block for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
          if ">>>" in block]


def test_readme_examples_in_order():
    """The blocks share one namespace, as a reader following the README would."""
    namespace: dict = {}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for number, block in enumerate(BLOCKS):
        test = parser.get_doctest(block, namespace, f"README block {number}", str(README), 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs  # DocTest copies its globals: carry them to the next block
        assert runner.failures == 0, f"README block {number} failed (see the output above)"


def test_readme_has_examples():
    assert len(BLOCKS) >= 5
