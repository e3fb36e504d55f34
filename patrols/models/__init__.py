"""The domain's models, one module per concept (names from DESIGN.md's vocabulary)."""

from .geo import District, Region, Settlement
from .people import Group, Membership, RosterImport, User, Volunteer, VolunteerStatusChange

__all__ = [
    "District",
    "Group",
    "Membership",
    "Region",
    "RosterImport",
    "Settlement",
    "User",
    "Volunteer",
    "VolunteerStatusChange",
]
