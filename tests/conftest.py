"""Tiny hand-made weeks whose optima can be worked out by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iopsched import Instance

MON_WED = [
    {"day": "mon", "start": "17:00", "end": "21:00"},
    {"day": "wed", "start": "17:00", "end": "21:00"},
]


def tiny_data() -> dict[str, Any]:
    """One therapist, one 2x90-min group, two participants (see test_tiny_optimum)."""
    return {
        "name": "tiny",
        "program_hours": copy.deepcopy(MON_WED),
        "rooms": [{"id": "R1", "capacity": 8}, {"id": "R2", "capacity": 3}],
        "therapists": [
            {
                "id": "T1",
                "modalities": ["group", "education", "individual", "family"],
                "availability": copy.deepcopy(MON_WED),
                "max_hours_per_week": 10,
            }
        ],
        "groups": [
            {
                "id": "G1",
                "kind": "group",
                "duration_minutes": 90,
                "meetings_per_week": 2,
                "min_size": 2,
                "max_size": 8,
            }
        ],
        "participants": [
            {
                "id": "P1",
                "availability": copy.deepcopy(MON_WED),
                "plan": {
                    "min_hours": 4,
                    "max_hours": 6,
                    "individual": {"sessions": 1, "minutes": 60},
                },
            },
            {
                "id": "P2",
                "availability": copy.deepcopy(MON_WED),
                "plan": {"min_hours": 3, "max_hours": 6},
                "preferred": [{"day": "mon", "start": "18:00", "end": "21:00"}],
            },
        ],
    }


@pytest.fixture
def tiny() -> dict[str, Any]:
    return tiny_data()


def make(data: dict[str, Any]) -> Instance:
    return Instance.model_validate(data)
