"""The posts: what each one reports and which key sends it; `for_site` picks the one a station stands at."""
from __future__ import annotations

from protocols.messages import DEPARTMENT_POSTS, ROLE_POSTS
from stations.terminal.posts import concierge, department, gate, lobby, model_unit, parking
from stations.terminal.posts.base import Action, Area, Count, Field, Post, Site

_POSTS = {"gate": gate.post, "parking": parking.post, "concierge": concierge.post,
          "lobby": lobby.post, "model_unit": model_unit.post}
_POSTS.update({p: department.post for p in DEPARTMENT_POSTS + ROLE_POSTS})   # issue 16 item 3


def for_site(site: Site) -> Post:
    """The post of this site; an unknown post still gets a terminal that reports incidents."""
    make = _POSTS.get(site.post)
    if make is not None:
        return make(site)
    from stations.terminal.posts.common import common_actions
    return Post(site.post, common_actions(site), lambda *_: [])


__all__ = ["Action", "Area", "Count", "Field", "Post", "Site", "for_site"]
