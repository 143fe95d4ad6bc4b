"""What several test modules share: simulators with a known truth, export builders, fixtures."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # hand-made exports and notebooks the tests read
